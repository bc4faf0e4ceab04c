"""Process events every client reacts to: interpreter exit and fork()."""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
import weakref

from ._clock import monotonic
from ._worker import Worker

logger = logging.getLogger(__name__)

# Every live worker, for the exit hook and the fork handler. A worker
# stays alive while its thread runs, even after its client is gone.
_workers: weakref.WeakSet[Worker] = weakref.WeakSet()
_workers_lock = threading.Lock()


def register(worker: Worker) -> None:
    """Include ``worker`` in the exit flush and the fork reset."""
    with _workers_lock:
        _workers.add(worker)
    _follow_multiprocessing()


def _live_workers() -> list[Worker]:
    with _workers_lock:
        return list(_workers)


def flush_at_exit() -> None:
    """Flush every client within one shared budget: the exit hook.

    The budget is the largest ``shutdown_timeout`` among the clients
    that take part, counted once from the start of the hook.
    """
    workers = [
        worker
        for worker in _live_workers()
        if worker.config.atexit and not worker.shut_down
    ]
    if not workers:
        return
    budget = max(worker.config.shutdown_timeout for worker in workers)
    deadline = monotonic() + budget
    undelivered = 0
    for worker in workers:
        try:
            undelivered += worker.at_exit(deadline).pending
        except Exception:
            logger.exception("flushing a client at exit failed")
    if undelivered:
        logger.warning(
            "%d records were not delivered before exit (shutdown_timeout "
            "%.1f s)",
            undelivered,
            budget,
        )


def _after_fork_in_child() -> None:
    global _workers_lock  # noqa: PLW0603 - the parent's lock may be held
    _workers_lock = threading.Lock()
    for worker in list(_workers):
        worker.after_fork_in_child()
    _follow_multiprocessing()


class _MultiprocessingHook:
    """The key under which multiprocessing calls back after a fork."""

    registered = False


_hook = _MultiprocessingHook()


def _follow_multiprocessing() -> None:
    """Flush when a multiprocessing child ends, as the exit hook would.

    multiprocessing ends its children with os._exit(), which skips
    atexit handlers, but first runs the finalizers it keeps. It clears
    them in a new child after os.register_at_fork handlers ran, so the
    finalizer is added from its own after-fork callback instead.
    """
    util = sys.modules.get("multiprocessing.util")
    if util is None or _hook.registered:
        return
    _hook.registered = True
    util.register_after_fork(_hook, _add_exit_finalizer)


def _add_exit_finalizer(hook: _MultiprocessingHook) -> None:
    util = sys.modules["multiprocessing.util"]
    util.Finalize(None, flush_at_exit, exitpriority=100)


atexit.register(flush_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
