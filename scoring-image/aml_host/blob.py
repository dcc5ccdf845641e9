"""Blob scoring: (blob name, bytes) -> output bytes, or an exception naming the blob.

The input is text by default (UTF-8; undecodable input fails), the request object for
``@rawhttp`` scripts (raw bytes via ``get_data()``), or a JSON object for inference-schema
scripts. The output is ``json.dumps(result)`` as UTF-8 (an AMLResponse gives its body).

On any failure :class:`BlobScoringError` is raised and nothing is returned, so the adapter
writes no output blob; the Functions runtime retries the blob (5 tries in all) and then puts it
on the ``webjobs-blobtrigger-poison`` queue. The input blob is never modified or deleted.

While the entry script is not ready, an invocation waits up to ``AML_INIT_WAIT_SECONDS``
(default 240 s) for ``init()`` to succeed (retries included) before it fails, so five tries
span many minutes of ``init()`` retries instead of milliseconds.

Blobs larger than ``AML_MAX_BLOB_BYTES`` (default 100 MiB) are not scored: the invocation
fails naming the limit. So are JSON blobs with more elements than ``AML_MAX_JSON_ELEMENTS``
(:mod:`aml_host.json_limits`), before anything parses them. :func:`read_blob` reads at most limit + 1 bytes from the stream, so a
huge blob costs no more than that in extra memory (the Functions host itself still hands the
worker the whole blob).
"""

import logging
from typing import Any, Optional

from .results import ResultError, result_to_bytes
from .script import EntryScript, InitFailedError, InvalidInputError, Payload, get_entry_script
from .settings import max_blob_bytes

logger = logging.getLogger("aml_host")


class BlobScoringError(Exception):
    """Scoring one blob failed; the message names the blob."""

    def __init__(self, blob_name: str, message: str):
        super().__init__(message)
        self.blob_name = blob_name


def _too_large(blob_name: str, size: str, limit: int) -> BlobScoringError:
    message = (f"blob '{blob_name}' was not scored: it is {size} bytes, over the limit of {limit} bytes "
               f"(app setting AML_MAX_BLOB_BYTES)")
    logger.error(message)
    return BlobScoringError(blob_name, message)


def read_blob(blob_name: str, stream: Any, limit: Optional[int] = None) -> bytes:
    """Read an input stream (``func.InputStream``), at most ``limit`` + 1 bytes; raise
    :class:`BlobScoringError` if the blob is larger than ``limit`` (default AML_MAX_BLOB_BYTES)."""
    limit = max_blob_bytes() if limit is None else limit
    length = getattr(stream, "length", None)
    if isinstance(length, int) and length > limit:
        raise _too_large(blob_name, str(length), limit)
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise _too_large(blob_name, f"more than {limit}", limit)
    return data


def score_blob(blob_name: str, data: bytes, script: Optional[EntryScript] = None,
               wait: Optional[float] = None) -> bytes:
    """Score one blob; ``wait`` overrides AML_INIT_WAIT_SECONDS (seconds to wait for ``init()``)."""
    label = f"blob '{blob_name}'"
    limit = max_blob_bytes()
    if len(data or b"") > limit:
        raise _too_large(blob_name, str(len(data)), limit)
    try:
        script = script if script is not None else get_entry_script()
        script.wait_until_ready(wait)
    except InitFailedError as exc:
        message = f"{label} was not scored: the entry script is not initialised ({exc})"
        logger.error(message)
        raise BlobScoringError(blob_name, message) from exc
    payload = Payload(body=bytes(data or b""), method="POST", url=f"blob:///{blob_name}",
                      headers={"Content-Type": "application/octet-stream", "x-aml-blob-name": blob_name},
                      source=label)
    try:
        prepared = script.prepare(payload)
    except InvalidInputError as exc:
        message = f"{label} was not scored: {exc.message}"
        logger.error(message)
        raise BlobScoringError(blob_name, message) from None
    try:
        result = script.run(prepared)
    except Exception as exc:  # noqa: BLE001
        message = f"{label} was not scored: run() raised {type(exc).__name__}"
        logger.exception(message)
        raise BlobScoringError(blob_name, message) from exc
    try:
        out = result_to_bytes(result)
    except ResultError as exc:
        message = f"{label} was not scored: {exc}"
        logger.error(message)
        raise BlobScoringError(blob_name, message) from exc
    logger.info("%s scored (%d bytes in, %d bytes out)", label, len(payload.body), len(out))
    return out
