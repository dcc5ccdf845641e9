"""Reading the per-function adapter settings, ``aml.json`` beside ``function.json``."""

import json
import os
from typing import Any, Dict

VALID_KINDS = ("http", "blob", "servicebus")


def load_function_settings(function_directory: str) -> Dict[str, Any]:
    path = os.path.join(function_directory, "aml.json")
    try:
        with open(path, encoding="utf-8") as f:
            settings = json.load(f)
    except FileNotFoundError:
        raise ValueError(f"{path} is missing: the function folder must hold the adapter settings") from None
    except ValueError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(settings, dict) or settings.get("kind") not in VALID_KINDS:
        raise ValueError(f"{path}: 'kind' must be one of {', '.join(VALID_KINDS)}")
    return settings
