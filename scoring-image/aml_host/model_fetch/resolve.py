"""From a model reference to a blob location: where the bytes are and how to read them.

* Workspace: ``GET <arm><workspace>/models/<name>/versions/<v>`` (api-version 2024-04-01) ->
  ``properties.modelUri`` ``azureml://subscriptions/../workspaces/../datastores/<ds>/paths/<p>``
  -> ``GET <arm><workspace>/datastores/<ds>`` -> account, container, endpoint suffix, protocol;
  blobs are read with the identity's own storage token (role: Storage Blob Data Reader).
* Registry: ``GET <arm><registry>/models/<name>/versions/<v>`` -> ``modelUri``, then
  ``POST <arm><registry>/datareferences/<name>/versions/<v>`` -> the blob URL and the credential
  the registry hands out for it. A registry's storage belongs to Azure ML; its API answers
  with a short-lived, read-only SAS for the model's blobs (the only way it offers), which is
  used in memory only and never logged. Should it answer ``ManagedIdentity``/``NoCredentials``,
  the identity's token (or nothing) is used instead.
* Blob: the account from ``storageAccountId``, ``https://<account>.blob.<suffix>``.
"""

import json
import re
from urllib.parse import quote

from .blob_store import BlobAuth, BlobLocation, is_denied, split_blob_url
from .config import FetchConfig, check_storage_url
from .errors import HttpError, ModelAccessDenied, ModelFetchError, ModelNotFound
from .http_client import Deadline, HttpClient
from .identity import ManagedIdentity

ARM_API_VERSION = "2024-04-01"
# How the name of the custom role the deployment grants on a registry starts (it reads the
# registry and its assets, nothing else: lib/model/aml-registry-model-source.ts).
REGISTRY_READER_ROLE = "AML registry model reader"

