"""The response object an entry script may return (AML's ``AMLResponse``).

``AMLResponse(message, status_code, response_headers={}, json_str=False)``: with ``json_str``
the message is serialised as strict JSON (NaN/Infinity as null) and sent as application/json; otherwise it is
sent as is (str encoded as UTF-8, bytes unchanged) with the headers given.
"""

from typing import Dict, Optional, Tuple

from .json_output import to_json_bytes


class AMLResponse:
    def __init__(self, message, status_code: int, response_headers: Optional[Dict[str, str]] = None,
                 json_str: bool = False):
        self.status_code = int(status_code)
        self.headers: Dict[str, str] = dict(response_headers or {})
        if json_str:
            body = to_json_bytes(message)
            mimetype = "application/json"
        else:
            body = message
            mimetype = "text/html; charset=utf-8"
        if body is None:
            body = b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        self._body = bytes(body)
        if not any(k.lower() == "content-type" for k in self.headers):
            self.headers["Content-Type"] = mimetype

    @property
    def status(self) -> str:
        return str(self.status_code)

    @property
    def data(self) -> bytes:
        return self._body

    def get_data(self, as_text: bool = False):
        return self._body.decode("utf-8", errors="replace") if as_text else self._body


def as_response_parts(result) -> Optional[Tuple[int, Dict[str, str], bytes]]:
    """(status, headers, body) if ``result`` is an AMLResponse (ours or AML's Flask one), else None."""
    if isinstance(result, AMLResponse):
        return result.status_code, dict(result.headers), result.get_data()
    # AML's own AMLResponse is a werkzeug Response: status_code, headers (pairs), get_data().
    if type(result).__name__ == "AMLResponse" and hasattr(result, "get_data") and hasattr(result, "status_code"):
        raw_headers = getattr(result, "headers", None) or {}
        pairs = raw_headers.items() if hasattr(raw_headers, "items") else raw_headers
        headers = {str(k): str(v) for k, v in pairs}
        body = result.get_data()
        if isinstance(body, str):
            body = body.encode("utf-8")
        return int(result.status_code), headers, bytes(body)
    return None
