"""Settings of the model downloader, read from app settings (environment variables).

Set by the construct: ``AML_MODEL_SOURCE`` (what to fetch, JSON), ``AML_MODEL_CLIENT_ID`` (the
user-assigned identity), ``AML_MODEL_ARM_ENDPOINT`` / ``AML_MODEL_STORAGE_SUFFIX`` (cloud).
Optional tuning and test settings are listed in ``SETTINGS`` with their defaults.
"""

import json
import os
from dataclasses import dataclass
from typing import Mapping, Optional
from urllib.parse import urlsplit

from ..contract import IMAGE_VALUES, MODEL_SOURCES
from .errors import ModelFetchError

SETTINGS = {
    "AML_MODEL_ARM_ENDPOINT": "https://management.azure.com",
    "AML_MODEL_ARM_AUDIENCE": "<AML_MODEL_ARM_ENDPOINT>/",
    "AML_MODEL_STORAGE_SUFFIX": "core.windows.net",
    "AML_MODEL_STORAGE_AUDIENCE": "https://storage.azure.com/",
    "AML_MODEL_BLOB_ENDPOINT": "{protocol}://{account}.blob.{suffix}",
    "AML_MODEL_TIMEOUT_SECONDS": "1800",
    "AML_MODEL_REQUEST_TIMEOUT_SECONDS": "60",
    "AML_MODEL_MAX_ATTEMPTS": "8",
    "AML_MODEL_RETRY_BASE_SECONDS": "0.5",
    "AML_MODEL_RETRY_MAX_SECONDS": "30",
    "AML_MODEL_CONCURRENCY": "8",
}

DEFAULT_MODEL_DIR = IMAGE_VALUES["AZUREML_MODEL_DIR"]

# "amlWorkspace, amlRegistry or blob"
_KINDS_TEXT = ", ".join(list(MODEL_SOURCES)[:-1]) + " or " + list(MODEL_SOURCES)[-1]


@dataclass(frozen=True)
class ModelSpec:
    """What ``AML_MODEL_SOURCE`` names."""

    kind: str  # amlWorkspace | amlRegistry | blob
    resource_id: str  # workspaceId, registryId or storageAccountId
    name: str = ""
    version: str = ""
    container: str = ""
    path: str = ""

    @property
    def registered(self) -> bool:
        return self.kind in ("amlWorkspace", "amlRegistry")

    def describe(self) -> str:
        if self.kind == "amlWorkspace":
            return f"model {self.name}:{self.version} of workspace {self.resource_id.rsplit('/', 1)[-1]}"
        if self.kind == "amlRegistry":
            return f"model {self.name}:{self.version} of registry {self.resource_id.rsplit('/', 1)[-1]}"
        return f"model blob(s) {self.container}/{self.path} of storage account {self.resource_id.rsplit('/', 1)[-1]}"

    def canonical(self) -> str:
        """A stable string of the reference, for the marker file."""
        return json.dumps({"kind": self.kind, "id": self.resource_id.lower(), "name": self.name, "version": self.version,
                           "container": self.container, "path": self.path}, sort_keys=True)

    @staticmethod
    def parse(raw: str) -> "ModelSpec":
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ModelFetchError(f"AML_MODEL_SOURCE is not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ModelFetchError("AML_MODEL_SOURCE must be a JSON object")
        kind = data.get("kind")

        def need(key: str) -> str:
            value = data.get(key)
            if not isinstance(value, str) or not value:
                raise ModelFetchError(f"AML_MODEL_SOURCE ({kind}) needs a non-empty string '{key}'")
            return value

        if kind == "amlWorkspace":
            return ModelSpec(kind, need("workspaceId"), name=need("name"), version=need("version"))
        if kind == "amlRegistry":
            return ModelSpec(kind, need("registryId"), name=need("name"), version=need("version"))
        if kind == "blob":
            return ModelSpec(kind, need("storageAccountId"), container=need("container"), path=need("path"))
        raise ModelFetchError(f"AML_MODEL_SOURCE has unknown kind {kind!r}: expected {_KINDS_TEXT}")


@dataclass(frozen=True)
class FetchConfig:
    spec: ModelSpec
    client_id: Optional[str]
    identity_endpoint: Optional[str]
    identity_header: Optional[str]
    arm_endpoint: str
    arm_audience: str
    storage_suffix: str
    storage_audience: str
    blob_endpoint: str
    timeout: float
    request_timeout: float
    max_attempts: int
    retry_base: float
    retry_max: float
    concurrency: int


def _number(environ: Mapping[str, str], key: str, kind, minimum):
    raw = environ.get(key) or SETTINGS[key]
    try:
        value = kind(raw)
    except ValueError:
        raise ModelFetchError(f"{key}={raw!r} is not a number") from None
    if value < minimum:
        raise ModelFetchError(f"{key}={raw!r} must be at least {minimum}")
    return value


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def check_storage_url(what: str, url: str, storage_suffix: str) -> str:
    """A blob URL that Azure (ARM, a registry) handed out: https (http only to the loopback
    interface, as check_endpoint) and a host of this cloud's storage (``*.<storage suffix>``), so
    neither the identity's storage token nor a registry's SAS goes anywhere else."""
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.netloc}{parts.path}"
    check_endpoint(what, shown)
    host = (parts.hostname or "").lower()
    suffix = storage_suffix.lower().strip(".")
    if host not in LOOPBACK_HOSTS and not host.endswith(f".{suffix}"):
        raise ModelFetchError(f"{what} {shown!r} is not a storage endpoint of this cloud (*.{suffix}, "
                              "AML_MODEL_STORAGE_SUFFIX); nothing is sent there")
    return url


