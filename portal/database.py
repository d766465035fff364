"""The SQLAlchemy handle and declarative base: the one Flask extension the domain may import."""
import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.functions import FunctionElement

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


# SQLite's LIKE already ignores ASCII case and its lower() folds nothing else, so there the bare column matches the
# same rows as lower(column), without a function call per row; PostgreSQL's trigram indexes are built on lower(...).
class CaseFolded(FunctionElement):
    """lower(column) where the database needs it to compare without case."""

    type = sa.String()
    name = "case_folded"
    inherit_cache = True


@compiles(CaseFolded)
def _lower_sql(element, compiler, **kw):
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(CaseFolded, "sqlite")
def _bare_column_sql(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


class UtcDay(FunctionElement):
    """A UTC timestamp's calendar day as 'YYYY-MM-DD', so the database counts per day instead of Python."""

    type = sa.String()
    name = "utc_day"
    inherit_cache = True


@compiles(UtcDay)
def _utc_day_sql(element, compiler, **kw):
    return f"to_char(timezone('UTC', {compiler.process(element.clauses, **kw)}), 'YYYY-MM-DD')"


@compiles(UtcDay, "sqlite")
def _utc_day_text_sql(element, compiler, **kw):
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 10)"  # stored as 'YYYY-MM-DD HH:MM:SS' in UTC


class UtcIsoText(FunctionElement):
    """A UTC timestamp as Python's isoformat(timespec="microseconds") text, written by the database for bulk exports."""

    type = sa.String()
    name = "utc_iso_text"
    inherit_cache = True


@compiles(UtcIsoText)
def _utc_iso_sql(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    return f"""to_char(timezone('UTC', {column}), 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""


@compiles(UtcIsoText, "sqlite")
def _utc_iso_text_sql(element, compiler, **kw):
    return f"replace({compiler.process(element.clauses, **kw)}, ' ', 'T') || '+00:00'"  # always with microseconds


def contains_text(column, text: str):
    """Case-insensitive 'contains' where % and _ typed into a search are literal characters, not wildcards."""
    return CaseFolded(column).contains(text.lower(), autoescape=True)
