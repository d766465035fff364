"""Forms of the public sign-in pages (CSRF from Flask-WTF)."""
from flask_wtf import FlaskForm
from wtforms import EmailField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length


class AskItForm(FlaskForm):
    """Can't sign in? A work email and what happens; nothing else is asked or revealed."""

    email = EmailField("Your work email", validators=[DataRequired(message="Enter your work email."), Email(),
                                                     Length(max=254)])
    message = TextAreaField("What happens when you try to sign in?",
                            validators=[DataRequired(message="Say what happens."), Length(max=2000)])
    submit = SubmitField("Send to IT")
