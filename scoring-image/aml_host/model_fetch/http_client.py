"""A small HTTP client on ``http.client``: kept-alive connections per thread, a timeout per
request, and retries with exponential backoff and full jitter on throttling (429), server
errors (5xx), timeouts and dropped connections, honouring ``Retry-After``, all inside one
overall deadline.

URLs in errors and logs have their query string removed (it may hold a SAS).
"""

import email.utils
import http.client
import json
import logging
import random
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, Optional, Tuple
from urllib.parse import urlsplit

from .errors import HttpError, ModelFetchError

logger = logging.getLogger("aml_host.model_fetch")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Dropped connections, resets, timeouts, TLS hiccups: worth another try.
TRANSIENT_ERRORS = (ConnectionError, TimeoutError, socket.timeout, http.client.HTTPException, ssl.SSLError, OSError)


def redact(url: str) -> str:
    """The URL without query string and fragment."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class Deadline:
    """The overall time budget of one model download."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self.seconds = seconds
        self.end = clock() + seconds

    def remaining(self) -> float:
        return self.end - self._clock()

    def check(self, what: str) -> None:
        if self.remaining() <= 0:
            raise ModelFetchError(f"gave up {what}: the overall timeout of {self.seconds:g} s "
                                  f"(AML_MODEL_TIMEOUT_SECONDS) is used up")


@dataclass
class RetryPolicy:
    max_attempts: int = 8
    base: float = 0.5
    cap: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[float, float], float] = random.uniform

    def delay(self, attempt: int, retry_after: Optional[float]) -> float:
        """Seconds to wait before try ``attempt + 1`` (attempt counts from 1)."""
        if retry_after is not None:
            return max(0.0, retry_after)
        return self.rand(0.0, min(self.cap, self.base * (2 ** (attempt - 1))))

    def wait(self, attempt: int, retry_after: Optional[float], deadline: Deadline, what: str) -> None:
        pause = self.delay(attempt, retry_after)
        if pause >= deadline.remaining():
            raise ModelFetchError(f"gave up {what}: waiting {pause:.1f} s more would pass the overall timeout "
                                  f"of {deadline.seconds:g} s (AML_MODEL_TIMEOUT_SECONDS)")
        if pause > 0:
            self.sleep(pause)


