"""Health function adapter. Bindings: in ``req`` (httpTrigger, anonymous, GET), out ``$return`` (http).

``async`` on purpose: the worker runs it on its event loop, not on the thread pool that
waiting blob and Service Bus invocations may fill while ``init()`` is retried, so the
platform's health ping is answered even then. Loading this module starts ``init()``.
"""

import azure.functions as func

from aml_host.health import health_status, start_init_quietly

start_init_quietly()


async def main(req: func.HttpRequest) -> func.HttpResponse:
    result = health_status()
    return func.HttpResponse(body=result.body, status_code=result.status, headers=result.headers)
