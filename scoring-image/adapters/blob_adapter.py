"""Blob trigger adapter. Bindings: in ``inputblob`` (blobTrigger, dataType binary), out ``outputblob`` (blob).

The output blob is set only when scoring succeeded; a failure raises, so the runtime retries
the blob and finally moves it to the ``webjobs-blobtrigger-poison`` queue. The input blob is
only read.
"""

import azure.functions as func

from aml_host.blob import score_blob


def main(inputblob: func.InputStream, outputblob: func.Out[bytes]) -> None:
    output = score_blob(inputblob.name or "<unnamed blob>", inputblob.read())
    outputblob.set(output)
