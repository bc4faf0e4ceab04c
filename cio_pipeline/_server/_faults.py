"""Faults injected on demand: errors, latency, hangs, dropped connections.

Share-based faults draw from one random generator; with a seed and one
request at a time, the same requests fail on every run.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

STATUS = "status"
HANG = "hang"
CLOSE_BEFORE_APPLY = "close_before_apply"
CLOSE_AFTER_APPLY = "close_after_apply"
NO_FAULT = "pass"
KINDS = (STATUS, HANG, CLOSE_BEFORE_APPLY, CLOSE_AFTER_APPLY, NO_FAULT)
RETRY_AFTER_FORMATS = ("seconds", "date")

# A hang lasts until cleared or until the server stops; this bounds the
# wait between checks of the second condition.
_HANG_CHECK_SECONDS = 1.0

Scripted = int | str | dict[str, Any] | tuple[int, float] | None


class FaultAction(NamedTuple):
    """The fault to inject into one request instead of a normal response."""

    kind: str
    status: int = 0
    retry_after: float | None = None
    retry_after_format: str = "seconds"


class _Rule(NamedTuple):
    action: FaultAction
    share: float
    path: str | None
    remaining: list[int | None]


def _action(item: Scripted) -> FaultAction:
    """Turn one scripted response into a FaultAction."""
    if item is None:
        return FaultAction(NO_FAULT)

    if isinstance(item, bool):
        raise TypeError(f"invalid scripted response: {item!r}")

    if isinstance(item, int):
        return _status_action(item)

    if isinstance(item, tuple):
        return _status_action(item[0], item[1])

    if isinstance(item, str):
        if item in (HANG, CLOSE_BEFORE_APPLY, CLOSE_AFTER_APPLY, NO_FAULT):
            return FaultAction(item)

        raise ValueError(
            f"invalid scripted response {item!r}: use a status code, "
            "'hang', 'close_before_apply', 'close_after_apply' or 'pass'"
        )

    return _status_action(
        int(item["status"]),
        item.get("retry_after"),
        item.get("retry_after_format", "seconds"),
    )


def _status_action(
    status: int,
    retry_after: float | None = None,
    retry_after_format: str = "seconds",
) -> FaultAction:
    if not 100 <= status <= 599:
        raise ValueError(f"invalid HTTP status {status}: use 100 to 599")

    if retry_after_format not in RETRY_AFTER_FORMATS:
        raise ValueError(
            f"invalid retry_after_format {retry_after_format!r}: "
            "use 'seconds' or 'date'"
        )

    if retry_after is not None and retry_after < 0:
        raise ValueError(f"retry_after must be >= 0, not {retry_after}")

    return FaultAction(STATUS, status, retry_after, retry_after_format)


def _check_share(share: float) -> float:
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be between 0 and 1, not {share}")

    return float(share)


_SPEC_KEYS = (
    "latency",
    "fail",
    CLOSE_BEFORE_APPLY,
    CLOSE_AFTER_APPLY,
    "hang",
    "refuse",
    "script",
)


def _keywords(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class Faults:
    """The faults a running LocalTrackAPI injects; change them any time.

    Faults apply to Track API paths only, never to the `/_local/` paths.
    `path` arguments are path prefixes such as "/api/v2/batch"; None means
    every path. `count` limits how many requests a rule affects.
    """

    def __init__(
        self,
        seed: int | None = None,
        on_refuse: Callable[[bool], None] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._on_refuse = on_refuse
        self._rules: list[_Rule] = []
        self._scripts: list[tuple[str | None, deque[FaultAction]]] = []
        self._latency = 0.0
        self._refusing = False
        self._released = threading.Event()
        self._released.set()

    @property
    def refusing(self) -> bool:
        """Whether `refuse()` is in force."""
        return self._refusing

    @property
    def latency(self) -> float:
        """Seconds added before every response."""
        return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"latency must be >= 0 seconds, not {seconds}")

        self._latency = float(seconds)

    def set_latency(self, seconds: float) -> None:
        """Add `seconds` of delay before every response (0 removes it)."""
        self.latency = seconds

    def fail(
        self,
        status: int,
        *,
        share: float = 1.0,
        retry_after: float | None = None,
        retry_after_format: str = "seconds",
        path: str | None = None,
        count: int | None = None,
    ) -> None:
        """Respond to a share of requests with `status`, not applying them.

        Args:
            status: the HTTP status to respond with, such as 500, 503 or 429.
            share: the probability, 0 to 1, that a request gets it.
            retry_after: seconds for a `Retry-After` header, or None.
            retry_after_format: "seconds" sends the delay as an integer;
                "date" sends the HTTP date that far in the future.
            path: the path prefix the rule applies to; None for all.
            count: stop after this many requests; None for no limit.
        """
        action = _status_action(status, retry_after, retry_after_format)
        self._add(action, share, path, count)

    def close_before_apply(
        self,
        *,
        share: float = 1.0,
        path: str | None = None,
        count: int | None = None,
    ) -> None:
        """Read a request, then close the connection without applying it."""
        self._add(FaultAction(CLOSE_BEFORE_APPLY), share, path, count)

    def close_after_apply(
        self,
        *,
        share: float = 1.0,
        path: str | None = None,
        count: int | None = None,
    ) -> None:
        """Apply a request, then close the connection without a response."""
        self._add(FaultAction(CLOSE_AFTER_APPLY), share, path, count)

    def hang(self, *, path: str | None = None) -> None:
        """Read requests and never respond, until `clear()` or stop."""
        with self._lock:
            self._released.clear()

        self._add(FaultAction(HANG), 1.0, path, None)

    def refuse(self) -> None:
        """Close the listening socket and open connections until `clear()`."""
        with self._lock:
            self._refusing = True

        if self._on_refuse is not None:
            self._on_refuse(True)

    def script(
        self, responses: Iterable[Scripted], *, path: str | None = None
    ) -> None:
        """Respond to the next matching requests in order, then normally.

        Args:
            responses: one item per request: a status code, a
                (status, retry_after_seconds) tuple, a dict with "status",
                "retry_after" and "retry_after_format", one of "hang",
                "close_before_apply", "close_after_apply", or None or
                "pass" for a normal answer.
            path: the path prefix the script applies to; None for all.
        """
        actions = deque(_action(item) for item in responses)
        with self._lock:
            if any(action.kind == HANG for action in actions):
                self._released.clear()

            self._scripts.append((path, actions))

    def configure(self, spec: dict[str, Any]) -> None:
        """Add faults from JSON-ready data, as `/_local/faults` accepts.

        Keys: "latency" (seconds), "fail" (a list of keyword dicts for
        `fail`), "close_before_apply" and "close_after_apply" (keyword
        dicts), "hang" (true, or a dict with "path"), "refuse" (true) and
        "script" (a list of {"responses": [...], "path": ...}).

        Raises:
            ValueError: on an unknown key or an invalid value.
        """
        unknown = set(spec) - set(_SPEC_KEYS)
        if unknown:
            names = ", ".join(sorted(unknown))
            raise ValueError(
                f"unknown fault settings: {names}; "
                f"expected: {', '.join(_SPEC_KEYS)}"
            )

        if "latency" in spec:
            self.latency = float(spec["latency"])

        for rule in spec.get("fail", []):
            self.fail(**rule)

        for name in (CLOSE_BEFORE_APPLY, CLOSE_AFTER_APPLY):
            if spec.get(name):
                getattr(self, name)(**_keywords(spec[name]))

        if spec.get("hang"):
            self.hang(**_keywords(spec["hang"]))

        for script in spec.get("script", []):
            self.script(script["responses"], path=script.get("path"))

        if spec.get("refuse"):
            self.refuse()

    def clear(self) -> None:
        """Remove every fault, release hung requests and accept again."""
        with self._lock:
            self._rules.clear()
            self._scripts.clear()
            self._latency = 0.0
            refusing, self._refusing = self._refusing, False
            self._released.set()

        if refusing and self._on_refuse is not None:
            self._on_refuse(False)

    def _add(
        self,
        action: FaultAction,
        share: float,
        path: str | None,
        count: int | None,
    ) -> None:
        if count is not None and count < 1:
            raise ValueError(f"count must be >= 1 or None, not {count}")

        rule = _Rule(action, _check_share(share), path, [count])
        with self._lock:
            self._rules.append(rule)

    def choose(self, path: str) -> FaultAction | None:
        """Return the fault for a request to `path`, or None."""
        with self._lock:
            for prefix, actions in self._scripts:
                if actions and (prefix is None or path.startswith(prefix)):
                    action = actions.popleft()
                    return None if action.kind == NO_FAULT else action

            for rule in self._rules:
                if rule.path is not None and not path.startswith(rule.path):
                    continue

                if rule.share < 1.0 and self._random.random() >= rule.share:
                    continue

                return self._use(rule)

        return None

    def _use(self, rule: _Rule) -> FaultAction:
        remaining = rule.remaining[0]
        if remaining is not None:
            rule.remaining[0] = remaining - 1
            if remaining == 1:
                self._rules.remove(rule)

        return rule.action

    def wait_for_release(self, stopping: threading.Event) -> None:
        """Block a hung request until `clear()` or the server stops."""
        while not stopping.is_set():
            if self._released.wait(_HANG_CHECK_SECONDS):
                return

    def release(self) -> None:
        """Let hung requests end; used when the server stops."""
        self._released.set()

    def describe(self) -> dict[str, Any]:
        """Return the current faults as JSON-ready data."""
        with self._lock:
            rules = [
                dict(
                    rule.action._asdict(),
                    share=rule.share,
                    path=rule.path,
                    count=rule.remaining[0],
                )
                for rule in self._rules
            ]
            scripts = [
                {"path": path, "responses": [a._asdict() for a in actions]}
                for path, actions in self._scripts
            ]
            return {
                "latency": self._latency,
                "refusing": self._refusing,
                "rules": rules,
                "scripts": scripts,
            }
