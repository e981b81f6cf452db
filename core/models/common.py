"""Column types and mixins shared by every table."""

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo
from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use UTC")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value
        return stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored.astimezone(UTC)


def not_null(value: Any) -> Any:
    """For a change's fields whose null means nothing: leave one out to keep its value."""
    if value is None:
        raise ValueError("may be left out, not null")
    return value


def created_at_field() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def name_of_subject(subject: str) -> str:
    """A readable name for an audit subject (`key:ci-bot` -> `ci-bot`), for rows written before
    the actor's name was stored beside it."""
    return subject.partition(":")[2] or subject


def _created_by_name(name: str | None, info: ValidationInfo) -> str:
    return name or name_of_subject(str(info.data.get("created_by") or ""))


def _decided_by_name(name: str | None, info: ValidationInfo) -> str | None:
    decided_by = info.data.get("decided_by")
    return name or (name_of_subject(decided_by) if decided_by else None)


# The actor's name as recorded, else derived from the subject beside it (declared before it).
CreatedByName = Annotated[str, BeforeValidator(_created_by_name)]
DecidedByName = Annotated[str | None, BeforeValidator(_decided_by_name)]
CREATED_BY_HELP = (
    "Who created it, as audit fields record callers: `key:<key name>` or `oidc:<token subject>`."
)
CREATED_BY_NAME_HELP = (
    "Who created it, for people to read: the API key's name or the token's name when it was "
    "created (before names were recorded: `created_by` after its colon)."
)


class TenantOwned(SQLModel):
    """Mixin of every tenant-owned table; `core.db` scopes all access through it."""

    # Set at flush from the session's scope when left empty.
    tenant_id: str | None = Field(
        default=None, foreign_key="tenant.id", index=True, nullable=False, max_length=40
    )