def parse_retry_after(headers) -> Optional[float]:
    """``x-ms-retry-after-ms``, or ``Retry-After`` in seconds or as an HTTP date."""
    ms = headers.get("x-ms-retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


@dataclass
class Response:
    """A response whose body is either read (``body``) or left to stream (``raw``)."""

    status: int
    headers: Dict[str, str]
    body: bytes = b""
    raw: Optional[http.client.HTTPResponse] = field(default=None, repr=False)
    url: str = ""

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ModelFetchError(f"{redact(self.url)} answered with a body that is not JSON") from None


def error_code(body: bytes) -> Tuple[str, str]:
    """(code, message) from an ARM JSON error or a Storage XML error body."""
    text = body[:4000].decode("utf-8", "replace")
    try:
        err = json.loads(text).get("error", {})
        return str(err.get("code", "")), str(err.get("message", ""))[:300]
    except (ValueError, AttributeError):
        pass
    import re
    code = re.search(r"<Code>([^<]*)</Code>", text)
    message = re.search(r"<Message>([^<]*)</Message>", text)
    return (code.group(1) if code else "", (message.group(1).splitlines()[0] if message else "")[:300])


class HttpClient:
    """Thread-safe: each thread keeps its own connections (one per scheme://host:port)."""

    def __init__(self, request_timeout: float, policy: RetryPolicy, ssl_context: Optional[ssl.SSLContext] = None):
        self.request_timeout = request_timeout
        self.policy = policy
        self._ssl = ssl_context or ssl.create_default_context()
        self._local = threading.local()
        self._all_lock = threading.Lock()
        self._all = []  # every connection opened, so close_all() can close those of finished threads

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = {}
        key = (scheme, netloc)
        conn = pool.get(key)
        if conn is None:
            if scheme == "https":
                conn = http.client.HTTPSConnection(netloc, timeout=self.request_timeout, context=self._ssl)
            elif scheme == "http":
                conn = http.client.HTTPConnection(netloc, timeout=self.request_timeout)
            else:
                raise ModelFetchError(f"unsupported URL scheme {scheme!r}")
            pool[key] = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    def _drop(self, scheme: str, netloc: str) -> None:
        pool = getattr(self._local, "pool", {})
        conn = pool.pop((scheme, netloc), None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Closes this thread's connections (the next request opens new ones)."""
        for conn in getattr(self._local, "pool", {}).values():
            conn.close()
        self._local.pool = {}

    def close_all(self) -> None:
        """Closes every connection of every thread (when the download is over)."""
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local.pool = {}

    def send_once(self, method: str, url: str, headers: Dict[str, str], body: Optional[bytes] = None) -> http.client.HTTPResponse:
        """One request on a kept-alive connection; a stale connection is reopened once."""
        parts = urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        for reuse in (True, False):
            conn = self._connection(parts.scheme, parts.netloc)
            reused = conn.sock is not None
            try:
                conn.request(method, target, body=body, headers=headers)
                return conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self._drop(parts.scheme, parts.netloc)
                if not (reuse and reused):
                    raise
            except BaseException:
                self._drop(parts.scheme, parts.netloc)
                raise
        raise AssertionError("unreachable")

    def request(self, method: str, url: str, deadline: Deadline, headers: Optional[Dict[str, str]] = None,
                body: Optional[bytes] = None, ok: Iterable[int] = (200,), stream: bool = False,
                what: str = "") -> Response:
        """Sends with retries. Returns a response whose status is in ``ok`` (streamed if asked),
        or raises HttpError for any other final status (its body read for the error code)."""
        ok = tuple(ok)
        what = what or f"{method} {redact(url)}"
        attempt = 0
        while True:
            attempt += 1
            deadline.check(what)
            retry_after: Optional[float] = None
            try:
                raw = self.send_once(method, url, dict(headers or {}), body)
                status = raw.status
                resp_headers = {k: v for k, v in raw.getheaders()}
                lookup = _Headers(resp_headers)
                if status in ok:
                    if stream:
                        return Response(status, lookup, raw=raw, url=url)
                    return Response(status, lookup, body=read_bounded(raw, deadline, what), url=url)
                data = read_bounded(raw, deadline, what)
                if status not in RETRY_STATUSES or attempt >= self.policy.max_attempts:
                    code, detail = error_code(data)
                    raise HttpError(method, redact(url), status, code, detail)
                retry_after = parse_retry_after(lookup)
                logger.warning("%s: HTTP %s, retrying (attempt %d of %d)", what, status, attempt, self.policy.max_attempts)
            except TRANSIENT_ERRORS as exc:
                parts = urlsplit(url)
                self._drop(parts.scheme, parts.netloc)
                if attempt >= self.policy.max_attempts:
                    raise ModelFetchError(f"{what}: {type(exc).__name__}: {exc} (after {attempt} attempts)") from None
                logger.warning("%s: %s: %s, retrying (attempt %d of %d)", what, type(exc).__name__, exc, attempt, self.policy.max_attempts)
            self.policy.wait(attempt, retry_after, deadline, what)


#: Largest body read into memory (a listing page, an ARM answer, an error): far above what a
#: well-behaved service sends (a 5,000-blob listing page is a few MiB).
MAX_BODY_BYTES = 64 << 20
_READ = 1 << 20


def read_bounded(raw, deadline: Deadline, what: str) -> bytes:
    """The whole body of a response that is read into memory: at most MAX_BODY_BYTES, and inside
    the overall deadline (a server sending forever or a byte at a time is cut off, not waited for)."""
    chunks = []
    size = 0
    while True:
        deadline.check(what)
        chunk = raw.read(_READ)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raw.close()
            raise ModelFetchError(f"{what}: the answer is larger than {MAX_BODY_BYTES >> 20} MiB; gave up")
        chunks.append(chunk)


class _Headers(dict):
    """Case-insensitive header lookup."""

    def __init__(self, items: Dict[str, str]):
        super().__init__({k.lower(): v for k, v in items.items()})

    def get(self, key, default=None):
        return super().get(key.lower(), default)
