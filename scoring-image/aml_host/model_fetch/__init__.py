"""Fetching a model that stays in Azure (an Azure ML workspace or registry, or Blob storage)
to local disk before the entry script's ``init()`` runs, with the app's managed identity.

``ensure_model()`` is a no-op unless ``AML_MODEL_SOURCE`` is set. Layout under the model root
(``AZUREML_MODEL_DIR`` as the image sets it, ``/var/azureml-app/azureml-models``):

* registered models (workspace, registry): ``<root>/<name>/<version>/<last segment of the
  model's path>[/...]``, and ``AZUREML_MODEL_DIR`` becomes ``<root>/<name>/<version>`` for the
  worker process, which is what an Azure ML online endpoint gives a single model. A model
  registered from a folder ``churn`` is at ``$AZUREML_MODEL_DIR/churn/...``; one registered
  from a file ``model.pkl`` at ``$AZUREML_MODEL_DIR/model.pkl``.
* blob: ``<root>/<last segment of path>[/...]`` (the file, or the folder with everything under
  the prefix), like ``ModelSource.fromLocalPath``; ``AZUREML_MODEL_DIR`` stays the root.

Standard library only. See ``config.SETTINGS`` for the settings and their defaults.
"""

import logging
import os
import shutil
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import List, MutableMapping, Optional

from .blob_store import BlobFile, BlobLocation, Part, download_part, is_denied, list_blobs, plan_files, prepare_file, split_parts
from .config import DEFAULT_MODEL_DIR, FetchConfig, load_config
from .errors import HttpError, ModelAccessDenied, ModelFetchError, ModelNotFound
from .http_client import Deadline, HttpClient, RetryPolicy
from .identity import ManagedIdentity
from .local_store import clean_partials, exclusive, install, marker_matches, new_partial, remove_previous, write_marker
from .progress import Progress
from .resolve import Resolver, storage_role_hint

__all__ = ["ensure_model", "ModelFetchError", "ModelAccessDenied", "ModelNotFound"]

logger = logging.getLogger("aml_host.model_fetch")


def ensure_model(environ: Optional[MutableMapping[str, str]] = None) -> Optional[str]:
    """Makes sure the model named by ``AML_MODEL_SOURCE`` is on local disk; returns the folder
    ``AZUREML_MODEL_DIR`` now points to (None when no model is to be fetched)."""
    env = os.environ if environ is None else environ
    if not env.get("AML_MODEL_SOURCE"):
        return None
    cfg = load_config(env)
    spec = cfg.spec
    root = env.get("AML_MODEL_ROOT") or env.get("AZUREML_MODEL_DIR") or DEFAULT_MODEL_DIR
    deadline = Deadline(cfg.timeout)
    source = spec.canonical()
    with exclusive(root, deadline):
        if marker_matches(root, source):
            logger.info("%s: already in %s, not downloaded again", spec.describe(), root)
        else:
            _download(cfg, root, deadline)
    model_dir = os.path.join(root, spec.name, spec.version) if spec.registered else root
    env["AML_MODEL_ROOT"] = root
    env["AZUREML_MODEL_DIR"] = model_dir
    logger.info("%s: AZUREML_MODEL_DIR=%s", spec.describe(), model_dir)
    return model_dir


def _storage_denied(cfg: FetchConfig, identity: ManagedIdentity, loc: BlobLocation, exc: HttpError, action: str) -> ModelAccessDenied:
    who = "the registry's SAS" if cfg.spec.kind == "amlRegistry" else identity.describe()
    return ModelAccessDenied(f"{cfg.spec.describe()}: {who} was refused {action} (HTTP {exc.status} {exc.code}). "
                             f"{storage_role_hint(cfg, loc)}.")


