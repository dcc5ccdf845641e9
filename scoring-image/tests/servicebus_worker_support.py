"""Service Bus pieces for real-worker tests (worker_harness.py): trigger inputs as the Functions
host sends them, and a base class that puts the azure-servicebus SDK stand-in in place (the one
module of the image that cannot be installed here; see fake_servicebus_sdk.py)."""

import json
import os
import sys
from typing import Dict, Optional, Sequence, Tuple

from azure_functions_worker import protos
from azure_functions_worker.protos import FunctionRpc_pb2 as rpc  # collection types are not re-exported

import fake_servicebus_sdk as sdk
from worker_harness import WorkerTestCase

SDK_MODULES = ("azure.identity", "azure.servicebus", "azure.servicebus.exceptions")

# (message id or None, body, application properties)
Message = Tuple[Optional[str], bytes, Dict]


def single(body: bytes, message_id: Optional[str] = None, delivery_count: int = 1):
    """Inputs and trigger metadata of one message (cardinality one)."""
    meta = {"UserProperties": protos.TypedData(json="{}"),
            "DeliveryCount": protos.TypedData(json=str(delivery_count)),
            "ContentType": protos.TypedData(string="application/json")}
    if message_id is not None:
        meta["MessageId"] = protos.TypedData(string=message_id)
    return [protos.ParameterBinding(name="msg", data=protos.TypedData(bytes=body))], meta


def batch(items: Sequence[Message]):
    """Inputs and trigger metadata of a batch (cardinality many); a missing id arrives as ""."""
    def strings(values):
        return protos.TypedData(collection_string=rpc.CollectionString(string=list(values)))
    meta = {
        "UserPropertiesArray": protos.TypedData(json=json.dumps([{} for _ in items])),
        "ApplicationPropertiesArray": protos.TypedData(json=json.dumps([p for _, _, p in items])),
        "MessageIdArray": strings(i or "" for i, _, _ in items),
        "CorrelationIdArray": strings(f"corr-{n}" for n in range(len(items))),
        "ContentTypeArray": strings("application/json" for _ in items),
        "DeliveryCountArray": protos.TypedData(collection_sint64=rpc.CollectionSInt64(sint64=[1] * len(items))),
    }
    data = protos.TypedData(collection_bytes=rpc.CollectionBytes(bytes=[b for _, b, _ in items]))
    return [protos.ParameterBinding(name="msg", data=data)], meta


class ServiceBusWorkerTestCase(WorkerTestCase):
    """Loads the app's Service Bus functions with the SDK stand-in; ``self.one`` / ``self.many``
    are their names, ``self.sdk`` records what was sent."""

    sdk = sdk

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._saved_modules = {n: sys.modules.get(n) for n in SDK_MODULES}
        sdk.install()
        functions = {n: cls.app.settings_of(n) for n in cls.app.function_names()}
        queue = {n: s for n, s in functions.items() if s.get("kind") == "servicebus"}
        cls.one = next((n for n, s in queue.items() if s.get("cardinality") == "one"), None)
        cls.many = next((n for n, s in queue.items() if s.get("cardinality") == "many"), None)
        for settings in queue.values():
            # The namespace host name is a Terraform reference until apply; the stand-in records it.
            key = f"{settings['connection']}__fullyQualifiedNamespace"
            cls._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = "sb-test.servicebus.windows.net"

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            for name, module in cls._saved_modules.items():
                if module is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = module

    def setUp(self):
        if self.one is None or self.many is None:
            self.fail(f"the synthesized app needs a cardinality-one and a cardinality-many Service Bus function "
                      f"(functions: {self.app.function_names()})")
        sdk.reset()
        self.addCleanup(sdk.reset)

    def invoke(self, fn: str, inputs_and_meta):
        inputs, meta = inputs_and_meta
        return self.worker.invoke(fn, inputs, metadata=meta)

    def outputs(self, fn: str) -> list:
        """Messages sent to the function's output queue (since the last reset)."""
        return sdk.sent_to(self.app.settings_of(fn)["outputQueue"])

    def failed(self, fn: str) -> Dict[str, object]:
        """Messages sent to the function's failed queue, by original message id."""
        queue = self.app.settings_of(fn)["failedQueue"]
        return {m.application_properties["aml-original-message-id"]: m for m in sdk.sent_to(queue)}
