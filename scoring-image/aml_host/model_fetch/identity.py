"""Tokens of the app's user-assigned identity from the App Service managed identity endpoint.

``GET $IDENTITY_ENDPOINT?resource=<audience>&api-version=2019-08-01&client_id=<id>`` with the
``X-IDENTITY-HEADER: $IDENTITY_HEADER`` header. Tokens are cached per audience until five
minutes before they expire, and never logged.
"""

import threading
import time
from typing import Dict, Optional, Tuple
from urllib.parse import urlencode

from .errors import HttpError, ModelAccessDenied, ModelFetchError
from .http_client import Deadline, HttpClient

API_VERSION = "2019-08-01"
REFRESH_MARGIN = 300.0


class ManagedIdentity:
    def __init__(self, client: HttpClient, endpoint: Optional[str], header: Optional[str], client_id: Optional[str]):
        self._client = client
        self._endpoint = endpoint
        self._header = header
        self.client_id = client_id
        self._lock = threading.Lock()
        self._cache: Dict[str, Tuple[str, float]] = {}

    def describe(self) -> str:
        return f"the app's identity (client id {self.client_id})" if self.client_id else "the app's identity"

    def token(self, audience: str, deadline: Deadline) -> str:
        with self._lock:
            cached = self._cache.get(audience)
            if cached and cached[1] - REFRESH_MARGIN > time.time():
                return cached[0]
            if not self._endpoint or not self._header:
                raise ModelFetchError(
                    "IDENTITY_ENDPOINT/IDENTITY_HEADER are not set: the model is fetched with the function app's "
                    "managed identity, which App Service provides only to apps that have one")
            query = {"resource": audience, "api-version": API_VERSION}
            if self.client_id:
                query["client_id"] = self.client_id
            try:
                resp = self._client.request("GET", f"{self._endpoint}?{urlencode(query)}", deadline,
                                            headers={"X-IDENTITY-HEADER": self._header},
                                            what=f"getting a token for {audience}")
            except HttpError as exc:
                if exc.status in (400, 401, 403, 404):
                    raise ModelAccessDenied(
                        f"the managed identity endpoint refused a token for {audience} (HTTP {exc.status} {exc.detail}): "
                        f"is the user-assigned identity with client id {self.client_id} assigned to the function app?") from None
                raise
            data = resp.json()
            token = data.get("access_token")
            if not isinstance(token, str) or not token:
                raise ModelFetchError(f"the managed identity endpoint returned no access_token for {audience}")
            try:
                expires = float(data.get("expires_on", 0))
            except (TypeError, ValueError):
                expires = 0.0
            if expires <= 0:
                expires = time.time() + float(data.get("expires_in", 3600) or 3600)
            self._cache[audience] = (token, expires)
            return token
