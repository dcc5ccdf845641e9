"""Blob trigger adapter. Bindings: in ``inputblob`` (blobTrigger, dataType binary), out ``outputblob`` (blob).

The output blob is set only when scoring succeeded; a failure raises, so the runtime retries
the blob and finally moves it to the ``webjobs-blobtrigger-poison`` queue. The input blob is
only read, and at most AML_MAX_BLOB_BYTES + 1 bytes of it.
"""

import azure.functions as func

from aml_host.blob import read_blob, score_blob


def main(inputblob: func.InputStream, outputblob: func.Out[bytes]) -> None:
    name = inputblob.name or "<unnamed blob>"
    output = score_blob(name, read_blob(name, inputblob))
    outputblob.set(output)
