"""Service Bus scoring: inbound messages -> result messages (and failed messages, for batches).

The adapter ``adapters/servicebus_adapter.py`` only converts the Functions types and provides the
two send functions (the azure-servicebus SDK); the delivery contract lives here.

Output message ids
    A result's ``message_id`` is derived from the input: the first 32 hex digits (128 bits) of
    ``sha256(utf8(input message id) + sha256(input body))`` (:func:`output_message_id`). A retry of
    the same input (same id, same body) gives the same id, so the output queue's duplicate
    detection drops a result sent twice; two different inputs that reuse a message id give two
    ids, so neither result is dropped. ``correlation_id`` is the input's message id (what the
    caller matches results with). A message without an id cannot be matched to its result and is
    refused.

Single message (``cardinality: one``): retry, then dead-letter
    The body goes to ``run`` in the script's input mode; success sends ONE result (body
    ``json.dumps(result)``, UTF-8, content type application/json) BEFORE the function returns, so
    the input is completed only once its result was sent. Any failure (no message id, bad input,
    ``run()`` raising, a result too large for the output queue, the send failing) raises
    :class:`MessageScoringError`: the invocation fails, the message is redelivered and the broker
    dead-letters it after ``maxDeliveryCount`` deliveries.

Batch (``cardinality: many``): a bad message never fails its batch (:func:`deliver_batch`)
    Every message is scored (``run_batch`` once if the script defines it, falling back to ``run``
    per message when it raises or returns the wrong number of results; else ``run`` per message).
    A message that fails for its own reason - no message id, bad input (undecodable, not JSON for
    an inference-schema script, nested too deeply, JSON with more elements than
    ``AML_MAX_JSON_ELEMENTS``), ``run()`` raising, a result that is not
    JSON-serialisable or larger than the output queue accepts - is sent to the FAILED queue with
    its original body, content type, correlation id and application properties, plus
    ``aml-original-message-id``, ``aml-error-type`` and ``aml-error-message`` (an exception's
    type and its first 512 characters; never a stack trace). The invocation then succeeds and the
    runtime completes the whole batch: every good result is sent once and nothing reaches the
    dead-letter queue because of another message.
    What is not a message's fault fails the invocation, so that the whole batch is redelivered
    (and results already sent are dropped by duplicate detection): ``init()`` failing (or not done
    yet), the output send failing, the failed-queue send failing (an outage; a copy refused as too
    large is sent again smaller, see below).

Failed-queue copies always fit (:func:`failed_message`)
    The copy carries more than the input did (a message id, the error properties), so an input
    near the queue's limit would give a copy the failed queue refuses, and refusing it would fail
    the invocation until the whole batch is dead-lettered. A copy that does not fit whole keeps
    the START of the body, as much as fits, and says so: ``aml-body-truncated`` (true) and
    ``aml-original-body-bytes`` (the original body's size). If the original application
    properties alone leave no room, they are left out (``aml-original-properties-dropped``),
    then the error text; ids and content type are then cut to 128 bytes. Should the queue still
    refuse a copy as too large (it accepts less than ``maxMessageBytes`` says), the copy is sent
    again without body and without the original properties. The copy's message id is derived
    from the whole original body either way, so a retried batch gives the same id.

Sizes
    A message's AMQP-encoded size is estimated from above (:func:`encoded_size`) and compared with
    the queue's limit (``maxMessageBytes`` in aml.json: 256 KiB on Standard, the queue's
    ``max_message_size_in_kilobytes`` on Premium) less :data:`BROKER_HEADROOM_BYTES` for the
    properties the broker adds. Sends are chunked so that a send batch stays within the limit (at
    most 1 MiB, the Premium batch limit). A message that the SDK still refuses as too large is
    routed like an oversized result.
"""

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from .results import result_to_bytes
from .script import EntryScript, InitFailedError, InvalidInputError, Payload, PreparedInput, get_entry_script

logger = logging.getLogger("aml_host")

JSON_CONTENT_TYPE = "application/json"
#: Standard tier: 256 KiB per message and per send batch (headers included).
STANDARD_MAX_MESSAGE_BYTES = 256 * 1024
#: Premium tier: a send batch may not exceed 1 MiB, whatever the queue's message size.
MAX_SEND_BATCH_BYTES = 1024 * 1024
#: Room left for what the broker adds to a message (sequence number, enqueued time, lock token...).
BROKER_HEADROOM_BYTES = 1024
#: Output message ids: hex digits of the sha256 kept (128 bits).
MESSAGE_ID_HEX_DIGITS = 32
#: Characters of an error message forwarded to the failed queue.
MAX_ERROR_MESSAGE_CHARS = 512

