"""Stand-ins for the azure-servicebus SDK send path and azure-identity, which cannot be installed
here (no PyPI). Only the names the adapter uses; the SDK's behaviour that matters to the contract
is imitated: a send of a list is one batch, a batch over the size limit raises
``MessageSizeExceededError``, an outage raises. Everything sent is recorded in ``SENT``.
"""

import sys
import types
from typing import Dict, List, Optional, Tuple

SENT: List[Tuple[str, list]] = []
CLIENTS: list = []
#: queue name -> how many more sends to it fail; a size limit for one send batch (bytes).
CONTROL: Dict[str, object] = {"fail": {}, "max_batch_bytes": None}


def reset() -> None:
    SENT.clear()
    CLIENTS.clear()
    CONTROL["fail"] = {}
    CONTROL["max_batch_bytes"] = None


def sent_to(queue: str) -> list:
    return [m for q, ms in SENT if q == queue for m in ms]


def modules() -> Dict[str, types.ModuleType]:
    identity = types.ModuleType("azure.identity")

    class ManagedIdentityCredential:
        def __init__(self, *, client_id: Optional[str] = None):
            self.client_id = client_id

    identity.ManagedIdentityCredential = ManagedIdentityCredential

    servicebus = types.ModuleType("azure.servicebus")
    exceptions = types.ModuleType("azure.servicebus.exceptions")

    class ServiceBusError(Exception):
        pass

    class MessageSizeExceededError(ServiceBusError, ValueError):
        pass

    class ServiceBusConnectionError(ServiceBusError):
        pass

    class ServiceBusMessage:
        def __init__(self, body, *, message_id=None, correlation_id=None, content_type=None,
                     application_properties=None):
            self.body, self.message_id, self.correlation_id = body, message_id, correlation_id
            self.content_type, self.application_properties = content_type, application_properties

        def size(self) -> int:
            props = self.application_properties or {}
            return (len(self.body) + sum(len(str(v or "")) for v in (self.message_id, self.correlation_id, self.content_type))
                    + sum(len(str(k)) + len(str(v)) for k, v in props.items()))

    class Sender:
        def __init__(self, queue_name):
            self.queue_name = queue_name

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_messages(self, messages):
            messages = list(messages)
            fail = CONTROL["fail"]
            if fail.get(self.queue_name, 0) > 0:
                fail[self.queue_name] -= 1
                raise ServiceBusConnectionError(f"simulated outage sending to {self.queue_name}")
            limit = CONTROL["max_batch_bytes"]
            if limit is not None and sum(m.size() for m in messages) > limit:
                raise MessageSizeExceededError(f"batch over {limit} bytes")
            SENT.append((self.queue_name, messages))

    class ServiceBusClient:
        def __init__(self, fully_qualified_namespace, credential):
            self.namespace, self.credential = fully_qualified_namespace, credential
            CLIENTS.append(self)

        def get_queue_sender(self, queue_name):
            return Sender(queue_name)

    servicebus.ServiceBusMessage = ServiceBusMessage
    servicebus.ServiceBusClient = ServiceBusClient
    servicebus.exceptions = exceptions
    exceptions.ServiceBusError = ServiceBusError
    exceptions.MessageSizeExceededError = MessageSizeExceededError
    exceptions.ServiceBusConnectionError = ServiceBusConnectionError
    return {"azure.identity": identity, "azure.servicebus": servicebus, "azure.servicebus.exceptions": exceptions}


def install() -> None:
    """Put the stand-ins into ``sys.modules`` (and onto an already imported ``azure`` package)."""
    mods = modules()
    sys.modules.update(mods)
    azure = sys.modules.get("azure")
    if azure is not None:
        azure.identity = mods["azure.identity"]
        azure.servicebus = mods["azure.servicebus"]
