"""The summary at the end of ``send``: text for people, JSON for scripts."""

from __future__ import annotations

import signal
from typing import Any

import attrs


@attrs.frozen
class SendSummary:
    """The counts and outcome of one ``send`` run.

    ``read`` counts every non-blank line or row, bad ones included.
    Each ends up in ``delivered`` or under its reason in ``failed``.
    In a dry run ``delivered`` counts the records that would be sent.
    ``last_source`` is the last record read, where an interrupted run
    stopped reading.
    """

    read: int
    delivered: int
    failed: dict[str, int]
    elapsed: float
    dead_letter_file: str | None
    last_source: str | None
    stopped_by: int | None = None
    stop_reason: str | None = None
    dry_run: bool = False
    # Why the dead-letter file could not be written, if it could not.
    dead_letter_error: str | None = None

    @property
    def failed_total(self) -> int:
        """Failed records, whatever the reason."""
        return sum(self.failed.values())

    @property
    def rate(self) -> float:
        """Records read a second."""
        return self.read / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def exit_status(self) -> int:
        """0 if all were delivered, 1 if some failed, 128 + the signal."""
        if self.stopped_by is not None:
            return 128 + self.stopped_by
        if self.failed_total or self.stop_reason or self.dead_letter_error:
            return 1
        return 0

    def lines(self) -> list[str]:
        """Return the summary as lines of text."""
        verb = "valid (dry run, nothing sent)" if self.dry_run else "delivered"
        lines = [
            f"{_records(self.read)} read in {self.elapsed:.1f} s "
            f"({self.rate:,.0f} records/s): {self.delivered:,} {verb}, "
            f"{self.failed_total:,} failed"
        ]
        if self.failed:
            reasons = ", ".join(
                f"{count:,} {reason}"
                for reason, count in sorted(self.failed.items())
            )
            lines.append(f"failed by reason: {reasons}")
        if self.dead_letter_error is not None:
            lines.append(
                f"error: writing the dead-letter file "
                f"{self.dead_letter_file} failed ({self.dead_letter_error}):"
                f" failed records after that were counted but not written"
            )
        elif self.failed and self.dead_letter_file is not None:
            lines.append(f"failed records written to {self.dead_letter_file}")
        if self.stopped_by is not None or self.stop_reason is not None:
            lines.append(self._stop_line())
        return lines

    def _stop_line(self) -> str:
        cause = (
            signal.Signals(self.stopped_by).name
            if self.stopped_by is not None
            else self.stop_reason
        )
        where = (
            f"after {self.last_source}"
            if self.last_source
            else "before the first record"
        )
        return (
            f"stopped by {cause}: reading ended {where}; records after it "
            f"were not read"
        )

    def as_json(self) -> dict[str, Any]:
        """Return the summary as a JSON-ready object."""
        return {
            "read": self.read,
            "delivered": self.delivered,
            "failed": self.failed_total,
            "failed_by_reason": dict(sorted(self.failed.items())),
            "dead_letter_file": self.dead_letter_file,
            "elapsed_seconds": round(self.elapsed, 3),
            "records_per_second": round(self.rate, 1),
            "dry_run": self.dry_run,
            "stopped_by": (
                None
                if self.stopped_by is None
                else signal.Signals(self.stopped_by).name
            ),
            "stop_reason": self.stop_reason,
            "last_source": self.last_source,
            "exit_status": self.exit_status,
        }


def _records(count: int) -> str:
    return f"{count:,} record" if count == 1 else f"{count:,} records"