#: Smallest ``maxMessageBytes`` accepted: room for the smallest failed-queue copy and the headroom.
MIN_MAX_MESSAGE_BYTES = 4096
#: UTF-8 bytes kept of the ids, content type and error type in the smallest failed-queue copy
#: (Service Bus allows 128 characters for message and correlation ids).
MAX_SHORT_TEXT_BYTES = 128

ORIGINAL_ID_PROPERTY = "aml-original-message-id"
ERROR_TYPE_PROPERTY = "aml-error-type"
ERROR_MESSAGE_PROPERTY = "aml-error-message"
#: Set on a failed-queue copy that does not hold the whole original body (and to False when it
#: does but other parts had to be left out); the original body's size is then given too.
TRUNCATED_PROPERTY = "aml-body-truncated"
ORIGINAL_BODY_BYTES_PROPERTY = "aml-original-body-bytes"
#: Set when the original application properties were left out of the copy.
PROPERTIES_DROPPED_PROPERTY = "aml-original-properties-dropped"


@dataclass(frozen=True)
class InboundMessage:
    message_id: Optional[str]
    body: bytes
    content_type: Optional[str] = None
    delivery_count: Optional[int] = None
    correlation_id: Optional[str] = None
    application_properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboundMessage:
    body: bytes
    message_id: str
    correlation_id: Optional[str]
    content_type: Optional[str] = JSON_CONTENT_TYPE
    application_properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FailedMessage:
    """A message of a batch that failed for its own reason, and why."""
    source: InboundMessage
    error_type: str
    error_message: str


@dataclass
class BatchOutcome:
    outputs: List[OutboundMessage] = field(default_factory=list)
    failed: List[FailedMessage] = field(default_factory=list)
    used_run_batch: bool = False
    # output message id -> the input it answers (to route a result refused as too large at send)
    sources: Dict[str, InboundMessage] = field(default_factory=dict)

    @property
    def failed_ids(self) -> List[Optional[str]]:
        return [f.source.message_id for f in self.failed]


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: List[FailedMessage]


class MessageScoringError(Exception):
    """Scoring a message failed; the message names the message id."""

    def __init__(self, message_id: Optional[str], message: str):
        super().__init__(message)
        self.message_id = message_id


class DeliveryError(Exception):
    """Not the message's fault (init, a send): the invocation fails and the batch is redelivered."""


class MessageTooLargeError(Exception):
    """Raised by a send function when the broker (or SDK) refuses a message as too large."""


@dataclass(frozen=True)
class OutputTarget:
    fully_qualified_namespace: str
    client_id: Optional[str]
    queue_name: str
    failed_queue_name: Optional[str] = None
    max_message_bytes: int = STANDARD_MAX_MESSAGE_BYTES


def output_target(settings: Mapping[str, Any], environ: Mapping[str, str]) -> OutputTarget:
    """Where messages go, from aml.json (``connection``, ``outputQueue``, ``failedQueue``,
    ``maxMessageBytes``) and the app settings ``<connection>__fullyQualifiedNamespace`` /
    ``<connection>__clientId``."""
    prefix = settings.get("connection")
    queue = settings.get("outputQueue")
    if not prefix or not queue:
        raise ValueError("aml.json of a servicebus function must set 'connection' and 'outputQueue'")
    namespace = environ.get(f"{prefix}__fullyQualifiedNamespace")
    if not namespace:
        raise ValueError(f"app setting {prefix}__fullyQualifiedNamespace is not set")
    failed = settings.get("failedQueue")
    if settings.get("cardinality") == "many" and not failed:
        raise ValueError("aml.json of a servicebus function with cardinality 'many' must set 'failedQueue'")
    limit = settings.get("maxMessageBytes", STANDARD_MAX_MESSAGE_BYTES)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < MIN_MAX_MESSAGE_BYTES:
        raise ValueError(f"aml.json 'maxMessageBytes' must be an integer of at least {MIN_MAX_MESSAGE_BYTES}")
    return OutputTarget(namespace, environ.get(f"{prefix}__clientId") or None, str(queue),
                        str(failed) if failed else None, limit)


# ---- ids and sizes ----------------------------------------------------------------------------

