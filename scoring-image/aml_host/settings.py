"""Settings of the hosting code: the per-function ``aml.json`` and the app settings it reads.

App settings (environment variables of the function app; all optional):

=============================== ========= ===================================================
name                            default   meaning
=============================== ========= ===================================================
``AML_INIT_RETRY_FIRST_SECONDS`` 5         delay before the first retry of a failed ``init()``
``AML_INIT_RETRY_MAX_SECONDS``   60        cap of the doubling delay between retries
``AML_INIT_WAIT_SECONDS``        240       how long a blob or Service Bus invocation waits for
                                           ``init()`` to succeed before it fails
``AML_HTTP_INIT_WAIT_SECONDS``   60        how long an HTTP request waits for a running
                                           ``init()`` attempt before it answers 503
``AML_MAX_REQUEST_BYTES``        104857600 largest HTTP body scored (bigger: 413)
``AML_MAX_BLOB_BYTES``           104857600 largest input blob scored (bigger: the invocation
                                           fails, the blob goes to the poison queue)
``AML_MAX_JSON_ELEMENTS``        5000000   most elements (``[``, ``{`` and ``,``) of a JSON body
                                           that is parsed (more: refused before ``run()``,
                                           413 over HTTP; see :mod:`aml_host.json_limits`)
=============================== ========= ===================================================

A value that is not a number or is out of range is logged and the default is used: a typo in
a setting must not stop the app from scoring.
"""

import json
import logging
import math
import os
import re
from typing import Any, Dict, Mapping, Optional

from .contract import HEALTH_ADAPTER_KIND, TRIGGER_ADAPTER_KINDS

logger = logging.getLogger("aml_host")

#: The kinds whose adapters the image holds.
VALID_KINDS = TRIGGER_ADAPTER_KINDS + (HEALTH_ADAPTER_KIND,)
#: ``adapters/`` beside ``aml_host/``: a trigger that ships its own adapter puts it there.
ADAPTERS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "adapters")
_SHIPPED_KIND = re.compile(r"[a-z][a-z0-9_]{0,62}")

# The Functions HTTP front end refuses bodies over 100 MB (104857600 bytes) by default.
DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024
DEFAULT_MAX_BLOB_BYTES = 100 * 1024 * 1024
# json.loads peaks at ~105 bytes per element for the worst shape (lists of small objects), so a
# parse at this limit stays near 0.5 GB (~0.2 GB for rows of numbers), a seventh of the 3.5 GB of
# EP1, the smallest Elastic Premium plan (see aml_host/json_limits.py).
DEFAULT_MAX_JSON_ELEMENTS = 5_000_000


def load_function_settings(function_directory: str) -> Dict[str, Any]:
    path = os.path.join(function_directory, "aml.json")
    try:
        with open(path, encoding="utf-8") as f:
            settings = json.load(f)
    except FileNotFoundError:
        raise ValueError(f"{path} is missing: the function folder must hold the adapter settings") from None
    except ValueError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(settings, dict) or not is_adapter_kind(settings.get("kind")):
        raise ValueError(f"{path}: 'kind' must be one of {', '.join(VALID_KINDS)}, "
                         f"or a kind whose adapters/<kind>_adapter.py its trigger shipped")
    return settings


def is_adapter_kind(kind: Any, adapters_dir: Optional[str] = None) -> bool:
    """True when an adapter serves ``kind``: one of the image's, or one a trigger shipped into
    ``adapters/`` (the library copies it there as ``<kind>_adapter.py``)."""
    if kind in VALID_KINDS:
        return True
    folder = ADAPTERS_DIR if adapters_dir is None else adapters_dir
    return (isinstance(kind, str) and _SHIPPED_KIND.fullmatch(kind) is not None
            and os.path.isfile(os.path.join(folder, f"{kind}_adapter.py")))


def number_setting(name: str, default: float, minimum: float, maximum: float,
                   environ: Optional[Mapping[str, str]] = None) -> float:
    """The app setting ``name`` as a number in [minimum, maximum]; ``default`` if unset or bad."""
    env = os.environ if environ is None else environ
    raw = env.get(name)
    if raw is None or not str(raw).strip():
        return default
    try:
        value = float(str(raw).strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < minimum or value > maximum:
        logger.warning("App setting %s=%r is not a number from %g to %g; using the default %g",
                       name, raw, minimum, maximum, default)
        return default
    return value


def max_request_bytes(environ: Optional[Mapping[str, str]] = None) -> int:
    return int(number_setting("AML_MAX_REQUEST_BYTES", DEFAULT_MAX_REQUEST_BYTES, 1, 2**40, environ))


def max_blob_bytes(environ: Optional[Mapping[str, str]] = None) -> int:
    return int(number_setting("AML_MAX_BLOB_BYTES", DEFAULT_MAX_BLOB_BYTES, 1, 2**40, environ))


def max_json_elements(environ: Optional[Mapping[str, str]] = None) -> int:
    return int(number_setting("AML_MAX_JSON_ELEMENTS", DEFAULT_MAX_JSON_ELEMENTS, 1, 2**40, environ))
