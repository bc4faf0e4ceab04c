"""``cio-pipeline demo``: the CDNOW purchase log into the local server.

A historical backfill: one ``identify`` per customer with ``created_at``
set to the first purchase, then one ``purchase`` event per line with
the purchase date as its timestamp. The check at the end compares the
server's state with the file, purchase by purchase.
"""

from __future__ import annotations

import argparse
import collections
import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import IO, Any

import attrs

from cio_pipeline import Client, Identify, Reason, Record
from cio_pipeline._server import LocalTrackAPI

from ._cdnow import (
    EVENT_NAME,
    MASTER_FILE,
    SAMPLE_FILE,
    Purchase,
    read_purchases,
)
from ._progress import Counters, Progress
from ._signals import StopSignal

PROGRAM = "cio-pipeline demo"
DEMO_SITE_ID = "cio-pipeline-demo"

# Seconds one call may wait for room in a full queue, and a record in
# all, before the demo counts it as failed.
BLOCK_TIMEOUT = 1.0
QUEUE_WAIT = 60.0

# Seconds to wait at the end for queued records, and between two
# redraws of the progress meanwhile.
FLUSH_TIMEOUT = 60.0
FLUSH_STEP = 0.25

#: A purchase as the check compares it: timestamp, CD count, dollars.
PurchaseKey = tuple[int, int, float]


@attrs.frozen
class DemoData:
    """The purchases of one data file and what the server should hold."""

    file_name: str
    purchases: list[Purchase]
    first_purchase: dict[str, int]

    @classmethod
    def load(cls, file_name: str) -> DemoData:
        """Read a shipped data file."""
        purchases = list(read_purchases(file_name))
        first: dict[str, int] = {}
        for purchase in purchases:
            known = first.get(purchase.customer_id)
            if known is None or purchase.timestamp < known:
                first[purchase.customer_id] = purchase.timestamp
        return cls(file_name, purchases, first)

    def expected(self) -> dict[str, collections.Counter[PurchaseKey]]:
        """Return each customer's purchases, repeats counted."""
        expected: dict[str, collections.Counter[PurchaseKey]] = {}
        for purchase in self.purchases:
            counter = expected.setdefault(
                purchase.customer_id, collections.Counter()
            )
            counter[purchase.timestamp, purchase.cds, purchase.dollars] += 1
        return expected


@attrs.frozen
class ServerCheck:
    """How much of the data the server holds."""

    people_expected: int
    people_found: int
    purchases_expected: int
    purchases_found: int
    events_stored: int

    @property
    def passed(self) -> bool:
        """True when every person and purchase arrived, and nothing else."""
        return (
            self.people_found == self.people_expected
            and self.purchases_found == self.purchases_expected
            and self.events_stored == self.purchases_expected
        )


def check_server(server: LocalTrackAPI, data: DemoData) -> ServerCheck:
    """Compare the server's people and events with the data file.

    A person counts when it exists with ``created_at`` set to the first
    purchase. A purchase counts when an event with its timestamp, CD
    count and value arrived. A line that appears twice needs two such
    events.
    """
    people_found = 0
    purchases_found = 0
    for customer, purchases in data.expected().items():
        person = server.person(customer)
        if person is None:
            continue
        if person["created_at"] == data.first_purchase[customer]:
            people_found += 1
        arrived = collections.Counter(
            _purchase_key(event)
            for event in server.events(customer)
            if event["name"] == EVENT_NAME
        )
        purchases_found += sum((arrived & purchases).values())
    return ServerCheck(
        people_expected=len(data.first_purchase),
        people_found=people_found,
        purchases_expected=len(data.purchases),
        purchases_found=purchases_found,
        events_stored=int(server.counters()["events_stored"]),
    )


def _purchase_key(event: dict[str, Any]) -> PurchaseKey:
    data = event["data"]
    return (
        event["timestamp"],
        data.get("number_of_cds"),
        data.get("dollar_value"),
    )


@attrs.define
class DemoCounts:
    """Calls made and outcomes, by kind: people or events."""

    sent: collections.Counter[str] = attrs.field(factory=collections.Counter)
    delivered: collections.Counter[str] = attrs.field(
        factory=collections.Counter
    )
    failed: collections.Counter[str] = attrs.field(factory=collections.Counter)


def _kind(record: Record) -> str:
    return "people" if type(record) is Identify else "events"


class DemoSender:
    """Send the purchases through a client, counting every outcome."""

    def __init__(self, progress_counters: Counters) -> None:
        self.counts = DemoCounts()
        self._progress_counters = progress_counters
        self._settled = 0
        self._settled_changed = threading.Condition()

    def on_success(self, records: list[Record]) -> None:
        """Count delivered records: the client's ``on_success``."""
        self._progress_counters.add_delivered(len(records))
        with self._settled_changed:
            for record in records:
                self.counts.delivered[_kind(record)] += 1
            self._settled += len(records)
            self._settled_changed.notify_all()

    def on_error(self, record: Record, reason: Reason) -> None:
        """Count a failed record: the client's ``on_error``."""
        if reason in ("block_timeout", "queue_full"):
            # The call returned False and _queue() counts the failure.
            return
        self._progress_counters.add_failed(reason)
        with self._settled_changed:
            self.counts.failed[reason] += 1
            self._settled += 1
            self._settled_changed.notify_all()

    def wait_for_outcomes(self, count: int, timeout: float) -> bool:
        """Wait until callbacks reported ``count`` queued records.

        ``Client.shutdown`` can return before the callbacks for the
        last batch have run. Returns False on timeout.
        """
        with self._settled_changed:
            return self._settled_changed.wait_for(
                lambda: self._settled >= count, timeout
            )

    def send(
        self,
        client: Client,
        data: DemoData,
        progress: Progress,
        stop: StopSignal,
    ) -> None:
        """Identify each customer before their first purchase, then track."""
        identified: set[str] = set()
        for purchase in data.purchases:
            if stop.requested:
                return
            customer = purchase.customer_id
            if customer not in identified:
                identified.add(customer)
                created_at = data.first_purchase[customer]
                self._queue(
                    "people", client.identify, customer, created_at=created_at
                )
            data_fields = {
                "number_of_cds": purchase.cds,
                "dollar_value": purchase.dollars,
            }
            self._queue(
                "events",
                client.track,
                customer,
                EVENT_NAME,
                data_fields,
                timestamp=purchase.timestamp,
            )
            progress.update()

    def _queue(
        self, kind: str, method: Callable[..., bool], *args: Any, **kwargs: Any
    ) -> None:
        self.counts.sent[kind] += 1
        self._progress_counters.read += 1
        deadline = time.monotonic() + QUEUE_WAIT
        while not method(*args, **kwargs):
            if time.monotonic() > deadline:
                self.counts.failed["queue_full"] += 1
                self._progress_counters.add_failed("queue_full")
                return


