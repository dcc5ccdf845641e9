"""HTTP trigger adapter. Bindings: in ``req`` (httpTrigger), out ``$return`` (http)."""

import azure.functions as func

from aml_host.http import handle_http


def main(req: func.HttpRequest) -> func.HttpResponse:
    result = handle_http(req.method, req.url, dict(req.headers), dict(req.params), req.get_body())
    return func.HttpResponse(body=result.body, status_code=result.status, headers=result.headers)
