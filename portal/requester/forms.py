"""Requester forms (CSRF from Flask-WTF)."""
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError


class ServiceChoice(RadioField):
    """Radio cards: nothing preselected, and only a service on the page (any other id never reaches a query)."""

    def pre_validate(self, form):
        if self.data is not None and self.data not in {value for value, _ in self.choices or ()}:
            raise ValidationError("Choose one of the services shown.")


class TicketForm(FlaskForm):
    """Raise a ticket: service, subject, description, and who it is about for leaver-type services."""

    category = ServiceChoice("Service", coerce=int, validators=[InputRequired(message="Choose the service you need.")])
    subject = StringField("Subject", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Length(max=10000)])
    about = EmailField("Person this is about (email)", validators=[Optional(), Email(), Length(max=254)],
                       description="Only for requests about someone else, such as a leaver. Leave empty if it is about you.")
    submit = SubmitField("Raise ticket")


class DecisionForm(FlaskForm):
    """Approve or reject an approval, with a comment (required to reject); a POST, never a link."""

    comment = TextAreaField("Comment", validators=[Length(max=2000)],
                            description="The person who asked reads it. Required when you reject.")
    approve = SubmitField("Approve")
    reject = SubmitField("Reject")


class CommentForm(FlaskForm):
    """A requester's comment on their ticket, read by IT."""

    body = TextAreaField("Comment", validators=[DataRequired(message="Write a comment."), Length(max=5000)])
    submit = SubmitField("Add comment")


def choice(form: DecisionForm) -> bool | None:
    """Which button was pressed: True (Approve), False (Reject) or None (neither)."""
    return True if form.approve.data else (False if form.reject.data else None)
