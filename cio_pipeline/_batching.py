"""Pack encoded operations into /api/v2/batch request bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _records as records

# {"batch":[ and ]} around the comma-separated operations.
WRAPPER_BYTES = len(b'{"batch":[]}')


class Batch:
    """Encoded operations with their records and queue positions.

    Operations arrive in fragments: the comma-separated JSON of one or
    more operations. The operations themselves are kept too, so that a
    split re-encodes them to the same bytes, event ids included.
    """

    __slots__ = (
        "fragments",
        "indices",
        "max_bytes",
        "operations",
        "records",
        "size",
    )

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.records: list[records.Record] = []
        self.indices: list[int] = []
        self.operations: list[dict[str, Any]] = []
        self.fragments: list[bytes] = []
        self.size = WRAPPER_BYTES

    def __len__(self) -> int:
        return len(self.records)

    def fits(self, fragment: bytes) -> bool:
        """Return True if ``fragment`` and its comma fit under the limit."""
        return self.size + len(fragment) + 1 <= self.max_bytes

    def add(
        self,
        batch_records: list[records.Record],
        indices: list[int],
        operations: list[dict[str, Any]],
        fragment: bytes,
    ) -> None:
        """Append the operations that ``fragment`` encodes."""
        self.records += batch_records
        self.indices += indices
        self.operations += operations
        if self.fragments:
            self.size += 1
        self.fragments.append(fragment)
        self.size += len(fragment)

    def body(self) -> bytes:
        """Return the request body."""
        return b'{"batch":[' + b",".join(self.fragments) + b"]}"

    def halves(
        self, encode: Callable[[dict[str, Any]], bytes]
    ) -> tuple[Batch, Batch]:
        """Split into two batches of about the same operation count."""
        middle = len(self.records) // 2
        first, second = Batch(self.max_bytes), Batch(self.max_bytes)
        for position, operation in enumerate(self.operations):
            half = first if position < middle else second
            half.add(
                [self.records[position]],
                [self.indices[position]],
                [operation],
                encode(operation),
            )
        return first, second
