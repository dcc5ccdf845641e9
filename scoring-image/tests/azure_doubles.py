"""Local HTTP doubles (loopback only) for what the model downloader talks to besides Blob
storage: the App Service managed identity endpoint and Azure Resource Manager (Azure ML model
versions, datastores, registry data references), a SAS-only blob store like a registry's, and a
TCP proxy that drops a connection in the middle of a response.
"""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional, Tuple
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from .azurite_server import jwt

IDENTITY_HEADER = "test-identity-header"
CLIENT_ID = "00000000-0000-0000-0000-0000000c1d00"


class _Server:
    """A threading HTTP server on 127.0.0.1 with a request log."""

    def __init__(self, handler_cls):
        self.requests: List[dict] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(handler_cls):
            server_ref = outer

            def log_message(self, *args):  # keep test output quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def record(self, entry: dict) -> None:
        with self.lock:
            self.requests.append(entry)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def send(self, status: int, body: bytes = b"", headers: Optional[Dict[str, str]] = None,
             content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class IdentityEndpoint(_Server):
    """``GET ?resource=&api-version=2019-08-01&client_id=`` -> a JWT for that audience."""

    def __init__(self, refuse: bool = False):
        self.refuse = refuse

        class H(_Base):
            def do_GET(self):
                srv = self.server_ref
                q = parse_qs(urlsplit(self.path).query)
                srv.record({"query": q, "header": self.headers.get("X-IDENTITY-HEADER")})
                if self.headers.get("X-IDENTITY-HEADER") != IDENTITY_HEADER or q.get("api-version") != ["2019-08-01"]:
                    return self.send(401, b'{"error": "bad header or api-version"}')
                if srv.refuse or q.get("client_id") != [CLIENT_ID]:
                    return self.send(400, b'{"error": "invalid_request", "error_description": "Identity not found"}')
                resource = q["resource"][0]
                body = {"access_token": jwt(resource.rstrip("/")), "expires_on": str(int(time.time()) + 3600),
                        "resource": resource, "token_type": "Bearer", "client_id": CLIENT_ID}
                self.send(200, json.dumps(body).encode())

        super().__init__(H)

    def environ(self) -> Dict[str, str]:
        return {"IDENTITY_ENDPOINT": self.url + "/msi/token", "IDENTITY_HEADER": IDENTITY_HEADER, "AML_MODEL_CLIENT_ID": CLIENT_ID}


class ArmDouble(_Server):
    """Azure Resource Manager: canned JSON answers per (method, path), consumed in order (the
    last one repeats). Checks the bearer token's audience and the api-version."""

    def __init__(self):
        self.routes: Dict[Tuple[str, str], List[Tuple[int, dict, Dict[str, str]]]] = {}

        class H(_Base):
            def _handle(self):
                srv = self.server_ref
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = unquote(parts.path)
                srv.record({"method": self.command, "path": path, "query": parse_qs(parts.query),
                            "auth": self.headers.get("Authorization", ""), "body": body, "time": time.monotonic()})
                if not self.headers.get("Authorization", "").startswith("Bearer "):
                    return self.send(401, b'{"error": {"code": "AuthenticationFailed", "message": "no token"}}')
                if parse_qs(parts.query).get("api-version") != ["2024-04-01"]:
                    return self.send(400, b'{"error": {"code": "InvalidApiVersion", "message": "?"}}')
                answers = srv.routes.get((self.command, path.lower()))
                if not answers:
                    return self.send(404, json.dumps({"error": {"code": "ResourceNotFound", "message": path}}).encode())
                status, doc, headers = answers.pop(0) if len(answers) > 1 else answers[0]
                self.send(status, json.dumps(doc).encode(), headers)

            do_GET = _handle
            do_POST = _handle

        super().__init__(H)

    def on(self, method: str, path: str, *answers: Tuple[int, dict, Dict[str, str]]) -> None:
        self.routes[(method, path.lower())] = list(answers)

    def calls(self, method: str, path_suffix: str) -> List[dict]:
        return [r for r in self.requests if r["method"] == method and r["path"].lower().endswith(path_suffix.lower())]


def ok(doc: dict) -> Tuple[int, dict, Dict[str, str]]:
    return (200, doc, {})


def error(status: int, code: str, headers: Optional[Dict[str, str]] = None) -> Tuple[int, dict, Dict[str, str]]:
    return (status, {"error": {"code": code, "message": f"{code} (test double)"}}, headers or {})


class SasBlobStore(_Server):
    """Blob storage that only accepts a SAS (``sig`` in the query, no Authorization header),
    like the storage behind an Azure ML registry. Path-style: ``/<account>/<container>/<blob>``."""

    def __init__(self, account: str, container: str, blobs: Dict[str, bytes], sig: str):
        self.account, self.container, self.blobs, self.sig = account, container, blobs, sig

        class H(_Base):
            def do_GET(self):
                srv = self.server_ref
                parts = urlsplit(self.path)
                q = parse_qs(parts.query)
                srv.record({"path": unquote(parts.path), "query": q, "auth": self.headers.get("Authorization")})
                if q.get("sig") != [srv.sig] or self.headers.get("Authorization"):
                    return self.send(403, b"<Error><Code>AuthenticationFailed</Code></Error>", content_type="application/xml")
                base = f"/{srv.account}/{srv.container}"
                path = unquote(parts.path)
                if path == base and q.get("comp") == ["list"]:
                    prefix = q.get("prefix", [""])[0]
                    items = "".join(
                        f"<Blob><Name>{escape(n)}</Name><Properties><Content-Length>{len(d)}</Content-Length></Properties></Blob>"
                        for n, d in sorted(srv.blobs.items()) if n.startswith(prefix))
                    xml = f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs>{items}</Blobs><NextMarker /></EnumerationResults>'
                    return self.send(200, xml.encode(), content_type="application/xml")
                name = path[len(base) + 1:]
                if path.startswith(base + "/") and name in srv.blobs:
                    return self.send(200, srv.blobs[name], content_type="application/octet-stream")
                self.send(404, b"<Error><Code>BlobNotFound</Code></Error>", content_type="application/xml")

        super().__init__(H)


class DroppingProxy:
    """A TCP proxy to 127.0.0.1:<target>; the first connection that carries more than
    ``drop_after`` bytes from the server is cut there (TLS passes through untouched)."""

    def __init__(self, target_port: int, drop_after: int):
        self.target_port = target_port
        self.drop_after = drop_after
        self.dropped = 0
        self.connections = 0
        self._lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, src, dst, from_server: bool):
        sent = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if from_server:
                    with self._lock:
                        armed = self.dropped == 0
                    if armed and sent + len(data) > self.drop_after:
                        dst.sendall(data[: self.drop_after - sent])
                        with self._lock:
                            self.dropped += 1
                        break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def stop(self):
        self._stop = True
        self.sock.close()
