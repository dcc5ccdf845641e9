"""Hosting of Azure ML entry scripts inside Azure Functions (standard library only).

Public API:

* :func:`aml_host.http.handle_http` - pure HTTP scoring (status, headers, body);
* :func:`aml_host.blob.score_blob` - blob bytes in, output bytes out (or BlobScoringError);
* :func:`aml_host.servicebus.score_message` / :func:`aml_host.servicebus.score_batch` - Service
  Bus messages in, output messages out (contract in that module's docstring);
* :class:`aml_host.script.EntryScript` / :func:`aml_host.script.get_entry_script` - loading,
  ``init()`` once (retried with backoff until it succeeds), input modes;
* :func:`aml_host.script.wait_until_ready` - wait (bounded) for ``init()``, for queue-like triggers;
* :func:`aml_host.health.health_status` - the health function's answer (200 ready / 503).

The adapters in ``adapters/`` only convert Azure Functions types and call these.
"""

__all__ = ["blob", "health", "http", "json_output", "results", "script", "servicebus", "settings"]
