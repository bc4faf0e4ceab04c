"""The dead-letter file: every record that failed, one JSON object a line.

Each line is ``{"record": ..., "error": ..., "detail": ..., "source":
...}``. ``record`` is the input record as read, or the raw line when it
was not JSON. ``error`` is a short reason code, ``detail`` describes
the failure and ``source`` is ``file:line``. ``send`` reads such a file
back and takes only ``record``, so fixed lines can be sent again.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import IO, Any


class DeadLetterWriter:
    """Append failed records to a JSON Lines file.

    The file is opened on the first failure, in append mode, so a run
    without failures leaves nothing behind and an earlier run's lines
    are kept. ``write`` may be called from any thread.
    """

    def __init__(self, path: Path | None, secret: str = "") -> None:
        """Write to ``path``; None counts failures but writes nothing.

        ``secret``, the API key, is masked in each line's ``detail``.
        """
        self.path = path
        self.count = 0
        # The first error writing the file; later lines are not written.
        self.error: OSError | None = None
        self._secret = secret
        self._stream: IO[str] | None = None
        self._lock = threading.Lock()

    def write(self, record: Any, error: str, detail: str, source: str) -> None:
        """Append one failed record.

        Args:
            record: the input record, or the raw line.
            error: the reason code, such as ``invalid_json``.
            detail: the message that explains the reason.
            source: where the record came from, as ``file:line``.
        """
        if self._secret:
            detail = detail.replace(self._secret, "***")
        entry = {
            "record": record,
            "error": error,
            "detail": detail,
            "source": source,
        }
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            self.count += 1
            if self.path is None or self.error is not None:
                return
            try:
                if self._stream is None:
                    self._stream = self.path.open("a", encoding="utf-8")
                self._stream.write(line)
                # Flushed line by line, so a killed run keeps what it wrote.
                self._stream.flush()
            except OSError as problem:
                # Counted all the same; the summary reports the error.
                self.error = problem

    def close(self) -> None:
        """Flush and close the file if it was opened."""
        with self._lock:
            if self._stream is not None:
                try:
                    self._stream.close()
                except OSError as problem:
                    self.error = self.error or problem
                self._stream = None
