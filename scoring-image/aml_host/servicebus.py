"""Service Bus scoring: inbound messages -> outbound messages for the output queue.

Contract (the adapter ``adapters/servicebus_adapter.py`` implements the sending side):

Single message (``cardinality: one``)
    The body goes to ``run`` in the script's input mode. Success gives ONE output message:
    body ``json.dumps(result)`` (UTF-8, content type application/json), ``message_id`` = the
    input's message id, ``correlation_id`` = the input's message id. The adapter sends it
    BEFORE the function returns, so the input is completed only once its result has been sent.
    Any failure raises :class:`MessageScoringError`: the function fails, the input is
    abandoned and redelivered, and the broker dead-letters it after ``maxDeliveryCount``
    deliveries. Because the output reuses the input's message id, an output sent by a try whose
    completion was then lost is dropped by duplicate detection on the output queue when the
    retry sends it again.

Batch (``cardinality: many``)
    If the entry script defines ``run_batch(mini_batch: list) -> list`` it is called ONCE for
    all inputs that could be converted (same input mode as ``run``: str, request object or dict
    of parameters; one result per input, same order). If ``run_batch`` raises or returns a
    result of the wrong length, every input is scored again with ``run`` one by one, to isolate
    the bad ones. Without ``run_batch``, ``run`` is called per input.
    :func:`score_batch` returns a :class:`BatchOutcome`: the output messages of every good
    input (ids as above) and the message ids of the failed ones. The adapter sends all good
    outputs first and then, if any input failed, raises :class:`BatchScoringError`: the whole
    batch is redelivered; on the retry the good inputs are scored and sent again with the same
    message ids, which duplicate detection on the output queue drops, so results are neither
    lost nor duplicated, and a persistently bad message is dead-lettered after
    ``maxDeliveryCount``.

Init failure: both paths raise :class:`MessageScoringError` without calling ``run``.
"""

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

from .results import ResultError, result_to_bytes
from .script import EntryScript, InitFailedError, InvalidInputError, Payload, PreparedInput, get_entry_script

logger = logging.getLogger("aml_host")

JSON_CONTENT_TYPE = "application/json"
# Standard tier allows 256 KiB per send batch; keep headroom for AMQP framing and properties.
DEFAULT_MAX_SEND_BYTES = 192 * 1024
PER_MESSAGE_OVERHEAD_BYTES = 512


@dataclass(frozen=True)
class InboundMessage:
    message_id: str
    body: bytes
    content_type: Optional[str] = None
    delivery_count: Optional[int] = None


@dataclass(frozen=True)
class OutboundMessage:
    body: bytes
    message_id: str
    correlation_id: str
    content_type: str = JSON_CONTENT_TYPE


@dataclass
class BatchOutcome:
    outputs: List[OutboundMessage] = field(default_factory=list)
    failed_ids: List[str] = field(default_factory=list)
    errors: Dict[str, str] = field(default_factory=dict)
    used_run_batch: bool = False

    def raise_if_failed(self) -> None:
        if self.failed_ids:
            raise BatchScoringError(self.failed_ids, self.errors)


class MessageScoringError(Exception):
    """Scoring a message failed; the message names the message id."""

    def __init__(self, message_id: Optional[str], message: str):
        super().__init__(message)
        self.message_id = message_id


class BatchScoringError(MessageScoringError):
    """Some messages of a batch failed; raised after the good outputs were sent."""

    def __init__(self, failed_ids: Sequence[str], errors: Optional[Mapping[str, str]] = None):
        self.failed_ids = list(failed_ids)
        self.errors = dict(errors or {})
        detail = "; ".join(f"{i}: {self.errors.get(i, 'failed')}" for i in self.failed_ids)
        super().__init__(None, f"{len(self.failed_ids)} message(s) of the batch were not scored "
                               f"(the batch will be redelivered): {detail}")


@dataclass(frozen=True)
class OutputTarget:
    fully_qualified_namespace: str
    client_id: Optional[str]
    queue_name: str


def output_target(settings: Mapping[str, Any], environ: Mapping[str, str]) -> OutputTarget:
    """Where outputs go, from aml.json (``connection``, ``outputQueue``) and the app settings
    ``<connection>__fullyQualifiedNamespace`` / ``<connection>__clientId``."""
    prefix = settings.get("connection")
    queue = settings.get("outputQueue")
    if not prefix or not queue:
        raise ValueError("aml.json of a servicebus function must set 'connection' and 'outputQueue'")
    namespace = environ.get(f"{prefix}__fullyQualifiedNamespace")
    if not namespace:
        raise ValueError(f"app setting {prefix}__fullyQualifiedNamespace is not set")
    return OutputTarget(namespace, environ.get(f"{prefix}__clientId") or None, str(queue))


def _label(msg: InboundMessage) -> str:
    extra = f", delivery {msg.delivery_count}" if msg.delivery_count is not None else ""
    return f"message '{msg.message_id}'{extra}"


