"""Downloads that survive a cut connection and never leave a half-written model in place.

The bytes stream into `<file>.part` (with a progress callback), a later attempt resumes it with
an HTTP Range request, the SHA-256 (and size) are checked, and only then is the file renamed
into place, atomically (`os.replace`). A hash mismatch deletes the partial file.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from realtime.inference.errors import DownloadError

log = logging.getLogger(__name__)

CHUNK = 1 << 20
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


def _open(url: str, start: int, timeout: float):
    headers = {"User-Agent": "facecam-model-fetch"}
    if start:
        headers["Range"] = f"bytes={start}-"
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)


def _fetch_one(url: str, part: Path, size: int | None, progress: Progress | None,
               timeout: float) -> str:
    """Stream `url` into `part` (resuming it when the server allows); returns the SHA-256."""
    start = part.stat().st_size if part.exists() else 0
    if size is not None and start > size:
        part.unlink()
        start = 0
    digest = hashlib.sha256()
    try:
        response = _open(url, start, timeout)
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
            while response is not None and (chunk := response.read(CHUNK)):
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
             timeout: float = 30.0) -> str:
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
            digest = _fetch_one(url, part, size, progress, timeout)
        except (urllib.error.URLError, OSError, DownloadError, ValueError) as error:
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