@attrs.frozen
class DemoSummary:
    """The demo's outcome: records sent and delivered, and the check."""

    data: DemoData
    counts: DemoCounts
    elapsed: float
    check: ServerCheck
    stopped_by: int | None

    @property
    def exit_status(self) -> int:
        """0 when the check passed, 1 when not, 128 + a stop signal."""
        if self.stopped_by is not None:
            return 128 + self.stopped_by
        return 0 if self.check.passed else 1

    def lines(self) -> list[str]:
        """Return the summary as lines of text."""
        counts, check = self.counts, self.check
        rate = counts.delivered["events"] / max(self.elapsed, 1e-9)
        failed = sum(counts.failed.values())
        verdict = "passed" if check.passed else "FAILED"
        lines = [
            f"data: {self.data.file_name}, {len(self.data.purchases):,} "
            f"purchases of {len(self.data.first_purchase):,} customers",
            f"sent: {counts.sent['people']:,} people and "
            f"{counts.sent['events']:,} events in {self.elapsed:.2f} s "
            f"({rate:,.0f} events/s)",
            f"delivered: {counts.delivered['people']:,} people and "
            f"{counts.delivered['events']:,} events; {failed:,} failed",
            f"server check {verdict}: {check.people_found:,} of "
            f"{check.people_expected:,} people with the right created_at, "
            f"{check.purchases_found:,} of {check.purchases_expected:,} "
            f"purchases, {check.events_stored:,} events stored",
        ]
        if counts.failed:
            reasons = ", ".join(
                f"{n:,} {reason}"
                for reason, n in sorted(counts.failed.items())
            )
            lines.insert(3, f"failed by reason: {reasons}")
        return lines

    def as_json(self) -> dict[str, Any]:
        """Return the summary as a JSON-ready object."""
        counts, check = self.counts, self.check
        return {
            "data_file": self.data.file_name,
            "customers": len(self.data.first_purchase),
            "purchases": len(self.data.purchases),
            "people_sent": counts.sent["people"],
            "events_sent": counts.sent["events"],
            "people_delivered": counts.delivered["people"],
            "events_delivered": counts.delivered["events"],
            "failed": sum(counts.failed.values()),
            "failed_by_reason": dict(sorted(counts.failed.items())),
            "elapsed_seconds": round(self.elapsed, 3),
            "events_per_second": round(
                counts.delivered["events"] / max(self.elapsed, 1e-9), 1
            ),
            "check": attrs.asdict(check) | {"passed": check.passed},
            "exit_status": self.exit_status,
        }


def _flush(client: Client, progress: Progress, stop: StopSignal) -> None:
    """Wait for the queued records, drawing progress, then shut down."""
    deadline = time.monotonic() + FLUSH_TIMEOUT
    while not stop.requested and time.monotonic() < deadline:
        progress.update()
        if not client.flush(FLUSH_STEP).pending:
            break
    client.shutdown(timeout=FLUSH_STEP)


def run_demo(
    args: argparse.Namespace, stdout: IO[str], stderr: IO[str]
) -> int:
    """Run the demo and return its exit status."""
    data = DemoData.load(MASTER_FILE if args.full else SAMPLE_FILE)
    api_key = secrets.token_hex(16)

    progress_counters = Counters()
    mode = "off" if args.quiet else ("bar" if stderr.isatty() else "lines")
    total = len(data.purchases) + len(data.first_purchase)
    progress = Progress(
        progress_counters, stderr, mode, label="demo", total=total
    )
    sender = DemoSender(progress_counters)

    with LocalTrackAPI(DEMO_SITE_ID, api_key) as server, StopSignal() as stop:
        client = Client(
            DEMO_SITE_ID,
            api_key,
            url=server.url,
            on_full="block",
            block_timeout=BLOCK_TIMEOUT,
            on_error=sender.on_error,
            on_success=sender.on_success,
            atexit=False,
        )

        started = time.monotonic()
        sender.send(client, data, progress, stop)
        _flush(client, progress, stop)
        stats = client.stats()
        sender.wait_for_outcomes(stats.delivered + stats.failed, 5.0)
        elapsed = time.monotonic() - started
        progress.close()

        check = check_server(server, data)

    summary = DemoSummary(data, sender.counts, elapsed, check, stop.signum)
    for line in summary.lines():
        stderr.write(f"{PROGRAM}: {line}\n")
    stderr.flush()

    if args.json:
        stdout.write(json.dumps(summary.as_json()) + "\n")
        stdout.flush()
    return summary.exit_status
