"""HTTP scoring as a pure function: (method, url, headers, query, body) -> (status, headers, body).

Responses follow the AML inference server:

* 200 with the result as strict JSON (application/json; NaN and Infinity are sent as
  ``null``, see :mod:`aml_host.json_output`);
* an ``AMLResponse`` returned by ``run`` is passed through (status, headers, body);
* 400 when the body cannot be given to ``run`` (not UTF-8; missing inference-schema parameter;
  JSON nested too deeply for an inference-schema script);
* 413 when the body is larger than ``AML_MAX_REQUEST_BYTES`` (default 100 MiB, the Functions
  front end's own limit), or is JSON with more elements than ``AML_MAX_JSON_ELEMENTS`` (default
  5,000,000; see :mod:`aml_host.json_limits`); ``run`` is not called (or ``get_json()`` refuses);
* 415 when an inference-schema script gets a body that is not JSON;
* 500 ``{"message": ...}`` (generic) when ``run`` raises (a ``RecursionError`` from a script
  parsing deeply nested JSON itself included) or returns something that cannot be written as
  JSON: details go to the log, never to the caller;
* 503 ``{"message": ...}`` with ``Retry-After`` while the entry script is not ready: ``init()``
  still running after ``AML_HTTP_INIT_WAIT_SECONDS``, or failed with a retry scheduled.

:func:`handle_http` never raises. Log lines name the method and the URL path only: never the
query string (it carries the function key, ``?code=...``), headers or bodies.
"""

import json
import logging
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional
from urllib.parse import urlsplit

from .json_limits import JsonTooLargeError
from .json_output import to_json_bytes
from .response import as_response_parts
from .script import EntryScript, InitFailedError, InvalidInputError, NotReadyError, Payload, get_entry_script
from .settings import max_request_bytes

logger = logging.getLogger("aml_host")

JSON_CONTENT_TYPE = "application/json"
RUN_FAILED_MESSAGE = "An unexpected error occurred in the scoring script. Check the function's logs for details."
NOT_READY_MESSAGE = ("The scoring script is not ready yet: init() is still running or failed and will be "
                     "retried. Try again later; if this persists, check the function's logs.")
TOO_LARGE_MESSAGE = "The request body is larger than this app accepts (app setting AML_MAX_REQUEST_BYTES)."


@dataclass
class HttpResult:
    status: int
    headers: Dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


def _json_result(status: int, payload: Any, headers: Optional[Dict[str, str]] = None) -> HttpResult:
    return HttpResult(status, {"Content-Type": JSON_CONTENT_TYPE, **(headers or {})},
                      json.dumps(payload).encode("utf-8"))


def log_label(method: Optional[str], url: Optional[str]) -> str:
    """``"POST /api/score"``: method and path, no query string, no host."""
    try:
        path = urlsplit(str(url or "")).path or "/"
    except ValueError:
        path = "<unparsable URL>"
    return f"{str(method or 'POST').upper()[:16]} {path[:512]}"


def handle_http(method: str, url: str, headers: Optional[Mapping[str, str]], query: Optional[Mapping[str, Any]],
                body: Optional[bytes], script: Optional[EntryScript] = None) -> HttpResult:
    """Score one HTTP request with the entry script; never raises."""
    where = log_label(method, url)
    try:
        return _handle(where, method, url, headers, query, body, script)
    except BaseException as exc:  # noqa: BLE001 - the contract is "never raises"
        if isinstance(exc, KeyboardInterrupt):
            raise
        logger.error("%s: unexpected %s while handling the request", where, type(exc).__name__)
        return _json_result(500, {"message": RUN_FAILED_MESSAGE})


def _handle(where: str, method: str, url: str, headers: Optional[Mapping[str, str]],
            query: Optional[Mapping[str, Any]], body: Optional[bytes], script: Optional[EntryScript]) -> HttpResult:
    body = body or b""
    limit = max_request_bytes()
    if len(body) > limit:
        logger.warning("%s: body of %d bytes is over the %d-byte limit -> 413", where, len(body), limit)
        return _json_result(413, {"message": TOO_LARGE_MESSAGE})
    try:
        script = script if script is not None else get_entry_script()
        script.wait_for_attempt()
    except NotReadyError as exc:
        logger.warning("%s: refused, the entry script is not ready (%s) -> 503", where,
                       "init() running" if exc.initialising else "init() failed, retry scheduled")
        return _json_result(503, {"message": NOT_READY_MESSAGE}, {"Retry-After": str(exc.retry_after)})
    except InitFailedError:
        logger.error("%s: refused, the entry script cannot be loaded -> 503", where)
        return _json_result(503, {"message": NOT_READY_MESSAGE}, {"Retry-After": "60"})

    payload = Payload(body=body, method=method or "POST", url=url, headers=dict(headers or {}),
                      query=query, source="request")
    try:
        prepared = script.prepare(payload)
    except InvalidInputError as exc:
        logger.warning("%s: %s -> %s", where, exc.message, exc.status)
        return _json_result(exc.status, {"message": exc.message})

    try:
        result = script.run(prepared)
    except JsonTooLargeError as exc:  # request.get_json() refused to parse the body
        logger.warning("%s: %s -> 413", where, exc.message)
        return _json_result(413, {"message": exc.message})
    except Exception:  # noqa: BLE001 - any failure of user code becomes a generic 500
        logger.exception("%s: run() raised", where)
        return _json_result(500, {"message": RUN_FAILED_MESSAGE})

    parts = as_response_parts(result)
    if parts is not None:
        status, out_headers, out_body = parts
        return HttpResult(status, out_headers, out_body)
    try:
        out = to_json_bytes(result)
    except RecursionError:
        logger.error("%s: run() returned a value nested too deeply to write as JSON", where)
        return _json_result(500, {"message": RUN_FAILED_MESSAGE})
    except (TypeError, ValueError):
        logger.exception("%s: run() returned a value that is not JSON-serialisable", where)
        return _json_result(500, {"message": RUN_FAILED_MESSAGE})
    return HttpResult(200, {"Content-Type": JSON_CONTENT_TYPE}, out)