def _payload(msg: InboundMessage) -> Payload:
    headers = {"x-aml-message-id": str(msg.message_id)}
    if msg.content_type:
        headers["Content-Type"] = msg.content_type
    return Payload(body=bytes(msg.body or b""), method="POST", url=f"sb:///{msg.message_id}",
                   headers=headers, source=f"message '{msg.message_id}'")


def _output(msg: InboundMessage, result: Any) -> OutboundMessage:
    return OutboundMessage(body=result_to_bytes(result), message_id=str(msg.message_id),
                           correlation_id=str(msg.message_id))


def _ready(script: Optional[EntryScript], what: str, message_id: Optional[str]) -> EntryScript:
    try:
        script = script if script is not None else get_entry_script()
        script.ensure_ready()
        return script
    except InitFailedError as exc:
        message = f"{what} was not scored: the entry script failed to initialise ({exc})"
        logger.error(message)
        raise MessageScoringError(message_id, message) from exc


def score_message(msg: InboundMessage, script: Optional[EntryScript] = None) -> OutboundMessage:
    """Score one message; raises MessageScoringError naming the message id on failure."""
    label = _label(msg)
    script = _ready(script, label, msg.message_id)
    try:
        prepared = script.prepare(_payload(msg))
        out = _output(msg, script.run(prepared))
    except InvalidInputError as exc:
        message = f"{label} was not scored: {exc.message}"
        logger.error(message)
        raise MessageScoringError(msg.message_id, message) from None
    except ResultError as exc:
        message = f"{label} was not scored: {exc}"
        logger.error(message)
        raise MessageScoringError(msg.message_id, message) from exc
    except Exception as exc:  # noqa: BLE001
        message = f"{label} was not scored: run() raised {type(exc).__name__}"
        logger.exception(message)
        raise MessageScoringError(msg.message_id, message) from exc
    return out


def score_batch(messages: Sequence[InboundMessage], script: Optional[EntryScript] = None) -> BatchOutcome:
    """Score a batch (see the module docstring for the contract). Raises only on init failure."""
    script = _ready(script, f"batch of {len(messages)} message(s)", None)
    outcome = BatchOutcome()
    results: Dict[int, OutboundMessage] = {}
    prepared: List[tuple] = []  # (index, message, PreparedInput)

    def fail(msg: InboundMessage, reason: str, exc_info: bool = False) -> None:
        outcome.errors[str(msg.message_id)] = reason
        if exc_info:
            logger.exception("%s was not scored: %s", _label(msg), reason)
        else:
            logger.error("%s was not scored: %s", _label(msg), reason)

    failed_idx: Dict[int, InboundMessage] = {}
    for index, msg in enumerate(messages):
        try:
            prepared.append((index, msg, script.prepare(_payload(msg))))
        except InvalidInputError as exc:
            failed_idx[index] = msg
            fail(msg, exc.message)

    batch_done = False
    if script.has_run_batch and prepared:
        try:
            batch_results = script.run_batch([p for _, _, p in prepared])
        except Exception as exc:  # noqa: BLE001
            logger.warning("run_batch() failed for %d message(s) (%s: %s); scoring them one by one with run()",
                           len(prepared), type(exc).__name__, exc, exc_info=True)
        else:
            batch_done = True
            outcome.used_run_batch = True
            for (index, msg, _), result in zip(prepared, batch_results):
                try:
                    results[index] = _output(msg, result)
                except ResultError as exc:
                    failed_idx[index] = msg
                    fail(msg, str(exc))

    if not batch_done:
        for index, msg, item in prepared:
            try:
                results[index] = _output(msg, script.run(item))
            except ResultError as exc:
                failed_idx[index] = msg
                fail(msg, str(exc))
            except Exception as exc:  # noqa: BLE001
                failed_idx[index] = msg
                fail(msg, f"run() raised {type(exc).__name__}", exc_info=True)

    outcome.outputs = [results[i] for i in sorted(results)]
    outcome.failed_ids = [str(failed_idx[i].message_id) for i in sorted(failed_idx)]
    if outcome.failed_ids:
        logger.error("Batch of %d message(s): %d scored, failed: %s", len(messages), len(outcome.outputs),
                     ", ".join(outcome.failed_ids))
    return outcome


def chunk_for_send(outputs: Sequence[OutboundMessage], max_bytes: int = DEFAULT_MAX_SEND_BYTES) -> List[List[OutboundMessage]]:
    """Split outputs into send batches that stay under ``max_bytes`` (order kept; a single
    oversized message gets a chunk of its own and the broker decides)."""
    chunks: List[List[OutboundMessage]] = []
    current: List[OutboundMessage] = []
    size = 0
    for out in outputs:
        cost = len(out.body) + PER_MESSAGE_OVERHEAD_BYTES
        if current and size + cost > max_bytes:
            chunks.append(current)
            current, size = [], 0
        current.append(out)
        size += cost
    if current:
        chunks.append(current)
    return chunks


__all__ = [
    "BatchOutcome", "BatchScoringError", "InboundMessage", "MessageScoringError", "OutboundMessage",
    "OutputTarget", "PreparedInput", "chunk_for_send", "output_target", "score_batch", "score_message",
]