def output_message_id(input_message_id: Optional[str], body: bytes) -> str:
    """``sha256(utf8(input id) + sha256(body))``, first 32 hex digits (see the module docstring)."""
    digest = hashlib.sha256(str(input_message_id or "").encode("utf-8"))
    digest.update(hashlib.sha256(bytes(body or b"")).digest())
    return digest.hexdigest()[:MESSAGE_ID_HEX_DIGITS]


def _has_id(msg: InboundMessage) -> bool:
    return isinstance(msg.message_id, str) and msg.message_id != ""


def _string_size(value: Optional[str]) -> int:
    # AMQP str32/sym32: constructor byte + 4-byte length + UTF-8 bytes.
    return 0 if value is None else 5 + len(str(value).encode("utf-8"))


def _value_size(value: Any) -> int:
    if isinstance(value, (bytes, bytearray)):
        return 5 + len(value)
    if isinstance(value, (bool, int, float)) or value is None:
        return 9
    return _string_size(str(value))


def encoded_size(msg: OutboundMessage) -> int:
    """Upper bound of the AMQP-encoded size of a message as the SDK sends it: fixed sections
    (header, properties, descriptors), the string properties, application properties, and the
    body as one data section."""
    size = 64 + 8 + len(msg.body)
    size += _string_size(msg.message_id) + _string_size(msg.correlation_id) + _string_size(msg.content_type)
    if msg.application_properties:
        size += 9
        for key, value in msg.application_properties.items():
            size += _string_size(str(key)) + _value_size(value)
    return size


def fits(msg: OutboundMessage, max_message_bytes: int) -> bool:
    return encoded_size(msg) + BROKER_HEADROOM_BYTES <= max_message_bytes


def chunk_for_send(outputs: Sequence[OutboundMessage], max_bytes: int) -> List[List[OutboundMessage]]:
    """Split messages into send batches whose estimated size stays within ``max_bytes`` (capped at
    :data:`MAX_SEND_BATCH_BYTES`; order kept; a message larger than that goes alone)."""
    budget = min(max_bytes, MAX_SEND_BATCH_BYTES) - BROKER_HEADROOM_BYTES
    chunks: List[List[OutboundMessage]] = []
    current: List[OutboundMessage] = []
    size = 0
    for out in outputs:
        cost = encoded_size(out)
        if current and size + cost > budget:
            chunks.append(current)
            current, size = [], 0
        current.append(out)
        size += cost
    if current:
        chunks.append(current)
    return chunks


def send_all(messages: Sequence[OutboundMessage], send: Callable[[List[OutboundMessage]], None],
             max_message_bytes: int) -> List[OutboundMessage]:
    """Send in chunks; returns the messages refused one by one as too large (a refused chunk of
    several is split in halves and sent again). Any other exception of ``send`` propagates."""
    refused: List[OutboundMessage] = []

    def attempt(chunk: List[OutboundMessage]) -> None:
        try:
            send(chunk)
        except MessageTooLargeError:
            if len(chunk) == 1:
                refused.append(chunk[0])
                return
            half = len(chunk) // 2
            attempt(chunk[:half])
            attempt(chunk[half:])

    for chunk in chunk_for_send(messages, max_message_bytes):
        attempt(chunk)
    return refused


# ---- scoring ----------------------------------------------------------------------------------

def _label(msg: InboundMessage) -> str:
    name = f"message '{msg.message_id}'" if _has_id(msg) else "message without id"
    extra = f", delivery {msg.delivery_count}" if msg.delivery_count is not None else ""
    return f"{name}{extra}"


def _payload(msg: InboundMessage) -> Payload:
    message_id = str(msg.message_id or "")
    headers = {"x-aml-message-id": message_id}
    if msg.content_type:
        headers["Content-Type"] = msg.content_type
    return Payload(body=bytes(msg.body or b""), method="POST", url=f"sb:///{message_id}",
                   headers=headers, source=f"message '{message_id}'")


def _output(msg: InboundMessage, result: Any) -> OutboundMessage:
    return OutboundMessage(body=result_to_bytes(result), message_id=output_message_id(msg.message_id, msg.body),
                           correlation_id=str(msg.message_id))


def _wait_ready(script: Optional[EntryScript], what: str, message_id: Optional[str]) -> EntryScript:
    """The entry script once ``init()`` succeeded; raises MessageScoringError (the invocation
    fails, the message or batch is redelivered) while it has not."""
    try:
        script = script if script is not None else get_entry_script()
        # init() is retried in the background; a queue invocation waits for it (up to
        # AML_INIT_WAIT_SECONDS) so that a slow start fails slowly instead of using up the
        # delivery count of every waiting message.
        script.wait_until_ready()
        return script
    except InitFailedError as exc:
        message = f"{what} was not scored: the entry script failed to initialise ({exc})"
        logger.error(message)
        raise MessageScoringError(message_id, message) from exc


