"""Azurite (the Azure Storage emulator, npm devDependency) for tests: HTTPS with a self-signed
certificate and ``--oauth basic``, so blobs are read with bearer tokens like in Azure.

Bearer tokens are unsigned JWTs (Azurite checks audience, issuer form and expiry, not the
signature). The process runs in its own process group and is always killed: by ``stop()``,
and by an ``atexit`` hook should a test run be interrupted.

Missing node/azurite/openssl: the tests skip locally, and fail when ``CI`` or
``AML_REQUIRE_SKLEARN=1`` says nothing may be skipped.
"""

import atexit
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
from typing import Optional
from urllib.parse import quote

from .helpers import REPO_ROOT

ACCOUNT = "devstoreaccount1"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
AZURITE = os.path.join(REPO_ROOT, "node_modules", ".bin", "azurite-blob")


def must_not_skip() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false") or os.environ.get("AML_REQUIRE_SKLEARN") == "1"


def require(condition: bool, why: str) -> None:
    """Skip (locally) or fail (CI) when a tool the test needs is missing."""
    if condition:
        return
    if must_not_skip():
        raise AssertionError(f"{why} (CI must not skip these tests)")
    raise unittest.SkipTest(why)


def jwt(audience: str, ttl: int = 3600, tenant: str = TENANT) -> str:
    def part(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    now = int(time.time())
    claims = {"aud": audience, "iss": f"https://sts.windows.net/{tenant}/", "iat": now - 60, "nbf": now - 60,
              "exp": now + ttl, "tid": tenant, "oid": "00000000-0000-0000-0000-00000000a11c", "appid": "test"}
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def _die_with_parent() -> None:
    """In the child before exec: Linux sends it SIGKILL if the test process dies, even by SIGKILL."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Azurite:
    def __init__(self):
        require(shutil.which("node") is not None, "node is not on PATH (Azurite runs on Node)")
        require(os.path.exists(AZURITE), f"{AZURITE} is missing: run npm ci")
        require(shutil.which("openssl") is not None, "openssl is missing (apt-get install openssl)")
        self.dir = tempfile.mkdtemp(prefix="azurite-")
        self.cert = os.path.join(self.dir, "cert.pem")
        key = os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", self.cert,
                        "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        self.port = free_port()
        data = os.path.join(self.dir, "data")
        os.makedirs(data)
        self.proc: Optional[subprocess.Popen] = subprocess.Popen(
            [AZURITE, "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--oauth", "basic", "--cert", self.cert,
             "--key", key, "--location", data, "--skipApiVersionCheck", "--silent", "--disableTelemetry"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, preexec_fn=_die_with_parent)
        atexit.register(self.stop)
        self.context = ssl.create_default_context(cafile=self.cert)
        self._wait_ready()

    @property
    def endpoint_template(self) -> str:
        """``AML_MODEL_BLOB_ENDPOINT`` for this Azurite (path-style: the account is in the path)."""
        return f"https://127.0.0.1:{self.port}/{{account}}"

    def _wait_ready(self, timeout: float = 60.0) -> None:
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")
                raise RuntimeError(f"azurite exited with {self.proc.returncode}: {err[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("azurite did not start listening within 60 s")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)
        if proc is not None and proc.stderr:
            proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- data set-up, with a bearer token like the app uses --------------------------------

    def _request(self, method: str, path: str, headers=None, body=None, blocksize: int = 1 << 20):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=120, blocksize=blocksize)
        try:
            h = {"Authorization": f"Bearer {jwt('https://storage.azure.com')}", "x-ms-version": "2023-11-03"}
            h.update(headers or {})
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status >= 300:
                raise RuntimeError(f"{method} {path}: {resp.status} {data[:300]!r}")
            return resp.status, data
        finally:
            conn.close()

    def create_container(self, container: str) -> None:
        self._request("PUT", f"/{ACCOUNT}/{container}?restype=container")

    def put_blob(self, container: str, name: str, data: bytes) -> None:
        self._request("PUT", f"/{ACCOUNT}/{container}/{quote(name)}", {"x-ms-blob-type": "BlockBlob", "Content-Length": str(len(data))}, data)

    def put_blob_file(self, container: str, name: str, path: str) -> None:
        """Streams a local file (for big blobs)."""
        with open(path, "rb") as f:
            self._request("PUT", f"/{ACCOUNT}/{container}/{quote(name)}",
                          {"x-ms-blob-type": "BlockBlob", "Content-Length": str(os.path.getsize(path))}, f)
