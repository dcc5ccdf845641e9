"""Blob scoring: (blob name, bytes) -> output bytes, or an exception naming the blob.

The input is text by default (UTF-8; undecodable input fails), the request object for
``@rawhttp`` scripts (raw bytes via ``get_data()``), or a JSON object for inference-schema
scripts. The output is ``json.dumps(result)`` as UTF-8 (an AMLResponse gives its body).

On any failure :class:`BlobScoringError` is raised and nothing is returned, so the adapter
writes no output blob; the Functions runtime retries the blob (5 tries in all) and then puts it
on the ``webjobs-blobtrigger-poison`` queue. The input blob is never modified or deleted.
"""

import logging
from typing import Optional

from .results import ResultError, result_to_bytes
from .script import EntryScript, InitFailedError, InvalidInputError, Payload, get_entry_script

logger = logging.getLogger("aml_host")


class BlobScoringError(Exception):
    """Scoring one blob failed; the message names the blob."""

    def __init__(self, blob_name: str, message: str):
        super().__init__(message)
        self.blob_name = blob_name


def score_blob(blob_name: str, data: bytes, script: Optional[EntryScript] = None) -> bytes:
    label = f"blob '{blob_name}'"
    try:
        script = script if script is not None else get_entry_script()
        script.ensure_ready()
    except InitFailedError as exc:
        message = f"{label} was not scored: the entry script failed to initialise ({exc})"
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