def _error_text(exc: BaseException) -> str:
    return str(exc)[:MAX_ERROR_MESSAGE_CHARS]


def score_message(msg: InboundMessage, script: Optional[EntryScript] = None,
                  max_message_bytes: int = STANDARD_MAX_MESSAGE_BYTES) -> OutboundMessage:
    """Score one message; raises MessageScoringError naming the message id on any failure."""
    label = _label(msg)
    if not _has_id(msg):
        message = f"{label} was not scored: it has no message id, so its result could not be matched to it"
        logger.error(message)
        raise MessageScoringError(None, message)
    script = _wait_ready(script, label, msg.message_id)
    try:
        out = _output(msg, script.run(script.prepare(_payload(msg))))
    except InvalidInputError as exc:
        message = f"{label} was not scored: {exc.message}"
        logger.error(message)
        raise MessageScoringError(msg.message_id, message) from None
    except Exception as exc:  # noqa: BLE001 - run() may raise anything; RecursionError included
        message = f"{label} was not scored: {type(exc).__name__}"
        logger.exception(message)
        raise MessageScoringError(msg.message_id, message) from exc
    if not fits(out, max_message_bytes):
        message = (f"{label} was not scored: its result ({encoded_size(out)} bytes encoded) exceeds the "
                   f"{max_message_bytes} bytes the output queue accepts")
        logger.error(message)
        raise MessageScoringError(msg.message_id, message)
    return out


def score_batch(messages: Sequence[InboundMessage], script: Optional[EntryScript] = None,
                max_message_bytes: int = STANDARD_MAX_MESSAGE_BYTES) -> BatchOutcome:
    """Score a batch: good results in ``outputs`` (input order), the others in ``failed``.
    Raises MessageScoringError only when the entry script is not initialised."""
    script = _wait_ready(script, f"batch of {len(messages)} message(s)", None)
    outcome = BatchOutcome()
    results: Dict[int, OutboundMessage] = {}
    failed: Dict[int, FailedMessage] = {}

    def fail(index: int, msg: InboundMessage, error_type: str, error_message: str, exc_info: bool = False) -> None:
        failed[index] = FailedMessage(msg, error_type, error_message[:MAX_ERROR_MESSAGE_CHARS])
        log = logger.exception if exc_info else logger.error
        log("%s was not scored (%s: %s); it goes to the failed queue", _label(msg), error_type, error_message)

    def keep(index: int, msg: InboundMessage, result: Any) -> None:
        try:
            out = _output(msg, result)
        except Exception as exc:  # noqa: BLE001 - not serialisable, NaN policy, nested too deeply
            fail(index, msg, "InvalidResult", f"{type(exc).__name__}: {_error_text(exc)}")
            return
        if not fits(out, max_message_bytes):
            fail(index, msg, "ResultTooLarge", f"the result ({encoded_size(out)} bytes encoded) exceeds the "
                                               f"{max_message_bytes} bytes the output queue accepts")
            return
        results[index] = out

    prepared: List[tuple] = []  # (index, message, PreparedInput)
    for index, msg in enumerate(messages):
        if not _has_id(msg):
            fail(index, msg, "MissingMessageId", "the message has no message id, so its result could not be matched to it")
            continue
        try:
            prepared.append((index, msg, script.prepare(_payload(msg))))
        except InvalidInputError as exc:
            fail(index, msg, "InvalidInput", exc.message)
        except Exception as exc:  # noqa: BLE001 - e.g. RecursionError from deeply nested JSON
            fail(index, msg, "InvalidInput", f"{type(exc).__name__}: {_error_text(exc)}")

    batch_done = False
    if script.has_run_batch and prepared:
        try:
            batch_results = script.run_batch([p for _, _, p in prepared])
        except Exception as exc:  # noqa: BLE001
            logger.warning("run_batch() failed for %d message(s) (%s: %s); scoring them one by one with run()",
                           len(prepared), type(exc).__name__, _error_text(exc))
        else:
            batch_done = True
            outcome.used_run_batch = True
            for (index, msg, _), result in zip(prepared, batch_results):
                keep(index, msg, result)

    if not batch_done:
        for index, msg, item in prepared:
            try:
                result = script.run(item)
            except Exception as exc:  # noqa: BLE001 - run() may raise anything; RecursionError included
                fail(index, msg, type(exc).__name__, _error_text(exc), exc_info=True)
                continue
            keep(index, msg, result)

    outcome.outputs = [results[i] for i in sorted(results)]
    outcome.failed = [failed[i] for i in sorted(failed)]
    outcome.sources = {results[i].message_id: messages[i] for i in results}
    if outcome.failed:
        logger.error("Batch of %d message(s): %d scored, %d to the failed queue", len(messages),
                     len(outcome.outputs), len(outcome.failed))
    return outcome


