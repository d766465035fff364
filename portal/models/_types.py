"""Column helpers shared by the models: UTC timestamps and portable JSON."""
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator

# The largest id an INTEGER primary key holds (PostgreSQL); larger ids from URLs or forms are refused early.
MAX_ID = 2 ** 31 - 1


def utcnow() -> datetime:
    """Timezone-aware now, so comparisons never mix naive and aware datetimes."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores UTC and always returns aware datetimes, on SQLite as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


class SignInPrincipal:
    """Flask-Login's UserMixin contract, written out so the models (and the domain above them) need no Flask."""

    __hash__ = object.__hash__
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses inactive users; the loader already filters disabled ones."""
        return True

    def __eq__(self, other) -> bool:
        return isinstance(other, SignInPrincipal) and self.get_id() == other.get_id()
