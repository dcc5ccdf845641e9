"""The names this host shares with the TypeScript library, read from ``contract.json`` beside
this module (the library reads the same file; see its ``$comment`` for what each part means).
"""

import json
import os
from typing import Dict, FrozenSet, Tuple

CONTRACT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "contract.json")

with open(CONTRACT_PATH, encoding="utf-8") as _f:
    CONTRACT = json.load(_f)

#: ``kind`` of a trigger function's aml.json; each is served by ``adapters/<kind>_adapter.py``.
TRIGGER_ADAPTER_KINDS: Tuple[str, ...] = tuple(CONTRACT["triggerAdapterKinds"])
#: ``kind`` of the health function's aml.json.
HEALTH_ADAPTER_KIND: str = CONTRACT["healthAdapterKind"]
#: ``kind`` of the AML_MODEL_SOURCE JSON, with the fields each kind carries.
MODEL_SOURCES: Dict[str, Tuple[str, ...]] = {kind: tuple(fields) for kind, fields in CONTRACT["modelSources"].items()}
#: Every app setting the host reads.
APP_SETTINGS: FrozenSet[str] = frozenset(CONTRACT["appSettings"])
#: The value the image's Dockerfile gives a setting (``ENV``), by name.
IMAGE_VALUES: Dict[str, str] = {name: entry["imageValue"] for name, entry in CONTRACT["appSettings"].items()
                                if "imageValue" in entry}