# ---- failed queue and delivery ----------------------------------------------------------------

def _property_value(value: Any) -> Any:
    # What the SDK accepts as an application property value; anything else as its text.
    return value if isinstance(value, (str, bool, int, float, bytes)) else str(value)


def _cut(value: Optional[str], max_bytes: int) -> Optional[str]:
    """``value`` shortened to at most ``max_bytes`` UTF-8 bytes (whole characters)."""
    if value is None:
        return None
    return str(value).encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def failed_message(failure: FailedMessage, max_message_bytes: int = STANDARD_MAX_MESSAGE_BYTES,
                   keep_body: bool = True) -> OutboundMessage:
    """The failed-queue message: the original body and properties plus the error; a copy that
    always fits ``max_message_bytes`` (module docstring, "Failed-queue copies"). ``keep_body``
    False gives the smallest copy: no body, no original properties."""
    src = failure.source
    body = bytes(src.body or b"")
    original: Dict[str, Any] = {str(k): _property_value(v) for k, v in (src.application_properties or {}).items()
                                if v is not None}
    error = {
        ORIGINAL_ID_PROPERTY: str(src.message_id or ""),
        ERROR_TYPE_PROPERTY: failure.error_type[:128],
        ERROR_MESSAGE_PROPERTY: failure.error_message[:MAX_ERROR_MESSAGE_CHARS],
    }
    message_id = output_message_id(src.message_id, body)

    def build(part: bytes, props: Dict[str, Any], correlation_id: Optional[str], content_type: Optional[str]):
        return OutboundMessage(body=part, message_id=message_id, correlation_id=correlation_id,
                               content_type=content_type, application_properties=props)

    whole = build(body, {**original, **error}, src.correlation_id, src.content_type)
    if keep_body and fits(whole, max_message_bytes):
        return whole
    # Too large as it is (the copy carries more than the input did): the start of the body, and
    # what was left out. Each step gives up more, until even the smallest limit is met.
    cut = {TRUNCATED_PROPERTY: True, ORIGINAL_BODY_BYTES_PROPERTY: len(body)}
    dropped = {PROPERTIES_DROPPED_PROPERTY: bool(original)}
    short = {k: _cut(v, MAX_SHORT_TEXT_BYTES) for k, v in error.items()}
    steps = [
        ({**original, **error, **cut}, src.correlation_id, src.content_type),
        ({**error, **cut, **dropped}, _cut(src.correlation_id, MAX_SHORT_TEXT_BYTES),
         _cut(src.content_type, MAX_SHORT_TEXT_BYTES)),
        ({**short, ERROR_MESSAGE_PROPERTY: "", **cut, **dropped}, _cut(src.correlation_id, MAX_SHORT_TEXT_BYTES),
         _cut(src.content_type, MAX_SHORT_TEXT_BYTES)),
    ]
    if not keep_body:
        steps = steps[1:]
    for props, correlation_id, content_type in steps:
        room = max_message_bytes - BROKER_HEADROOM_BYTES - encoded_size(build(b"", props, correlation_id, content_type))
        if room < 0:
            continue
        part = body[:room] if keep_body else b""
        if len(part) == len(body):
            props = {**props, TRUNCATED_PROPERTY: False}
        return build(part, props, correlation_id, content_type)
    # Unreachable for limits output_target accepts (MIN_MAX_MESSAGE_BYTES); kept as a clear error.
    raise DeliveryError(f"a failed-queue message does not fit {max_message_bytes} bytes even without its body")


