"""A bound on the memory one JSON body may take once parsed, checked before anything parses it.

``json.loads`` builds a Python object per JSON value, and small values cost far more than their
text: an empty list ~64 bytes for the three bytes ``[],``, a one-key object ~200 bytes for
``{"a":1},``. A 30 MiB body of nested empty lists needs ~700 MiB to parse; a body's size does not
bound that, the number of its elements does. Elements are counted as the bytes ``[``, ``{`` and
``,`` (every container opens with one, every value after the first of a container follows a
comma): a count from above (those inside strings count too), done at memory speed on the bytes,
without decoding or parsing. Measured peaks of ``json.loads`` per counted element: ~105 bytes
for lists of small objects (the worst shape), ~44 bytes for rows of numbers, ~40 for flat lists
of numbers. A body can have no more elements than bytes, so bodies up to the limit in bytes are
not even counted.

Which bodies are counted: every body of an inference-schema script (the host parses it), and in
the other input modes a body that is JSON - its first byte after whitespace (and a UTF-8 BOM)
is ``{`` or ``[``, or its Content-Type is JSON - because entry scripts parse those themselves
(``json.loads(data)``). :meth:`aml_host.request.ScoringRequest.get_json` checks again, whatever
the body looks like.

Over the limit (app setting ``AML_MAX_JSON_ELEMENTS``, default :data:`DEFAULT_MAX_JSON_ELEMENTS`)
``run()`` is not called: HTTP answers 413, a Service Bus message goes to the failed queue (batch)
or is retried and dead-lettered (single), a blob is retried and then put on the poison queue.
"""

import re
from typing import Mapping, Optional

from .settings import max_json_elements

#: The first byte that is not JSON whitespace (searched in place: no copy of a large body).
_FIRST_BYTE = re.compile(rb"[^ \t\r\n]")
_UTF8_BOM = b"\xef\xbb\xbf"


class JsonTooLargeError(ValueError):
    """A JSON body has more elements than AML_MAX_JSON_ELEMENTS allows; it was not parsed."""

    status = 413

    def __init__(self, source: str, elements: int, limit: int):
        self.elements = elements
        self.limit = limit
        self.message = (f"The {source} body is JSON with up to {elements:,} elements (counted as '[', '{{' and ','), "
                        f"more than the {limit:,} this app parses at once (app setting AML_MAX_JSON_ELEMENTS). "
                        f"Send it in smaller parts, or raise the setting if the app has the memory for it.")
        super().__init__(self.message)


def count_json_elements(body: bytes) -> int:
    """Upper bound of the number of values in a JSON text: its ``[``, ``{`` and ``,`` bytes."""
    data = body or b""
    return data.count(b"[") + data.count(b"{") + data.count(b",")


def is_json_content_type(content_type: Optional[str]) -> bool:
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


def looks_like_json(body: bytes, headers: Optional[Mapping[str, str]] = None) -> bool:
    """Whether a body is a JSON object or array (first byte after whitespace and a UTF-8 BOM is
    ``{`` or ``[``) or is declared JSON by its Content-Type header (any case)."""
    for name, value in (headers or {}).items():
        if str(name).lower() == "content-type" and is_json_content_type(str(value)):
            return True
    data = body or b""
    first = _FIRST_BYTE.search(data, len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0)
    return first is not None and first.group() in (b"{", b"[")


def check_json_elements(body: bytes, source: str, limit: Optional[int] = None) -> None:
    """Raise :class:`JsonTooLargeError` if ``body`` has more JSON elements than ``limit``
    (default: the app setting AML_MAX_JSON_ELEMENTS)."""
    limit = max_json_elements() if limit is None else limit
    if len(body or b"") <= limit:
        return
    elements = count_json_elements(body)
    if elements > limit:
        raise JsonTooLargeError(source, elements, limit)
