"""Pack encoded operations into /api/v2/batch request bodies."""

from __future__ import annotations

from . import _records as records


class Batch:
    """Encoded operations with their records and queue positions."""

    __slots__ = ("bodies", "indices", "max_bytes", "records", "size")

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.records: list[records.Record] = []
        self.bodies: list[bytes] = []
        self.indices: list[int] = []
        # {"batch":[ and ]} with no operations yet.
        self.size = 12

    def __len__(self) -> int:
        return len(self.records)

    def fits(self, body: bytes) -> bool:
        """Return True if ``body`` and its comma fit under the limit."""
        return self.size + len(body) + 1 <= self.max_bytes

    def add(self, record: records.Record, body: bytes, index: int) -> None:
        """Append one encoded operation."""
        self.records.append(record)
        self.bodies.append(body)
        self.indices.append(index)
        self.size += len(body) + (1 if len(self.bodies) > 1 else 0)

    def body(self) -> bytes:
        """Return the request body."""
        return b'{"batch":[' + b",".join(self.bodies) + b"]}"

    def halves(self) -> tuple[Batch, Batch]:
        """Split into two batches of about the same count."""
        middle = len(self.records) // 2
        first, second = Batch(self.max_bytes), Batch(self.max_bytes)
        for position, body in enumerate(self.bodies):
            half = first if position < middle else second
            half.add(self.records[position], body, self.indices[position])
        return first, second