_ID = re.compile(r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/([^/]+)/([^/]+)/([^/]+)$", re.I)
_DATASTORE_URI = re.compile(
    r"^azureml://subscriptions/([^/]+)/resource[gG]roups/([^/]+)/(?:providers/Microsoft\.MachineLearningServices/)?"
    r"workspaces/([^/]+)/datastores/([^/]+)/paths/(.*)$", re.I)
_SHORT_DATASTORE_URI = re.compile(r"^azureml://datastores/([^/]+)/paths/(.*)$", re.I)


def parse_id(resource_id: str, expected_type: str) -> tuple:
    m = _ID.match(resource_id)
    if not m or m.group(4).lower() != expected_type.lower():
        raise ModelFetchError(f"{resource_id!r} is not the resource id of a {expected_type} resource")
    return m.group(1), m.group(2), m.group(5)


def blob_endpoint(cfg: FetchConfig, account: str, suffix: str, protocol: str = "https", what: str = "AML_MODEL_BLOB_ENDPOINT") -> str:
    """The account's blob endpoint: https (http only to the loopback interface) and a storage host
    of this cloud, also when the suffix or protocol came from a datastore."""
    url = cfg.blob_endpoint.format(account=account, suffix=suffix, protocol=protocol or "https")
    return check_storage_url(what, url, cfg.storage_suffix).rstrip("/")


class Resolver:
    def __init__(self, cfg: FetchConfig, client: HttpClient, identity: ManagedIdentity):
        self.cfg = cfg
        self.client = client
        self.identity = identity

    def storage_auth(self) -> BlobAuth:
        return BlobAuth(bearer=lambda d: self.identity.token(self.cfg.storage_audience, d))

    def _arm(self, method: str, resource_path: str, deadline: Deadline, role: str, scope: str, what: str, body=None):
        url = f"{self.cfg.arm_endpoint}{quote(resource_path, safe='/')}?api-version={ARM_API_VERSION}"
        token = self.identity.token(self.cfg.arm_audience, deadline)
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        try:
            return self.client.request(method, url, deadline, headers=headers, body=data, what=what).json()
        except HttpError as exc:
            spec = self.cfg.spec
            if is_denied(exc):
                raise ModelAccessDenied(
                    f"{spec.describe()}: {self.identity.describe()} was refused {what} (HTTP {exc.status} {exc.code}). "
                    f"Grant it the '{role}' role on {scope}.") from None
            if exc.status == 404:
                raise ModelNotFound(f"{spec.describe()}: {what} found nothing (HTTP 404 {exc.code}: {exc.detail})") from None
            raise

    def resolve(self, deadline: Deadline) -> BlobLocation:
        kind = self.cfg.spec.kind
        if kind == "amlWorkspace":
            return self._workspace(deadline)
        if kind == "amlRegistry":
            return self._registry(deadline)
        return self._blob()

    def _model_uri(self, deadline: Deadline, role: str, scope: str) -> str:
        """The model version's ``properties.modelUri`` (workspace and registry alike)."""
        spec = self.cfg.spec
        version = self._arm("GET", f"{spec.resource_id}/models/{spec.name}/versions/{spec.version}", deadline,
                            role, scope, "reading the model version")
        uri = (version.get("properties") or {}).get("modelUri")
        if not isinstance(uri, str) or not uri:
            raise ModelFetchError(f"{spec.describe()}: the model version has no properties.modelUri")
        return uri

    def _workspace(self, deadline: Deadline) -> BlobLocation:
        spec = self.cfg.spec
        parse_id(spec.resource_id, "workspaces")
        uri = self._model_uri(deadline, "Reader", f"the workspace {spec.resource_id}")
        m = _DATASTORE_URI.match(uri)
        if m:
            sub, rg, ws, datastore, path = m.groups()
            workspace_id = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}"
        else:
            short = _SHORT_DATASTORE_URI.match(uri)
            if short:
                workspace_id = spec.resource_id
                datastore, path = short.groups()
            elif uri.startswith("https://") or uri.startswith("http://"):
                container_url, path, _ = split_blob_url(check_storage_url(f"{spec.describe()}: modelUri", uri, self.cfg.storage_suffix))
                return BlobLocation(container_url, path, self.storage_auth(), f"{container_url.rsplit('/', 1)[0]} container {container_url.rsplit('/', 1)[1]}")
            else:
                raise ModelFetchError(f"{spec.describe()}: unsupported modelUri form {uri.split('?')[0]!r} "
                                      "(expected azureml://.../datastores/<name>/paths/<path> or a blob URL)")
        ds = self._arm("GET", f"{workspace_id}/datastores/{datastore}", deadline, "Reader", f"the workspace {workspace_id}",
                       f"reading the datastore '{datastore}'")
        props = ds.get("properties") or {}
        ds_type = props.get("datastoreType")
        account = props.get("accountName")
        container = props.get("containerName") if ds_type == "AzureBlob" else props.get("filesystem")
        if ds_type not in ("AzureBlob", "AzureDataLakeGen2") or not account or not container:
            raise ModelFetchError(f"{spec.describe()}: datastore '{datastore}' is of type {ds_type!r}; only Azure Blob and "
                                  "ADLS Gen2 datastores can be read")
        base = blob_endpoint(self.cfg, account, props.get("endpoint") or self.cfg.storage_suffix, props.get("protocol") or "https",
                             f"{spec.describe()}: datastore '{datastore}'")
        return BlobLocation(f"{base}/{container}", path, self.storage_auth(),
                            f"storage account '{account}' container '{container}' (datastore '{datastore}')")

    def _registry(self, deadline: Deadline) -> BlobLocation:
        spec = self.cfg.spec
        _, _, registry = parse_id(spec.resource_id, "registries")
        scope = f"the registry {spec.resource_id}"
        uri = self._model_uri(deadline, REGISTRY_READER_ROLE, scope)
        body = {"assetId": f"azureml://registries/{registry}/models/{spec.name}/versions/{spec.version}", "blobUri": uri}
        ref = self._arm("POST", f"{spec.resource_id}/datareferences/{spec.name}/versions/{spec.version}", deadline,
                        REGISTRY_READER_ROLE, scope, "getting the data reference of the model's blobs", body=body)
        consumption = ref.get("blobReferenceForConsumption") or {}
        credential = consumption.get("credential") or {}
        ctype = str(credential.get("credentialType", "")).lower()
        blob_uri = check_storage_url(f"{spec.describe()}: the registry's blob URI", consumption.get("blobUri") or uri, self.cfg.storage_suffix)
        if ctype == "sas":
            sas_uri = credential.get("sasUri")
            if not isinstance(sas_uri, str) or "?" not in sas_uri:
                raise ModelFetchError(f"{spec.describe()}: the registry returned a SAS credential without a SAS URI")
            container_url, _, query = split_blob_url(check_storage_url(f"{spec.describe()}: the registry's SAS URI", sas_uri, self.cfg.storage_suffix))
            _, path, _ = split_blob_url(blob_uri)
            auth = BlobAuth(sas=query)
        elif ctype in ("managedidentity", "nocredentials", ""):
            container_url, path, _ = split_blob_url(blob_uri)
            auth = self.storage_auth() if ctype == "managedidentity" else BlobAuth()
        else:
            raise ModelFetchError(f"{spec.describe()}: the registry returned a credential of type {ctype!r}, which this host cannot use")
        return BlobLocation(container_url, path, auth, f"the storage of registry '{registry}'")

    def _blob(self) -> BlobLocation:
        spec = self.cfg.spec
        _, _, account = parse_id(spec.resource_id, "storageAccounts")
        base = blob_endpoint(self.cfg, account, self.cfg.storage_suffix)
        return BlobLocation(f"{base}/{spec.container}", spec.path, self.storage_auth(),
                            f"storage account '{account}' container '{spec.container}'")


def storage_role_hint(cfg: FetchConfig, loc: BlobLocation) -> str:
    """The role and scope a 403 from storage points at."""
    if cfg.spec.kind == "amlRegistry":
        return (f"The registry hands out a read-only SAS for its storage; check that the identity still has "
                f"'{REGISTRY_READER_ROLE}' on {cfg.spec.resource_id}")
    return f"Grant it 'Storage Blob Data Reader' on {loc.where}"


