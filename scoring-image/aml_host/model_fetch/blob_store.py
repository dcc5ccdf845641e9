"""Listing and downloading blobs with the Blob REST API: a bearer token of the app's identity
(``Authorization: Bearer``), or the SAS an Azure ML registry hands out for its own storage.

Downloads stream in 1 MiB pieces straight to disk (memory stays flat whatever the size), and a
connection dropped mid-file resumes with a ``Range`` request from the last byte written.
"""

import ipaddress
import logging
import os
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple
from urllib.parse import quote, unquote, urlsplit

from .errors import HttpError, ModelFetchError, ModelNotFound
from .http_client import TRANSIENT_ERRORS, Deadline, HttpClient, redact

logger = logging.getLogger("aml_host.model_fetch")

STORAGE_API_VERSION = "2023-11-03"
CHUNK = 1024 * 1024


@dataclass
class BlobAuth:
    """Exactly one of: a bearer-token getter, a SAS query string, or neither (anonymous)."""

    bearer: Optional[Callable[[Deadline], str]] = None
    sas: Optional[str] = None

    def url(self, url: str) -> str:
        if not self.sas:
            return url
        return f"{url}{'&' if '?' in url else '?'}{self.sas}"

    def headers(self, deadline: Deadline) -> dict:
        headers = {"x-ms-version": STORAGE_API_VERSION}
        if self.bearer is not None:
            headers["Authorization"] = f"Bearer {self.bearer(deadline)}"
        return headers


@dataclass
class BlobLocation:
    container_url: str  # scheme://host[/account]/container, no query
    path: str  # a blob name or a prefix inside the container
    auth: BlobAuth
    where: str  # "storage account X, container Y" for messages


@dataclass
class BlobFile:
    name: str  # blob name
    size: int
    local: str  # relative local path (posix), first segment = the model's top-level name
    etag: Optional[str] = None  # the listing's ETag: every request for the blob must still match it


def _is_path_style(host: str) -> bool:
    """Emulators and IP endpoints put the account in the path (``https://127.0.0.1:10000/acct/c``)."""
    if host in ("localhost",):
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def split_blob_url(url: str) -> Tuple[str, str, str]:
    """(container_url, blob path, query) of a blob or prefix URL."""
    parts = urlsplit(url)
    segments = parts.path.lstrip("/").split("/")
    skip = 2 if _is_path_style(parts.hostname or "") else 1
    if len(segments) < skip or not segments[skip - 1]:
        raise ModelFetchError(f"{redact(url)} is not a blob URL (no container in it)")
    container_url = f"{parts.scheme}://{parts.netloc}/" + "/".join(segments[:skip])
    from urllib.parse import unquote
    return container_url, unquote("/".join(segments[skip:])), parts.query


def list_blobs(client: HttpClient, loc: BlobLocation, prefix: str, deadline: Deadline, page_size: int = 5000) -> List[tuple]:
    """Every (name, size, etag) under ``prefix``, following NextMarker; ADLS Gen2 folder entries
    skipped; etag is None when the listing has none."""
    found: List[tuple] = []
    marker = ""
    while True:
        url = f"{loc.container_url}?restype=container&comp=list&include=metadata&maxresults={page_size}&prefix={quote(prefix, safe='')}"
        if marker:
            url += f"&marker={quote(marker, safe='')}"
        resp = client.request("GET", loc.auth.url(url), deadline, headers=loc.auth.headers(deadline),
                              what=f"listing {loc.where} under '{prefix}'")
        try:
            root = ElementTree.fromstring(resp.body)
        except ElementTree.ParseError as exc:
            raise ModelFetchError(f"the blob listing of {loc.where} is not valid XML ({exc})") from None
        for blob in root.iter("Blob"):
            element = blob.find("Name")
            name = (element.text or "") if element is not None else ""
            if element is not None and (element.get("Encoded") or "").lower() == "true":
                # Names with characters XML cannot carry come percent-encoded (Blob service
                # 2020-10-02+); the decoded name may still be refused by plan_files.
                name = unquote(name)
            listed = (blob.findtext("Properties/Content-Length") or "0").strip()
            if not listed.isdigit():
                raise ModelFetchError(f"the blob listing of {loc.where} gives '{name}' the size {listed[:40]!r}, "
                                      "not a byte count")
            size = int(listed)
            is_folder = (blob.findtext("Metadata/hdi_isfolder") or "").lower() == "true" or \
                (blob.findtext("Properties/ResourceType") or "").lower() == "directory"
            if name and not is_folder:
                found.append((name, size, blob.findtext("Properties/Etag") or None))
        marker = root.findtext("NextMarker") or ""
        if not marker:
            return found


def _safe_relative(name: str, base: str) -> str:
    """``name`` below ``base``, refusing anything that would escape the model folder."""
    rel = name[len(base):] if base else name
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts) or "\\" in rel or "\x00" in rel:
        raise ModelFetchError(f"blob name {name!r} cannot be stored as a local file (empty, '.' or '..' segment)")
    return rel


