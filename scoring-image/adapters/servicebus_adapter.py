"""Service Bus trigger adapter. Binding: in ``msg`` (serviceBusTrigger), no output binding.

The output is sent with the azure-servicebus SDK (the Functions output binding cannot set
``message_id``/``correlation_id`` from Python), with the function app's user-assigned identity
(``<connection>__clientId``) to ``<connection>__fullyQualifiedNamespace``; queue and
connection prefix come from ``aml.json`` in the function folder. Outputs are sent BEFORE the
function returns; see ``aml_host.servicebus`` for the delivery contract.

``msg`` carries no type annotation on purpose: one module serves both ``cardinality: one``
(a ``func.ServiceBusMessage``) and ``cardinality: many`` (a ``List[func.ServiceBusMessage]``),
and the Python worker then decodes by the binding's data type.
"""

import os
import threading
from typing import Dict, List, Optional, Tuple

import azure.functions as func
from azure.identity import ManagedIdentityCredential
from azure.servicebus import ServiceBusClient, ServiceBusMessage

from aml_host import servicebus as sb
from aml_host.settings import load_function_settings

# SDK clients are not thread-safe; the worker runs invocations on a thread pool.
_lock = threading.Lock()
_clients: Dict[Tuple[str, Optional[str]], ServiceBusClient] = {}


def _client(target: sb.OutputTarget) -> ServiceBusClient:
    key = (target.fully_qualified_namespace, target.client_id)
    if key not in _clients:
        credential = (ManagedIdentityCredential(client_id=target.client_id) if target.client_id
                      else ManagedIdentityCredential())
        _clients[key] = ServiceBusClient(fully_qualified_namespace=target.fully_qualified_namespace,
                                         credential=credential)
    return _clients[key]


def _send(target: sb.OutputTarget, outputs: List[sb.OutboundMessage]) -> None:
    if not outputs:
        return
    with _lock:
        with _client(target).get_queue_sender(queue_name=target.queue_name) as sender:
            for chunk in sb.chunk_for_send(outputs):
                sender.send_messages([
                    ServiceBusMessage(o.body, message_id=o.message_id, correlation_id=o.correlation_id,
                                      content_type=o.content_type)
                    for o in chunk
                ])


def _inbound(m: func.ServiceBusMessage) -> sb.InboundMessage:
    return sb.InboundMessage(message_id=m.message_id, body=m.get_body(), content_type=m.content_type,
                             delivery_count=m.delivery_count)


def main(msg, context: func.Context) -> None:
    target = sb.output_target(load_function_settings(context.function_directory), os.environ)
    if isinstance(msg, list):
        outcome = sb.score_batch([_inbound(m) for m in msg])
        _send(target, outcome.outputs)
        outcome.raise_if_failed()
    else:
        _send(target, [sb.score_message(_inbound(msg))])
