"""The health function: is the entry script ready to score in this worker?

``GET /api/health`` (anonymous, so the platform's health check can call it):

* 200 ``{"status": "ready"}`` once ``init()`` has succeeded;
* 503 ``{"status": "initialising"}`` while an attempt runs, ``{"status": "retrying"}`` after a
  failed attempt while the next one is scheduled, ``{"status": "unavailable"}`` when the entry
  script cannot even be located (app settings missing). ``Retry-After`` is set.

The body never carries error details: the endpoint needs no key. Calling it starts ``init()``
if nothing has yet, and it never waits for it: the platform's ping must not hang.

The app's ``health_check_path`` points here. App Service pings it every minute on each
instance; an instance that does not answer 200-299 is taken out of load balancing and, after
``health_check_eviction_time_in_min`` minutes, replaced. Replacement needs more than one
instance (at most half of them are replaced); with one, only the status is reported.
"""

import json
import logging
from typing import Optional

from .http import JSON_CONTENT_TYPE, HttpResult
from .script import EntryScript, InitFailedError, get_entry_script

logger = logging.getLogger("aml_host")


def _result(status: int, state: str, retry_after: Optional[int] = None) -> HttpResult:
    headers = {"Content-Type": JSON_CONTENT_TYPE, "Cache-Control": "no-store"}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return HttpResult(status, headers, json.dumps({"status": state}).encode("utf-8"))


def health_status(script: Optional[EntryScript] = None) -> HttpResult:
    """200 when the entry script is ready, 503 otherwise; starts ``init()``; never raises or blocks."""
    try:
        script = script if script is not None else get_entry_script()
        if script.ready:
            return _result(200, "ready")
        script.start()
        if script.state == "retry-wait":
            return _result(503, "retrying", max(1, int(script.policy.first_delay)))
        return _result(503, "initialising", max(1, int(script.policy.first_delay)))
    except InitFailedError:
        return _result(503, "unavailable", 60)
    except Exception:  # noqa: BLE001 - a health probe must always get an answer
        logger.exception("health: unexpected error")
        return _result(503, "unavailable", 60)


def start_init_quietly() -> None:
    """Start ``init()`` of the process-wide entry script in the background, if it can be found.
    Called when the worker loads the health function, so an instance starts initialising at
    start-up instead of on its first invocation."""
    try:
        get_entry_script().start()
    except Exception:  # noqa: BLE001 - the first invocation reports the problem
        logger.warning("health: the entry script could not be located at start-up", exc_info=True)
