"""HTTP scoring as a pure function: (method, url, headers, query, body) -> (status, headers, body).

Responses follow the AML inference server:

* 200 with ``json.dumps(result)`` as application/json;
* an ``AMLResponse`` returned by ``run`` is passed through (status, headers, body);
* 400 when the body cannot be given to ``run`` (not UTF-8; missing inference-schema parameter);
* 415 when an inference-schema script gets a body that is not JSON;
* 500 ``{"message": ...}`` (generic) when ``run`` raises or returns something not
  JSON-serialisable: details go to the log, never to the caller;
* 503 ``{"message": ...}`` when the entry script failed to load or ``init()`` failed.
"""

import json
import logging
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

from .response import as_response_parts
from .script import EntryScript, InitFailedError, InvalidInputError, Payload, get_entry_script

logger = logging.getLogger("aml_host")

JSON_CONTENT_TYPE = "application/json"
RUN_FAILED_MESSAGE = "An unexpected error occurred in the scoring script. Check the function's logs for details."
INIT_FAILED_MESSAGE = ("The scoring script failed to initialise (init() failed), so this app cannot score "
                       "requests. Check the function's logs, fix the script or model and restart the app.")


@dataclass
class HttpResult:
    status: int
    headers: Dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


def _json_result(status: int, payload: Any) -> HttpResult:
    return HttpResult(status, {"Content-Type": JSON_CONTENT_TYPE}, json.dumps(payload).encode("utf-8"))


def handle_http(method: str, url: str, headers: Optional[Mapping[str, str]], query: Optional[Mapping[str, Any]],
                body: Optional[bytes], script: Optional[EntryScript] = None) -> HttpResult:
    """Score one HTTP request with the entry script; never raises."""
    where = f"{(method or 'POST').upper()} {url}"
    try:
        script = script if script is not None else get_entry_script()
        script.ensure_ready()
    except InitFailedError:
        logger.error("%s: refused, the entry script is not initialised", where)
        return _json_result(503, {"message": INIT_FAILED_MESSAGE})

    payload = Payload(body=body or b"", method=method or "POST", url=url, headers=dict(headers or {}),
                      query=query, source="request")
    try:
        prepared = script.prepare(payload)
    except InvalidInputError as exc:
        logger.warning("%s: %s -> %s", where, exc.message, exc.status)
        return _json_result(exc.status, {"message": exc.message})

    try:
        result = script.run(prepared)
    except Exception:  # noqa: BLE001 - any failure of user code becomes a generic 500
        logger.exception("%s: run() raised", where)
        return _json_result(500, {"message": RUN_FAILED_MESSAGE})

    parts = as_response_parts(result)
    if parts is not None:
        status, out_headers, out_body = parts
        return HttpResult(status, out_headers, out_body)
    try:
        out = json.dumps(result).encode("utf-8")
    except (TypeError, ValueError):
        logger.exception("%s: run() returned a value that is not JSON-serialisable", where)
        return _json_result(500, {"message": RUN_FAILED_MESSAGE})
    return HttpResult(200, {"Content-Type": JSON_CONTENT_TYPE}, out)
