"""Cursor pagination: ``limit`` (1-500, default 50) and an opaque ``cursor``.

A cursor is the base64url (unpadded) JSON of ``[list name, last sort key]``: the next page
starts strictly after that key, so items added or removed meanwhile cause neither duplicates
nor gaps among those that stay. A cursor that does not decode, or that belongs to another list,
is a 400.
"""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar, cast

import msgspec
from litestar.params import Parameter

from entrypoints.api.problems import BadRequest

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Cursor", "Limit", "Pager"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description="page size (1-500)")]
Cursor = Annotated[
    str | None,
    Parameter(max_length=512, description="`next_cursor` of the previous page; absent: first"),
]

T = TypeVar("T")
K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Pager(Generic[K]):
    """The cursors of one list: its name and the type of its sort key."""

    name: str
    key_type: Any

    def encode(self, key: K) -> str:
        raw = msgspec.json.encode([self.name, key])
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def decode(self, cursor: str | None) -> K | None:
        """The sort key a cursor continues after (None for the first page)."""
        if cursor is None:
            return None
        try:
            raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_",
                                   validate=True)
            name, raw_key = msgspec.json.decode(raw, type=tuple[str, Any])
            key: K = msgspec.convert(raw_key, type=self.key_type)
        except (binascii.Error, ValueError, msgspec.DecodeError):
            raise BadRequest("malformed cursor", "cursor") from None
        if name != self.name:
            raise BadRequest(f"this cursor does not belong to the {self.name} list", "cursor")
        return key

    def page(
        self, items: Sequence[T], key: Callable[[T], K], limit: int, cursor: str | None
    ) -> tuple[list[T], str | None]:
        """One page of ``items`` (sorted by ``key``) after the cursor, and the next cursor."""
        after = self.decode(cursor)
        sort_key: Callable[[T], Any] = key  # the keys are comparable (str, int or tuples)
        start = 0 if after is None else bisect.bisect_right(items, cast(Any, after), key=sort_key)
        chunk = list(items[start:start + limit])
        more = start + limit < len(items)
        return chunk, (self.encode(key(chunk[-1])) if more and chunk else None)

    def next_cursor(self, fetched: list[T], key: Callable[[T], K], limit: int) -> str | None:
        """For a backend queried with ``limit + 1``: trim ``fetched`` to the page in place and
        return the next cursor when there was one more."""
        if len(fetched) <= limit:
            return None
        del fetched[limit:]
        return self.encode(key(fetched[-1]))
