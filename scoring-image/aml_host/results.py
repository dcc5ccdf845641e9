"""Turning ``run`` results into output bytes (shared by the blob and Service Bus paths)."""

import json
from typing import Any

from .response import as_response_parts


class ResultError(Exception):
    """A result that cannot be written as output."""


def result_to_bytes(result: Any) -> bytes:
    """``json.dumps(result)`` as UTF-8; an AMLResponse gives its body (an error status raises)."""
    parts = as_response_parts(result)
    if parts is not None:
        status, _headers, body = parts
        if status >= 400:
            raise ResultError(f"run() returned an AMLResponse with status {status}")
        return body
    try:
        return json.dumps(result).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise ResultError(f"run() returned a value that is not JSON-serialisable ({exc})") from exc
