"""The SQLAlchemy handle and declarative base: the one Flask extension the domain may import."""
import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose metadata carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)


def get_or_404(model, ident, message: str):
    """Load one row by primary key for a page, or raise NotFound with a message the person understands."""
    from portal.exceptions import NotFound

    row = db.session.get(model, ident) if ident is not None else None
    if row is None:
        raise NotFound(message)
    return row


def contains_text(column, text: str):
    """Case-insensitive 'contains' where % and _ typed into a search are literal characters, not wildcards."""
    return sa.func.lower(column).contains(text.lower(), autoescape=True)
