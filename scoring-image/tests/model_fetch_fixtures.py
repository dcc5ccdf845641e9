"""Shared set-up of the model downloader tests: one Azurite per test module, doubles for the
identity endpoint and Azure Resource Manager, and helpers to register models in them."""

import os
import shutil
import tempfile
import unittest
from typing import Dict, Optional

from .azure_doubles import ArmDouble, IdentityEndpoint, ok
from .azurite_server import ACCOUNT, Azurite

SUB = "11111111-2222-3333-4444-555555555555"
WS_ID = f"/subscriptions/{SUB}/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/mlw"
REG_ID = f"/subscriptions/{SUB}/resourceGroups/rg-shared/providers/Microsoft.MachineLearningServices/registries/shared"
SA_ID = f"/subscriptions/{SUB}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/{ACCOUNT}"


class Services:
    """Started once per module (Azurite takes a few seconds)."""

    azurite: Optional[Azurite] = None
    identity: Optional[IdentityEndpoint] = None
    arm: Optional[ArmDouble] = None
    saved_cert: Optional[str] = None

    @classmethod
    def start(cls) -> None:
        cls.azurite = Azurite()
        cls.identity = IdentityEndpoint()
        cls.arm = ArmDouble()
        # The downloader uses the default TLS context; trust the emulator's self-signed certificate.
        cls.saved_cert = os.environ.get("SSL_CERT_FILE")
        os.environ["SSL_CERT_FILE"] = cls.azurite.cert

    @classmethod
    def stop(cls) -> None:
        for s in (cls.identity, cls.arm, cls.azurite):
            if s is not None:
                s.stop()
        cls.azurite = cls.identity = cls.arm = None
        if cls.saved_cert is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = cls.saved_cert


class FetchTestCase(unittest.TestCase):
    """A temp model root per test and the settings the construct would give the app."""

    def setUp(self):
        if Services.azurite is None:
            self.fail("Services.start() was not called by setUpModule")
        self.tmp = tempfile.mkdtemp(prefix="model-fetch-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.root = os.path.join(self.tmp, "azureml-models")
        os.makedirs(self.root)
        Services.arm.routes.clear()
        Services.arm.requests.clear()
        Services.identity.requests.clear()

    @property
    def azurite(self) -> Azurite:
        return Services.azurite

    @property
    def arm(self) -> ArmDouble:
        return Services.arm

    def env(self, source: str, **extra: str) -> Dict[str, str]:
        env = {
            "AML_MODEL_SOURCE": source,
            "AZUREML_MODEL_DIR": self.root,
            "AML_MODEL_ARM_ENDPOINT": self.arm.url,
            "AML_MODEL_BLOB_ENDPOINT": self.azurite.endpoint_template,
            "AML_MODEL_RETRY_BASE_SECONDS": "0.01",
            "AML_MODEL_RETRY_MAX_SECONDS": "0.05",
            **Services.identity.environ(),
        }
        env.update(extra)
        return env

    def register_workspace_model(self, name: str, version: str, container: str, path: str, datastore: str = "workspaceblobstore") -> None:
        uri = f"azureml://subscriptions/{SUB}/resourcegroups/rg-ml/workspaces/mlw/datastores/{datastore}/paths/{path}"
        self.arm.on("GET", f"{WS_ID}/models/{name}/versions/{version}", ok({"properties": {"modelUri": uri}}))
        self.arm.on("GET", f"{WS_ID}/datastores/{datastore}", ok({"properties": {
            "datastoreType": "AzureBlob", "accountName": ACCOUNT, "containerName": container,
            "endpoint": "core.windows.net", "protocol": "https", "credentials": {"credentialsType": "None"}}}))


def workspace_source(name: str, version: str) -> str:
    import json
    return json.dumps({"kind": "amlWorkspace", "workspaceId": WS_ID, "name": name, "version": version})


def blob_source(container: str, path: str) -> str:
    import json
    return json.dumps({"kind": "blob", "storageAccountId": SA_ID, "container": container, "path": path})


def files_under(root: str) -> Dict[str, bytes]:
    found = {}
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                found[os.path.relpath(p, root).replace(os.sep, "/")] = f.read()
    return found
