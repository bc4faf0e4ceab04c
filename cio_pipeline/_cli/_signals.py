"""SIGINT and SIGTERM: stop reading, then finish the run cleanly."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable, Iterator
from types import FrameType, TracebackType
from typing import Any, TypeVar

Item = TypeVar("Item")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class ReadInterrupted(Exception):
    """Raised by the handler to end a read that is waiting for input."""


class StopSignal:
    """Catch SIGINT and SIGTERM while a run is in progress.

    The first signal sets ``signum``, and the run stops reading and
    finishes. A second one sets ``repeated``, and the run stops waiting
    for queued records. The handler raises only while ``read`` waits
    for the next input record, because a read from a pipe or terminal
    can block for good. Everywhere else the run checks ``signum``.
    Handlers are installed only on the main thread, where Python runs
    them.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.repeated = False
        self._reading = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignal:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    @property
    def requested(self) -> bool:
        """True once a stop signal arrived."""
        return self.signum is not None

    def read(self, items: Iterable[Item]) -> Iterator[Item]:
        """Yield from ``items`` until they end or a stop signal arrives."""
        iterator = iter(items)
        while self.signum is None:
            self._reading = True
            try:
                item = next(iterator)
            except (StopIteration, ReadInterrupted):
                return
            finally:
                self._reading = False
            yield item

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
        else:
            self.repeated = True
        if self._reading:
            self._reading = False
            raise ReadInterrupted
