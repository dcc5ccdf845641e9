"""Results as strict JSON: what every output path (HTTP, blob, Service Bus) sends.

``json.dumps`` writes ``NaN``, ``Infinity`` and ``-Infinity`` for non-finite floats, which is
not JSON: most parsers (JavaScript's ``JSON.parse``, .NET, Go) reject the whole document. A
model can produce them (a regression on missing features, a probability of 0/0), so they are
sent as ``null``, JSON's "no value", with a warning in the log; the rest of the result is
kept. Anything else ``json.dumps`` cannot write raises ``TypeError``/``ValueError``, and a
structure nested deeper than the interpreter's recursion limit raises ``RecursionError``:
callers turn those into a clear failure.
"""

import json
import logging
import math
from typing import Any, List

logger = logging.getLogger("aml_host")


def _finite(value: Any, replaced: List[int]) -> Any:
    if isinstance(value, float):  # also numpy.float64, a float subclass
        if math.isfinite(value):
            return value
        replaced[0] += 1
        return None
    if isinstance(value, dict):
        return {k: _finite(v, replaced) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v, replaced) for v in value]
    return value


def to_json_bytes(value: Any) -> bytes:
    """Strict JSON (UTF-8) of ``value``; non-finite floats become ``null``."""
    try:
        return json.dumps(value, allow_nan=False).encode("utf-8")
    except ValueError as exc:
        if "Out of range float" not in str(exc):
            raise
    replaced = [0]
    cleaned = _finite(value, replaced)
    out = json.dumps(cleaned, allow_nan=False).encode("utf-8")
    logger.warning("run() returned %d non-finite number(s) (NaN or Infinity); sent as null", replaced[0])
    return out
