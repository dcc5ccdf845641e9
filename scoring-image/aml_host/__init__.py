"""Hosting of Azure ML entry scripts inside Azure Functions (standard library only).

Public API:

* :func:`aml_host.http.handle_http` - pure HTTP scoring (status, headers, body);
* :func:`aml_host.blob.score_blob` - blob bytes in, output bytes out (or BlobScoringError);
* :func:`aml_host.servicebus.score_message` / :func:`aml_host.servicebus.score_batch` - Service
  Bus messages in, output messages out (contract in that module's docstring);
* :class:`aml_host.script.EntryScript` / :func:`aml_host.script.get_entry_script` - loading,
  ``init()`` once, input modes.

The adapters in ``adapters/`` only convert Azure Functions types and call these.
"""

__all__ = ["blob", "http", "script", "servicebus", "settings"]
