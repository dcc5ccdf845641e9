"""Service Bus trigger adapter. Binding: in ``msg`` (serviceBusTrigger), no output binding.

Results (and, for batches, failed messages) are sent with the azure-servicebus SDK (the
Functions output binding cannot set ``message_id``/``correlation_id`` from Python), with the
function app's user-assigned identity (``<connection>__clientId``) to
``<connection>__fullyQualifiedNamespace``; queues, connection prefix and the size limit come from
``aml.json`` in the function folder. Everything is sent BEFORE the function returns; the delivery
contract (which failures fail the invocation) is in ``aml_host.servicebus``.

``msg`` carries no type annotation on purpose: one module serves both ``cardinality: one``
(a ``func.ServiceBusMessage``) and ``cardinality: many`` (a ``List[func.ServiceBusMessage]``),
and the Python worker then decodes by the binding's data type.
"""

import os
import threading
from typing import Any, Dict, List, Optional, Tuple

import azure.functions as func
from azure.identity import ManagedIdentityCredential
from azure.servicebus import ServiceBusClient, ServiceBusMessage

from aml_host import servicebus as sb
from aml_host.settings import load_function_settings

try:  # the SDK's "message too large" error; a ValueError subclass in azure-servicebus 7
    from azure.servicebus.exceptions import MessageSizeExceededError
except ImportError:  # pragma: no cover - only without the SDK's exceptions module
    MessageSizeExceededError = ValueError  # type: ignore[misc,assignment]

# SDK clients are not thread-safe; the worker runs invocations on a thread pool.
_lock = threading.Lock()
_clients: Dict[Tuple[str, Optional[str]], Any] = {}


def _client(target: sb.OutputTarget) -> Any:
    key = (target.fully_qualified_namespace, target.client_id)
    if key not in _clients:
        credential = (ManagedIdentityCredential(client_id=target.client_id) if target.client_id
                      else ManagedIdentityCredential())
        _clients[key] = ServiceBusClient(fully_qualified_namespace=target.fully_qualified_namespace,
                                         credential=credential)
    return _clients[key]


def _sender_for(target: sb.OutputTarget, queue_name: str):
    def send(messages: List[sb.OutboundMessage]) -> None:
        batch = [ServiceBusMessage(m.body, message_id=m.message_id, correlation_id=m.correlation_id,
                                   content_type=m.content_type,
                                   application_properties=dict(m.application_properties) or None)
                 for m in messages]
        with _lock:
            with _client(target).get_queue_sender(queue_name=queue_name) as sender:
                try:
                    sender.send_messages(batch)
                except MessageSizeExceededError as exc:
                    raise sb.MessageTooLargeError(str(exc)) from exc
    return send


def _text(value: Any) -> Optional[str]:
    return None if value is None or value == "" else str(value)


def _inbound(m: func.ServiceBusMessage) -> sb.InboundMessage:
    props = getattr(m, "application_properties", None) or getattr(m, "user_properties", None) or {}
    return sb.InboundMessage(message_id=_text(m.message_id), body=m.get_body(), content_type=m.content_type,
                             delivery_count=m.delivery_count, correlation_id=_text(getattr(m, "correlation_id", None)),
                             application_properties=dict(props))


def main(msg, context: func.Context) -> None:
    target = sb.output_target(load_function_settings(context.function_directory), os.environ)
    send_output = _sender_for(target, target.queue_name)
    if isinstance(msg, list):
        if not target.failed_queue_name:
            raise ValueError("a batch arrived but aml.json names no 'failedQueue' (cardinality must be 'many')")
        sb.deliver_batch([_inbound(m) for m in msg], send_output, _sender_for(target, target.failed_queue_name),
                         max_message_bytes=target.max_message_bytes)
    else:
        sb.deliver_message(_inbound(msg), send_output, max_message_bytes=target.max_message_bytes)