def check_endpoint(key: str, url: str) -> str:
    """https, or http to the loopback interface only (local tests): tokens never travel in clear."""
    parts = urlsplit(url)
    loopback = parts.hostname in LOOPBACK_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ModelFetchError(f"{key}={url!r}: only https endpoints are allowed (http only on the loopback interface)")
    return url.rstrip("/")


def load_config(environ: Mapping[str, str] = os.environ) -> FetchConfig:
    raw = environ.get("AML_MODEL_SOURCE")
    if not raw:
        raise ModelFetchError("AML_MODEL_SOURCE is not set")
    arm = check_endpoint("AML_MODEL_ARM_ENDPOINT", environ.get("AML_MODEL_ARM_ENDPOINT") or SETTINGS["AML_MODEL_ARM_ENDPOINT"])
    return FetchConfig(
        spec=ModelSpec.parse(raw),
        client_id=environ.get("AML_MODEL_CLIENT_ID") or None,
        identity_endpoint=environ.get("IDENTITY_ENDPOINT") or None,
        identity_header=environ.get("IDENTITY_HEADER") or None,
        arm_endpoint=arm,
        arm_audience=environ.get("AML_MODEL_ARM_AUDIENCE") or f"{arm}/",
        storage_suffix=environ.get("AML_MODEL_STORAGE_SUFFIX") or SETTINGS["AML_MODEL_STORAGE_SUFFIX"],
        storage_audience=environ.get("AML_MODEL_STORAGE_AUDIENCE") or SETTINGS["AML_MODEL_STORAGE_AUDIENCE"],
        blob_endpoint=environ.get("AML_MODEL_BLOB_ENDPOINT") or SETTINGS["AML_MODEL_BLOB_ENDPOINT"],
        timeout=_number(environ, "AML_MODEL_TIMEOUT_SECONDS", float, 1),
        request_timeout=_number(environ, "AML_MODEL_REQUEST_TIMEOUT_SECONDS", float, 1),
        max_attempts=_number(environ, "AML_MODEL_MAX_ATTEMPTS", int, 1),
        retry_base=_number(environ, "AML_MODEL_RETRY_BASE_SECONDS", float, 0),
        retry_max=_number(environ, "AML_MODEL_RETRY_MAX_SECONDS", float, 0),
        concurrency=_number(environ, "AML_MODEL_CONCURRENCY", int, 1),
    )
