"""Shared schema pieces: UTC timestamps, bounded text, ids and pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

MAX_ID = 2**63 - 1  # BIGINT: anything larger can only be a mistake


def _printable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value.strip()


def text(max_length: int, min_length: int = 0) -> object:
    """A trimmed string of bounded length (the database refuses NUL, so the schema does first)."""
    return Annotated[str, Field(max_length=max_length), AfterValidator(_printable),
                     AfterValidator(lambda v: _at_least(v, min_length))]


def _at_least(value: str, n: int) -> str:
    if len(value) < n:
        raise ValueError("must not be empty" if n == 1 else f"must have at least {n} characters")
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# The database stores naive UTC; clients get it with an explicit offset.
UtcDatetime = Annotated[
    datetime, PlainSerializer(lambda dt: dt.replace(tzinfo=UTC).isoformat(), return_type=str)
]

Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
Name = text(50, 1)
Text50 = text(50)
Phone = Annotated[str, Field(max_length=20, pattern=r"^\+?[0-9][0-9-]{2,19}$")]


class Input(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    pass


T = TypeVar("T")


class Page(Output, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
