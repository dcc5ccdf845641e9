"""Progress and throughput lines in the log while a model downloads."""

import logging
import threading
import time

logger = logging.getLogger("aml_host.model_fetch")

MB = 1024 * 1024


class Progress:
    def __init__(self, what: str, files: int, total_bytes: int, interval: float = 5.0, clock=time.monotonic):
        self.what = what
        self.files = files
        self.total = total_bytes
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self.start = clock()
        self._last = self.start
        self.bytes = 0
        self.done_files = 0

    def add_bytes(self, n: int) -> None:
        with self._lock:
            self.bytes += n
            now = self._clock()
            if now - self._last >= self.interval:
                self._last = now
                self._log(now)

    def file_done(self) -> None:
        with self._lock:
            self.done_files += 1

    def _log(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-9)
        pct = 100.0 * self.bytes / self.total if self.total else 100.0
        logger.info("%s: %d/%d files, %.1f/%.1f MB (%.0f%%), %.1f MB/s", self.what, self.done_files, self.files,
                    self.bytes / MB, self.total / MB, pct, self.bytes / MB / elapsed)

    def finish(self) -> float:
        elapsed = max(self._clock() - self.start, 1e-9)
        logger.info("%s: downloaded %d files, %.1f MB in %.1f s (%.1f MB/s)", self.what, self.done_files,
                    self.bytes / MB, elapsed, self.bytes / MB / elapsed)
        return elapsed