def _log_cut(copy: OutboundMessage, failure: FailedMessage, max_message_bytes: int) -> None:
    props = copy.application_properties
    if props.get(TRUNCATED_PROPERTY) or props.get(PROPERTIES_DROPPED_PROPERTY):
        logger.warning("%s: its failed-queue copy keeps the first %d of %d body bytes%s, to fit the %d bytes the "
                       "failed queue accepts", _label(failure.source), len(copy.body), props[ORIGINAL_BODY_BYTES_PROPERTY],
                       " and none of its application properties" if props.get(PROPERTIES_DROPPED_PROPERTY) else "",
                       max_message_bytes)


def _send_failed(messages: List[OutboundMessage], send_failed: Callable[[List[OutboundMessage]], None],
                 max_message_bytes: int) -> List[OutboundMessage]:
    try:
        return send_all(messages, send_failed, max_message_bytes)
    except Exception as exc:
        raise DeliveryError(f"sending {len(messages)} message(s) to the failed queue failed "
                            f"({type(exc).__name__}); the batch will be redelivered") from exc


def deliver_batch(messages: Sequence[InboundMessage], send_output: Callable[[List[OutboundMessage]], None],
                  send_failed: Callable[[List[OutboundMessage]], None],
                  max_message_bytes: int = STANDARD_MAX_MESSAGE_BYTES,
                  script: Optional[EntryScript] = None) -> DeliveryReport:
    """The ``cardinality: many`` contract (module docstring): score, send the good results, send
    the failed messages to the failed queue, return. Raises (the invocation fails, the batch is
    redelivered) only for what is not a message's fault."""
    outcome = score_batch(messages, script=script, max_message_bytes=max_message_bytes)
    failures = list(outcome.failed)
    try:
        refused = send_all(outcome.outputs, send_output, max_message_bytes)
    except Exception as exc:
        raise DeliveryError(f"sending {len(outcome.outputs)} result(s) to the output queue failed "
                            f"({type(exc).__name__}); the batch will be redelivered") from exc
    for out in refused:
        failures.append(FailedMessage(outcome.sources[out.message_id], "ResultTooLarge",
                                      "the output queue refused the result as too large"))
    sent = len(outcome.outputs) - len(refused)
    if failures:
        copies = [failed_message(f, max_message_bytes) for f in failures]
        for copy, failure in zip(copies, failures):
            _log_cut(copy, failure, max_message_bytes)
        refused_failed = _send_failed(copies, send_failed, max_message_bytes)
        if refused_failed:
            # The queue accepts less than maxMessageBytes says (e.g. an existing queue): send the
            # smallest copies, without body, rather than fail the batch.
            by_id = {copy.message_id: failure for copy, failure in zip(copies, failures)}
            smallest = [failed_message(by_id[c.message_id], max_message_bytes, keep_body=False) for c in refused_failed]
            logger.warning("The failed queue refused %d message(s) as too large (it accepts less than the %d bytes of "
                           "maxMessageBytes); sending them without body: %s", len(smallest), max_message_bytes,
                           "; ".join(by_id[c.message_id].source.message_id or "(no id)" for c in refused_failed))
            if _send_failed(smallest, send_failed, max_message_bytes):
                raise DeliveryError(f"{len(smallest)} failed message(s) are too large for the failed queue even "
                                    f"without their body; the batch will be redelivered and dead-lettered")
        logger.warning("Batch of %d message(s): %d result(s) sent, %d message(s) sent to the failed queue: %s",
                       len(messages), sent, len(failures),
                       "; ".join(f"{f.source.message_id or '(no id)'}: {f.error_type}" for f in failures))
    return DeliveryReport(sent=sent, failed=failures)


def deliver_message(msg: InboundMessage, send_output: Callable[[List[OutboundMessage]], None],
                    max_message_bytes: int = STANDARD_MAX_MESSAGE_BYTES,
                    script: Optional[EntryScript] = None) -> OutboundMessage:
    """The ``cardinality: one`` contract: score and send, or raise (retry, then dead-letter)."""
    out = score_message(msg, script=script, max_message_bytes=max_message_bytes)
    try:
        send_output([out])
    except MessageTooLargeError:
        raise MessageScoringError(msg.message_id, f"{_label(msg)}: the output queue refused the result as too large") from None
    return out


__all__ = [
    "BatchOutcome", "DeliveryError", "DeliveryReport", "FailedMessage", "InboundMessage", "MessageScoringError",
    "MessageTooLargeError", "OutboundMessage", "OutputTarget", "PreparedInput", "chunk_for_send", "deliver_batch",
    "deliver_message", "encoded_size", "failed_message", "fits", "output_message_id", "output_target", "score_batch",
    "score_message", "send_all",
]