def plan_files(loc: BlobLocation, listing: List[tuple]) -> List[BlobFile]:
    """What to download for ``loc.path``: every blob under ``path/`` (a folder), else the blob
    named ``path`` (a file). The local top-level name is the last segment of the path."""
    path = loc.path.rstrip("/")
    if path and any(seg in ("", ".", "..") for seg in path.split("/")):
        # The path can come from a model version's modelUri: its last segment names a local folder.
        raise ModelFetchError(f"the model path '{path}' in {loc.where} has an empty, '.' or '..' segment")
    top = path.rsplit("/", 1)[-1] if path else ""
    # (name, size) or (name, size, etag).
    entries = [(e[0], e[1], e[2] if len(e) > 2 else None) for e in listing]
    folder = [e for e in entries if e[0].startswith(path + "/")] if path else entries
    if folder:
        base = path + "/" if path else ""
        return sorted((BlobFile(n, s, f"{top}/{_safe_relative(n, base)}" if top else _safe_relative(n, base), etag)
                       for n, s, etag in folder), key=lambda f: f.name)
    exact = [e for e in entries if e[0] == path]
    if exact and not loc.path.endswith("/"):
        return [BlobFile(exact[0][0], exact[0][1], _safe_relative(top, ""), exact[0][2])]
    raise ModelNotFound(f"no blob named '{path}' and no blobs under '{path}/' in {loc.where} (empty prefix)")


@dataclass
class Part:
    """A byte range of one blob: a whole small blob, or one slice of a big one."""

    item: BlobFile
    start: int
    length: int
    whole: bool  # the whole blob in one request (no Range header needed unless resuming)


PART_SIZE = 8 * CHUNK
SPLIT_ABOVE = 2 * PART_SIZE


def split_parts(files: List[BlobFile], part_size: int = PART_SIZE, split_above: int = SPLIT_ABOVE) -> List[Part]:
    """Big blobs are fetched as parallel ranges (like azcopy and the Azure SDKs): a single
    stream to Blob storage is slower than several, and a drop costs one slice at most."""
    parts: List[Part] = []
    for f in files:
        if f.size <= split_above:
            parts.append(Part(f, 0, f.size, True))
        else:
            parts.extend(Part(f, o, min(part_size, f.size - o), False) for o in range(0, f.size, part_size))
    return parts


def prepare_file(dest: str, size: int) -> None:
    """Creates ``dest`` at its final size, so parts can be written in any order."""
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "wb") as out:
        out.truncate(size)


def download_part(client: HttpClient, loc: BlobLocation, part: Part, dest: str, deadline: Deadline,
                  on_bytes: Callable[[int], None]) -> None:
    """Streams one part into the prepared file ``dest`` at its offset; resumes after dropped
    connections with a Range request from the last byte written; checks the length."""
    item = part.item
    url = f"{loc.container_url}/{quote(item.name, safe='/')}"
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    written = 0
    attempt = 0
    fd = os.open(dest, os.O_WRONLY)
    try:
        while written < part.length or (part.length == 0 and attempt == 0 and not written):
            headers = loc.auth.headers(deadline)
            if item.etag:
                # The blob as listed, in every range: a blob rewritten meanwhile answers 412 instead
                # of mixing two versions into one file.
                headers["If-Match"] = item.etag
            ranged = not (part.whole and written == 0)
            if ranged:
                headers["Range"] = f"bytes={part.start + written}-{part.start + part.length - 1}"
            resp = client.request("GET", loc.auth.url(url), deadline, headers=headers, ok=(206,) if ranged else (200,),
                                  stream=True, what=f"downloading '{item.name}' from {loc.where}")
            raw = resp.raw
            expected = _expected_size(resp.status, resp.headers)
            if expected is not None and expected != item.size:
                raw.close()
                raise ModelFetchError(f"'{item.name}' in {loc.where} changed while downloading: it has {expected} bytes, "
                                      f"the listing said {item.size}")
            try:
                while written < part.length:
                    # Inside the overall timeout also while a body trickles in (each read may get a byte).
                    deadline.check(f"downloading '{item.name}' from {loc.where}")
                    n = raw.readinto(buf)
                    if not n:
                        break
                    n = min(n, part.length - written)
                    os.pwrite(fd, view[:n], part.start + written)
                    written += n
                    on_bytes(n)
                if written >= part.length and raw.read(1):
                    # More than the part: never read on (a body without end would fill memory).
                    raw.close()
                    client.close()
                    raise ModelFetchError(f"'{item.name}' in {loc.where} is longer than the listing said "
                                          f"({item.size} bytes)")
            except TRANSIENT_ERRORS as exc:
                attempt += 1
                raw.close()
                client.close()
                if attempt >= client.policy.max_attempts:
                    raise ModelFetchError(f"downloading '{item.name}' from {loc.where}: connection lost "
                                          f"{attempt} times ({type(exc).__name__}: {exc})") from None
                logger.warning("downloading '%s': connection lost after %d bytes of a part (%s), resuming", item.name,
                               written, type(exc).__name__)
                client.policy.wait(attempt, None, deadline, f"downloading '{item.name}'")
                continue
            if part.length == 0:
                break
            if written < part.length:
                # The body ended early without an error (the server closed the connection).
                attempt += 1
                client.close()
                if attempt >= client.policy.max_attempts:
                    raise ModelFetchError(f"downloading '{item.name}' from {loc.where}: got {written} of {part.length} bytes")
                logger.warning("downloading '%s': body ended at %d of %d bytes, resuming", item.name, written, part.length)
                client.policy.wait(attempt, None, deadline, f"downloading '{item.name}'")
    finally:
        os.close(fd)


def _expected_size(status: int, headers) -> Optional[int]:
    """The blob's full size as this response states it (Content-Length of a 200, the total of a
    206's Content-Range), or None when the response does not say."""
    try:
        if status == 200 and headers.get("Content-Length") is not None:
            return int(headers.get("Content-Length"))
        total = (headers.get("Content-Range") or "").rsplit("/", 1)
        if status == 206 and len(total) == 2 and total[1].strip().isdigit():
            return int(total[1])
    except ValueError:
        return None
    return None


def is_denied(exc: BaseException) -> bool:
    return isinstance(exc, HttpError) and exc.status in (401, 403)
