"""The model folder on local disk: one download per instance, whatever the number of worker
processes, and no second download of the same model.

* ``fcntl.flock`` on ``<root>/.model-fetch.lock``: the first worker process downloads, the
  others wait and then find the marker.
* ``<root>/.model-source.json`` (the marker) records which model is in place and what was
  created for it. A matching marker means "already here"; a different one (a new version)
  means the old files are removed after the new ones are in place.
* Files land in ``<root>/.partial-*`` first and are moved into place with one ``rename``, so a
  crash never leaves a half model where the entry script looks.
"""

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from typing import Iterator, List, Optional

from .errors import ModelFetchError
from .http_client import Deadline

LOCK_NAME = ".model-fetch.lock"
MARKER_NAME = ".model-source.json"
PARTIAL_PREFIX = ".partial-"


@contextlib.contextmanager
def exclusive(root: str, deadline: Deadline, poll: float = 0.2) -> Iterator[None]:
    os.makedirs(root, exist_ok=True)
    fd = os.open(os.path.join(root, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline.remaining() <= 0:
                    raise ModelFetchError("timed out waiting for another worker process to finish downloading the model") from None
                time.sleep(poll)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def read_marker(root: str) -> Optional[dict]:
    try:
        with open(os.path.join(root, MARKER_NAME), encoding="utf-8") as f:
            data = json.load(f)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def marker_matches(root: str, source: str) -> bool:
    marker = read_marker(root)
    if not marker or marker.get("source") != source:
        return False
    return all(os.path.exists(os.path.join(root, p)) for p in marker.get("installed", []))


def write_marker(root: str, source: str, installed: List[str], files: int, total_bytes: int) -> None:
    tmp = os.path.join(root, f"{MARKER_NAME}.{uuid.uuid4().hex}")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"source": source, "installed": installed, "files": files, "bytes": total_bytes,
                   "completedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, f)
    os.replace(tmp, os.path.join(root, MARKER_NAME))


def new_partial(root: str) -> str:
    path = os.path.join(root, f"{PARTIAL_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}")
    os.makedirs(path)
    return path


def clean_partials(root: str) -> None:
    """Leftovers of a crashed download (only ever called under the lock)."""
    for name in os.listdir(root):
        if name.startswith(PARTIAL_PREFIX) or name.startswith(".stale-"):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def install(root: str, staged: str, relative_target: str) -> None:
    """Moves ``staged`` to ``<root>/<relative_target>`` with one rename (same file system)."""
    target = os.path.join(root, relative_target)
    # The model folder holds no links of its own: one planted above the target (`<root>/<name>`
    # -> elsewhere) would move the model, and a later version's cleanup, out of the folder.
    parts = relative_target.split("/")
    for i in range(1, len(parts)):
        above = os.path.join(root, *parts[:i])
        if os.path.islink(above):
            os.unlink(above)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.lexists(target):
        stale = os.path.join(root, f".stale-{uuid.uuid4().hex[:8]}")
        os.rename(target, stale)
        if os.path.isdir(stale) and not os.path.islink(stale):
            shutil.rmtree(stale, ignore_errors=True)
        else:
            os.unlink(stale)
    os.rename(staged, target)


def remove_previous(root: str, keep: List[str]) -> None:
    """Removes what the previous marker installed, except the paths now in use."""
    marker = read_marker(root)
    for rel in (marker or {}).get("installed", []):
        if rel in keep or os.path.isabs(rel) or ".." in rel.split("/"):
            continue
        path = os.path.join(root, rel)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            os.unlink(path)
