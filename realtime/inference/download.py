"""Downloads that survive a cut connection and never leave a half-written model in place.

The bytes stream into `<file>.part` (with a progress callback), a later attempt resumes it with
an HTTP Range request, the SHA-256 (and size) are checked, and only then is the file renamed
into place, atomically (`os.replace`). A hash mismatch deletes the partial file.

Only https:// is fetched (plain http:// only where the catalogue allows it for a mirror the user
runs), a redirect may not leave https, and a server may not send more than the catalogue's size:
the stream is cut there, so a hostile or broken server cannot fill the disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from realtime.inference.errors import DownloadError

log = logging.getLogger(__name__)

CHUNK = 1 << 20
UNDECLARED_LIMIT = 4 << 30
"""The most a download whose catalogue entry gives no size may fetch (the largest model is ~0.5 GB)."""
Progress = Callable[[int, int | None], None]
"""progress(bytes done, total bytes or None)."""


def file_sha256(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()


def partial_path(destination: Path) -> Path:
    return destination.with_name(destination.name + ".part")


def check_scheme(url: str, allow_http: bool) -> None:
    """Raise DownloadError unless `url` is https (or http, when `allow_http`)."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme == "https" or (scheme == "http" and allow_http):
        return
    if scheme == "http":
        raise DownloadError(f"refused plain http:// (only https is fetched; a catalogue for your own "
                            f"mirror may say `allow_http = true`): {url}")
    raise DownloadError(f"refused {scheme or 'a relative'} URL (only https is fetched): {url}")


class _SchemeCheckingRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to a URL that `check_scheme` accepts (urllib alone would follow
    https -> http or ftp)."""

    def __init__(self, allow_http: bool) -> None:
        self.allow_http = allow_http

    def http_error_302(self, req, fp, code, msg, headers):
        newurl = urllib.parse.urljoin(req.full_url, headers.get("location") or headers.get("uri") or "")
        try:
            check_scheme(newurl, self.allow_http)
        except DownloadError as error:
            fp.close()
            raise DownloadError(f"redirected from {req.full_url}: {error}") from None
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _open(url: str, start: int, timeout: float, allow_http: bool = False):
    check_scheme(url, allow_http)
    headers = {"User-Agent": "facecam-model-fetch"}
    if start:
        headers["Range"] = f"bytes={start}-"
    opener = urllib.request.build_opener(_SchemeCheckingRedirects(allow_http))
    return opener.open(urllib.request.Request(url, headers=headers), timeout=timeout)


def _fetch_one(url: str, part: Path, size: int | None, progress: Progress | None,
               timeout: float, allow_http: bool = False) -> str:
    """Stream `url` into `part` (resuming it when the server allows); returns the SHA-256."""
    limit = size if size is not None else UNDECLARED_LIMIT
    start = part.stat().st_size if part.exists() else 0
    if size is not None and start > size:
        part.unlink()
        start = 0
    digest = hashlib.sha256()
    try:
        response = _open(url, start, timeout, allow_http)
    except urllib.error.HTTPError as error:
        if error.code == 416 and start:  # nothing left to send: the part may be complete
            response = None
        else:
            raise
    with contextlib.ExitStack() as stack:
        if response is not None:
            stack.enter_context(response)
            status = getattr(response, "status", None) or 200
            if start and status != 206:  # the server ignored Range: start again
                log.info("%s does not resume downloads; starting again", url)
                start = 0
            length = response.headers.get("Content-Length")
            total = (start + int(length)) if length and length.isdigit() else size
            if total is not None and total > limit:
                raise DownloadError(f"the server offers {total} bytes, more than the "
                                    f"{'declared' if size is not None else 'allowed'} {limit}")
        else:
            total = start
        mode = "ab" if start else "wb"
        if start:  # the hash covers the whole file: read what is already there first
            with part.open("rb") as existing:
                while chunk := existing.read(CHUNK):
                    digest.update(chunk)
        done = start
        if progress is not None:
            progress(done, total)
        with part.open(mode) as handle:
            while response is not None and (chunk := response.read(min(CHUNK, limit - done + 1))):
                if done + len(chunk) > limit:  # never store (or wait for) more than declared
                    raise DownloadError(f"the server sent more than the "
                                        f"{'declared' if size is not None else 'allowed'} {limit} bytes")
                handle.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
            handle.flush()
            os.fsync(handle.fileno())
    if total is not None and done < total:
        raise DownloadError(f"connection closed after {done} of {total} bytes")
    return digest.hexdigest()


def download(urls: Sequence[str], destination: str | Path, sha256: str | None = None,
             size: int | None = None, progress: Progress | None = None,
             timeout: float = 30.0, allow_http: bool = False) -> str:
    """Fetch the first URL that works into `destination`; returns the file's SHA-256.

    Raises DownloadError when every URL failed; the partial file is kept for a later resume
    unless its content was wrong (hash or size mismatch), in which case it is deleted.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    part = partial_path(destination)
    failures = []
    for url in urls:
        try:
            digest = _fetch_one(url, part, size, progress, timeout, allow_http)
        except DownloadError as error:
            if "more than" in str(error):
                part.unlink(missing_ok=True)  # the bytes are wrong: nothing to resume
            failures.append(f"{url}: {error}")
            continue
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            failures.append(f"{url}: {reason}")
            log.debug("download from %s failed: %s", url, reason)
            continue
        actual_size = part.stat().st_size
        if size is not None and actual_size != size:
            part.unlink()
            failures.append(f"{url}: got {actual_size} bytes, expected {size}")
            continue
        if sha256 is not None and digest != sha256.lower():
            part.unlink()
            failures.append(f"{url}: SHA-256 {digest[:12]}... does not match the catalogue's "
                            f"{sha256[:12]}...")
            continue
        os.replace(part, destination)
        return digest
    kept = " (the partial file is kept; run the same command again to resume)" if part.exists() else ""
    raise DownloadError(f"could not download {destination.name}: {'; '.join(failures)}{kept}")
