"""Errors of the model downloader. Messages never contain tokens or SAS query strings."""


class ModelFetchError(Exception):
    """The model could not be resolved or downloaded."""


class ModelAccessDenied(ModelFetchError):
    """Azure refused the app's identity (401/403): the message names the role that is missing."""


class ModelNotFound(ModelFetchError):
    """The model, its datastore or its blobs do not exist."""


class HttpError(ModelFetchError):
    """A request failed with a status that retrying does not fix (or retries ran out)."""

    def __init__(self, method: str, url: str, status: int, code: str, detail: str):
        self.method = method
        self.url = url
        self.status = status
        self.code = code
        self.detail = detail
        super().__init__(f"{method} {url} failed: HTTP {status}{f' {code}' if code else ''}{f': {detail}' if detail else ''}")
