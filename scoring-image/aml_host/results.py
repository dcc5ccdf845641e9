"""Turning ``run`` results into output bytes (shared by the blob and Service Bus paths)."""

from typing import Any

from .json_output import to_json_bytes
from .response import as_response_parts


class ResultError(Exception):
    """A result that cannot be written as output."""


def result_to_bytes(result: Any) -> bytes:
    """Strict JSON of ``result`` as UTF-8 (NaN/Infinity as null, see :mod:`aml_host.json_output`);
    an AMLResponse gives its body (an error status raises)."""
    parts = as_response_parts(result)
    if parts is not None:
        status, _headers, body = parts
        if status >= 400:
            raise ResultError(f"run() returned an AMLResponse with status {status}")
        return body
    try:
        return to_json_bytes(result)
    except RecursionError:
        raise ResultError("run() returned a value nested too deeply to write as JSON") from None
    except (TypeError, ValueError) as exc:
        raise ResultError(f"run() returned a value that is not JSON-serialisable ({exc})") from exc
