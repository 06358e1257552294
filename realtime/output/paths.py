"""Output files that never cost the user a file.

- An output is never one of the run's inputs (the video read, the photo worn): refused.
- It is written under a partial name beside the final one (`rec.partial.mp4`), and renamed over
  the final name only when the run ends, so an existing file is replaced in one step and a file
  being written is never mistaken for a finished one. The partial name keeps the suffix: a run
  killed outright (SIGKILL, the OOM killer) leaves a partial file that still plays.
- The partial file is locked (flock) while it is written: a second run writing the same path is
  refused with one line instead of both corrupting it. A partial file nobody holds is the
  leftover of a killed run: it is kept under a fresh name and the user is told where.
- A name facecam picked itself (the default `out/facecam-demo.mp4`, a restarted engine's file)
  never replaces an existing file: the next free name (`facecam-demo-2.mp4`) is used instead.
- Files are created with the process umask (like any other program's), not 0600.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from realtime.errors import OutputError

try:  # POSIX advisory locks; elsewhere only the partial name protects a file
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)


def partial_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.partial{path.suffix}")


def fresh_path(path: Path, taken: Iterable[Path] = ()) -> Path:
    """`path` when nothing is there (and it is not in `taken`), else stem-2, stem-3..."""
    taken = {Path(p).resolve() for p in taken}
    candidate, number = path, 1
    while candidate.exists() or partial_path(candidate).exists() or candidate.resolve() in taken:
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def refuse_inputs(path: Path, inputs: Iterable[str | Path | None]) -> None:
    """OutputError when `path` is one of the run's inputs: writing it would destroy it."""
    for item in inputs:
        if item is None:
            continue
        source = Path(item).expanduser()
        if same_file(path, source) or path.resolve() == source.resolve():
            raise OutputError(f"output {path} is also an input of this run: writing it would destroy "
                              "it; choose another output file")


class OutputFile:
    """The file an output writes: `partial` while writing, `path` once `commit` is called.

    fresh: pick a free name instead of replacing an existing file (names facecam chose).
    inputs: files this run reads, which the output must not be."""

    def __init__(self, path: Path, *, inputs: Iterable[str | Path | None] = (), fresh: bool = False,
                 taken: Iterable[Path] = ()) -> None:
        path = Path(path).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(f"cannot create folder {path.parent}: {error.strerror or error}") from None
        if path.is_dir():
            raise OutputError(f"output {path} is a folder, not a file")
        refuse_inputs(path, inputs)
        if fresh:
            chosen = fresh_path(path, taken)
            if chosen != path:
                log.info("%s exists: writing %s instead", path, chosen)
            path = chosen
        self.path = path
        self.partial = partial_path(path)
        self._fd: int | None = None
        self._lock()
        if path.exists():
            if not os.access(path, os.W_OK):
                self.discard()
                raise OutputError(f"cannot write {path}: permission denied")
            log.info("%s exists: it is replaced when this run finishes", path)

    def _lock(self) -> None:
        for _ in range(3):
            try:
                fd = os.open(self.partial, os.O_RDWR | os.O_CREAT, 0o666)  # the umask applies
            except OSError as error:
                raise OutputError(f"cannot write {self.path}: {error.strerror or error}") from None
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    raise OutputError(f"another facecam run is writing {self.path} (into {self.partial.name}); "
                                      "choose another output file or wait for it to finish") from None
            if os.fstat(fd).st_size == 0:
                self._fd = fd
                return
            # Nobody holds it and it has content: what a killed run left. Keep it, under a new name.
            kept = fresh_path(self.path.with_name(f"{self.path.stem}-recovered{self.path.suffix}"))
            try:
                os.replace(self.partial, kept)
            finally:
                os.close(fd)
            log.warning("%s was left by a run that was stopped abruptly; kept as %s (it plays up to "
                        "where that run stopped)", self.partial.name, kept)
        raise OutputError(f"cannot lock {self.partial}: it keeps changing")  # pragma: no cover

    def commit(self) -> Path:
        """Put the written file under its final name (replacing what was there) and unlock."""
        if self._fd is None:
            return self.path
        try:
            os.replace(self.partial, self.path)
        except OSError as error:
            raise OutputError(f"cannot rename {self.partial} to {self.path}: {error.strerror or error}; "
                              f"the recording is in {self.partial}") from None
        finally:
            self._release()
        return self.path

    def discard(self) -> None:
        """Nothing worth keeping was written: remove the partial file and unlock."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.partial.unlink()
        self._release()

    def _release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
