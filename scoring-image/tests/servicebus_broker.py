"""A simulated Service Bus namespace for delivery tests: peek-lock input queue with
``maxDeliveryCount`` and dead-lettering, output and failed queues with duplicate detection, and a
per-message size limit enforced at send (as the SDK does, measured independently of
``aml_host.servicebus.encoded_size``)."""

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from aml_host.servicebus import InboundMessage, MessageTooLargeError, OutboundMessage


@dataclass
class Queue:
    name: str
    duplicate_detection: bool = True
    messages: List[OutboundMessage] = field(default_factory=list)
    seen_ids: set = field(default_factory=set)
    dropped_duplicates: int = 0
    sends: int = 0

    def accept(self, msg: OutboundMessage) -> None:
        if self.duplicate_detection and msg.message_id in self.seen_ids:
            self.dropped_duplicates += 1
            return
        self.seen_ids.add(msg.message_id)
        self.messages.append(msg)


def wire_size(msg: OutboundMessage) -> int:
    """What the simulated broker counts: body and every property, UTF-8."""
    size = len(msg.body)
    for value in (msg.message_id, msg.correlation_id, msg.content_type):
        size += len(str(value or "").encode("utf-8"))
    for key, value in (msg.application_properties or {}).items():
        size += len(str(key).encode("utf-8")) + len(str(value).encode("utf-8"))
    return size


class Broker:
    def __init__(self, max_delivery_count: int = 10, max_message_bytes: int = 256 * 1024):
        self.max_delivery_count = max_delivery_count
        self.max_message_bytes = max_message_bytes
        self.input: List[InboundMessage] = []
        self.dead_letter: List[InboundMessage] = []
        self.completed: List[InboundMessage] = []
        self.output = Queue("outqueue")
        self.failed = Queue("outqueue-failed")
        self.invocations = 0
        self.failed_invocations = 0
        self.refused_as_too_large = 0
        self.fail_sends_to: Dict[str, int] = {}  # queue name -> how many more sends fail

    def enqueue(self, *messages: InboundMessage) -> None:
        self.input.extend(messages)

    def sender(self, queue: Queue) -> Callable[[List[OutboundMessage]], None]:
        def send(messages: List[OutboundMessage]) -> None:
            if self.fail_sends_to.get(queue.name, 0) > 0:
                self.fail_sends_to[queue.name] -= 1
                raise ConnectionError(f"simulated outage of {queue.name}")
            if sum(wire_size(m) for m in messages) > self.max_message_bytes:
                self.refused_as_too_large += 1
                raise MessageTooLargeError(f"batch of {len(messages)} exceeds {self.max_message_bytes} bytes")
            queue.sends += 1
            for m in messages:
                queue.accept(m)
        return send

    def run(self, invoke: Callable[[List[InboundMessage]], None], batch_size: int = 32, max_invocations: int = 1000) -> None:
        """Deliver until the input queue is empty; a raising invocation abandons its messages."""
        while self.input and self.invocations < max_invocations:
            batch, self.input = self.input[:batch_size], self.input[batch_size:]
            batch = [_delivered(m) for m in batch]
            self.invocations += 1
            try:
                invoke(batch)
            except Exception:  # noqa: BLE001 - the runtime abandons the batch
                self.failed_invocations += 1
                for m in batch:
                    (self.dead_letter if m.delivery_count >= self.max_delivery_count else self.input).append(m)
            else:
                self.completed.extend(batch)


def _delivered(m: InboundMessage) -> InboundMessage:
    return InboundMessage(m.message_id, m.body, m.content_type, (m.delivery_count or 0) + 1, m.correlation_id,
                          m.application_properties)


def message(message_id: Optional[str], body: bytes, **kw) -> InboundMessage:
    return InboundMessage(message_id, body, kw.pop("content_type", "application/json"), 0, **kw)
