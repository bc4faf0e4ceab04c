"""The CDNOW purchase log shipped in ``cio_pipeline/data``.

See ``cio_pipeline/data/PROVENANCE.md`` for the source, the licence and
the format. Each line is one purchase. The master file has a header
and four columns: customer id, date, CD count and dollar value. The
sample has no header, and a second id column after the first.
"""

from __future__ import annotations

import calendar
import functools
import gzip
import importlib.resources
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import NamedTuple

SAMPLE_FILE = "CDNOW_sample.txt.gz"
MASTER_FILE = "CDNOW_master.txt.gz"

EVENT_NAME = "purchase"


class Purchase(NamedTuple):
    """One line of the purchase log.

    ``timestamp`` is the purchase date as Unix seconds at midnight UTC;
    ``line`` is the line number in the file.
    """

    customer_id: str
    timestamp: int
    cds: int
    dollars: float
    line: int


def read_purchases(file_name: str) -> Iterator[Purchase]:
    """Yield the purchases of a data file shipped with the package."""
    resource = importlib.resources.files("cio_pipeline") / "data" / file_name
    with (
        resource.open("rb") as raw,
        gzip.open(raw, "rt", encoding="ascii") as text,
    ):
        yield from parse_purchases(text)


def parse_purchases(lines: Iterable[str]) -> Iterator[Purchase]:
    """Yield the purchases of CDNOW lines, skipping a header line.

    Raises:
        ValueError: a line is neither a header nor a purchase.
    """
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields or (number == 1 and not fields[0].isdigit()):
            continue
        yield _purchase(fields, number)


def _purchase(fields: list[str], number: int) -> Purchase:
    # The sample file repeats the customer id renumbered within the
    # sample as its second column; the first is the master file's id.
    if len(fields) == 5:
        fields = [fields[0], *fields[2:]]
    if len(fields) != 4:
        raise ValueError(
            f"CDNOW line {number}: expected 4 or 5 fields, got {len(fields)}"
        )
    customer_id, day, cds, dollars = fields
    return Purchase(
        customer_id=customer_id,
        timestamp=day_seconds(day),
        cds=int(cds),
        dollars=float(dollars),
        line=number,
    )


@functools.cache
def day_seconds(day: str) -> int:
    """Return a ``YYYYMMDD`` date as Unix seconds at midnight UTC.

    Raises:
        ValueError: ``day`` is not a valid date in that form.
    """
    moment = datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC)
    return calendar.timegm(moment.timetuple())
