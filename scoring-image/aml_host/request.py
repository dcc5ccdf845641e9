"""The request object handed to ``@rawhttp`` entry scripts.

Azure ML passes such scripts an ``AMLRequest``, a Flask/werkzeug ``Request``. Werkzeug is not
part of the Functions image, so this class offers the part of that interface scoring scripts
use: ``get_data()``, ``data``, ``headers``, ``method``, ``args``, ``path``, ``full_path``,
``url``, ``query_string``, ``content_type``, ``mimetype``, ``is_json`` and ``get_json()``.
"""

import json
from collections.abc import Mapping
from typing import Dict, Iterable, Iterator, List, Optional, Tuple, Union
from urllib.parse import parse_qsl, urlencode, urlsplit

from .json_limits import check_json_elements, is_json_content_type

HeaderInput = Union[Mapping, Iterable[Tuple[str, str]], None]


def _convert(value: str, type, default):  # noqa: A002 (werkzeug's parameter name)
    """werkzeug's ``get(name, default, type)``: the converted value, or ``default`` if it fails."""
    if type is None:
        return value
    try:
        return type(value)
    except ValueError:
        return default


class Headers(Mapping):
    """Read-only, case-insensitive header mapping that keeps the original spelling."""

    def __init__(self, headers: HeaderInput = None):
        self._items: Dict[str, Tuple[str, str]] = {}
        if headers is None:
            return
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in pairs:
            self._items[str(name).lower()] = (str(name), str(value))

    def __getitem__(self, name: str) -> str:
        return self._items[str(name).lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def get(self, name: str, default=None, type=None):  # noqa: A002 (werkzeug's signature)
        try:
            value = self[name]
        except KeyError:
            return default
        return _convert(value, type, default)

    def to_dict(self) -> Dict[str, str]:
        return {original: value for original, value in self._items.values()}

    def __repr__(self) -> str:
        return f"Headers({self.to_dict()!r})"


class QueryArgs(Mapping):
    """Query-string arguments; ``args[name]``/``get`` return the first value, ``getlist`` all."""

    def __init__(self, query: Union[Mapping, Iterable[Tuple[str, str]], None] = None):
        self._values: Dict[str, List[str]] = {}
        if query is None:
            return
        pairs = query.items() if isinstance(query, Mapping) else query
        for name, value in pairs:
            values = value if isinstance(value, (list, tuple)) else [value]
            self._values.setdefault(str(name), []).extend(str(v) for v in values)

    def __getitem__(self, name: str) -> str:
        return self._values[name][0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def get(self, name: str, default=None, type=None):  # noqa: A002
        if name not in self._values:
            return default
        return _convert(self._values[name][0], type, default)

    def getlist(self, name: str) -> List[str]:
        return list(self._values.get(name, []))

    def pairs(self) -> List[Tuple[str, str]]:
        return [(name, v) for name, values in self._values.items() for v in values]


class ScoringRequest:
    """A stand-in for AML's ``AMLRequest`` built from what the trigger delivered."""

    def __init__(
        self,
        body: bytes = b"",
        method: str = "POST",
        url: str = "http://localhost/score",
        headers: HeaderInput = None,
        query: Union[Mapping, Iterable[Tuple[str, str]], None] = None,
    ):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self._body = bytes(body or b"")
        self.method = (method or "POST").upper()
        self.url = url
        parts = urlsplit(url or "")
        self.path = parts.path or "/"
        self.headers = Headers(headers)
        if query is None and parts.query:
            query = parse_qsl(parts.query, keep_blank_values=True)
        self.args = QueryArgs(query)
        self.query_string = urlencode(self.args.pairs()).encode("ascii")
        qs = self.query_string.decode("ascii")
        self.full_path = f"{self.path}?{qs}"

    @property
    def data(self) -> bytes:
        return self._body

    def get_data(self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False):
        if as_text:
            return self._body.decode(self.charset, errors="replace")
        return self._body

    @property
    def content_type(self) -> Optional[str]:
        return self.headers.get("Content-Type")

    @property
    def mimetype(self) -> str:
        return (self.content_type or "").split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str:
        for part in (self.content_type or "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"')
        return "utf-8"

    @property
    def is_json(self) -> bool:
        return is_json_content_type(self.content_type)

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        """The body parsed as JSON. A body with more elements than AML_MAX_JSON_ELEMENTS raises
        :class:`aml_host.json_limits.JsonTooLargeError` (413 over HTTP) even when ``silent``,
        as werkzeug's size limit does."""
        if not (force or self.is_json):
            if silent:
                return None
            raise ValueError("request content type is not application/json")
        check_json_elements(self._body, "request")
        try:
            return json.loads(self._body.decode(self.charset))
        except (UnicodeDecodeError, ValueError):
            if silent:
                return None
            raise

    @property
    def json(self):
        return self.get_json(silent=True)

    def __repr__(self) -> str:
        return f"<ScoringRequest {self.method} {self.full_path} ({len(self._body)} bytes)>"