def _download(cfg: FetchConfig, root: str, deadline: Deadline) -> None:
    client = HttpClient(cfg.request_timeout, RetryPolicy(cfg.max_attempts, cfg.retry_base, cfg.retry_max))
    identity = ManagedIdentity(client, cfg.identity_endpoint, cfg.identity_header, cfg.client_id)
    try:
        _resolve_and_download(cfg, client, identity, root, deadline)
    except (OSError, ValueError, OverflowError) as exc:
        # What the storage's names and sizes can make the local file system refuse (a name too
        # long, a file and a folder of one name, a size the disk cannot hold): say which model.
        # Network errors (OSErrors without a file name) are the HTTP client's, already retried.
        if isinstance(exc, OSError) and exc.filename is None:
            raise
        raise ModelFetchError(f"{cfg.spec.describe()}: the model cannot be stored in {root}: "
                              f"{type(exc).__name__}: {exc}") from None
    finally:
        client.close_all()


def _resolve_and_download(cfg: FetchConfig, client: HttpClient, identity: ManagedIdentity, root: str, deadline: Deadline) -> None:
    spec = cfg.spec
    logger.info("%s: resolving", spec.describe())
    loc = Resolver(cfg, client, identity).resolve(deadline)
    try:
        # The path as given: "churn/" lists the folder only (what a path-limited role allows).
        listing = list_blobs(client, loc, loc.path, deadline)
    except HttpError as exc:
        if is_denied(exc):
            raise _storage_denied(cfg, identity, loc, exc, f"listing blobs under '{loc.path}' in {loc.where}") from None
        raise
    files = plan_files(loc, listing)
    total = sum(f.size for f in files)
    logger.info("%s: %d file(s), %.1f MB in %s", spec.describe(), len(files), total / 1048576, loc.where)

    clean_partials(root)
    partial = new_partial(root)
    try:
        _download_all(cfg, client, identity, loc, files, partial, total, deadline)
        top = files[0].local.split("/", 1)[0]
        if spec.registered:
            installed = [f"{spec.name}/{spec.version}"]
            install(root, partial, installed[0])
        else:
            installed = [top]
            install(root, os.path.join(partial, top), top)
        remove_previous(root, keep=installed)
        write_marker(root, spec.canonical(), installed, len(files), total)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _download_all(cfg: FetchConfig, client: HttpClient, identity: ManagedIdentity, loc: BlobLocation,
                  files: List[BlobFile], partial: str, total: int, deadline: Deadline) -> None:
    progress = Progress(cfg.spec.describe(), len(files), total)
    stop = threading.Event()

    parts = split_parts(files)
    remaining = {}
    for f in files:
        prepare_file(os.path.join(partial, *f.local.split("/")), f.size)
        remaining[f.name] = 0
    for p in parts:
        remaining[p.item.name] += 1
    count_lock = threading.Lock()

    def one(part: Part) -> None:
        if stop.is_set():
            return
        item = part.item
        try:
            download_part(client, loc, part, os.path.join(partial, *item.local.split("/")), deadline, progress.add_bytes)
        except HttpError as exc:
            stop.set()
            if is_denied(exc):
                raise _storage_denied(cfg, identity, loc, exc, f"reading '{item.name}' in {loc.where}") from None
            if exc.status == 404:
                raise ModelNotFound(f"{cfg.spec.describe()}: '{item.name}' disappeared from {loc.where} while downloading") from None
            if exc.status in (412, 416) or (exc.status == 200 and not part.whole):
                raise ModelFetchError(f"{cfg.spec.describe()}: '{item.name}' changed while downloading (range refused)") from None
            raise
        except BaseException:
            stop.set()
            raise
        with count_lock:
            remaining[item.name] -= 1
            finished = remaining[item.name] == 0
        if finished:
            progress.file_done()

    workers = max(1, min(cfg.concurrency, len(parts)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="model-fetch") as pool:
        futures = [pool.submit(one, p) for p in parts]
        wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            if future.done() and future.exception() is not None:
                for other in futures:
                    other.cancel()
                raise future.exception()
        for future in futures:
            future.result()
    progress.finish()
