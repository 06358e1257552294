"""Provenance: every output frame says it was altered.

- a visible "AI-altered" label in a corner (`label.py`; on by default, `--no-label` for a
  recording the user labels otherwise),
- an invisible watermark in every output frame, always (`watermark.py`),
- a signed C2PA manifest on recordings and pictures written to files (`c2pa_manifest.py`),
  added when the engine stops (the files are final then),
- `facecam verify FILE` reads all three back (`verify.py`).

`Provenance` is the output stage's finisher: the engine adds it last, so the virtual camera,
the preview and the recordings all get the marked picture.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from realtime.errors import SettingsError
from realtime.frame import Frame
from realtime.provenance.label import Label
from realtime.provenance.watermark import SESSION_BITS, Watermarker
from realtime.settings import Settings

log = logging.getLogger(__name__)


MARK_SESSION_VARIABLE = "FACECAM_MARK_SESSION"


def new_session_id() -> int:
    return secrets.randbelow(1 << SESSION_BITS)


def session_from_environment(environ: Mapping[str, str] = os.environ) -> int | None:
    """The invisible mark's session id from FACECAM_MARK_SESSION (hexadecimal, 0 to ffff), or None
    (a new random one) when it is unset. For measurements: with a new id on every run the mark's
    pattern changes and the encoder's choices with it, so two runs of the same code wrote files up
    to 25 levels apart and the identity distance of one pair moved by 0.004 (session 29), as much
    as the changes it was measuring. The mark is there either way; only its id is fixed."""
    text = environ.get(MARK_SESSION_VARIABLE, "").strip()
    if not text:
        return None
    try:
        session = int(text, 16)
    except ValueError:
        session = -1
    if not 0 <= session < 1 << SESSION_BITS:
        raise SettingsError(f"{MARK_SESSION_VARIABLE}={text!r}: a mark session id is 1 to 4 hexadecimal digits (0 to "
                         f"{(1 << SESSION_BITS) - 1:x})")
    return session


class Provenance:
    """Finisher: marks a picture with this session's watermark, then draws the label (when the
    `label` setting is on). `settings` is read on every frame, so `Engine.update(label=False)`
    applies from the next frame."""

    def __init__(self, settings: Callable[[], Settings], session: int | None = None,
                 key_fps: float | None = None) -> None:
        self._settings = settings
        self.session = new_session_id() if session is None else session
        self.key_fps = key_fps
        """When set, the temporal key starts at the first frame's place in its file (frame number
        round(pts * key_fps)) instead of at 0, and counts on from there: the chunks of one batch
        job are marked by separate engines, each from its own first frame, and their joined file
        must carry one unbroken key. Only the first frame's time is used (frames are counted
        after it), so a file with broken timestamps still gets a key that switches."""
        self._key_started = False
        self._last_pts: float | None = None
        self.watermarker = Watermarker(self.session)
        self._label: Label | None = None
        self._files: list[tuple[Path, object]] = []
        self._files_lock = threading.Lock()
        log.debug("provenance session id %04x", self.session)

    def _label_for(self, settings: Settings) -> Label:
        wanted = (settings.provenance.label_text, settings.provenance.label_corner)
        if self._label is None or (self._label.text, self._label.corner) != wanted:
            self._label = Label(*wanted)
        return self._label

    @staticmethod
    def altered(frame: Frame | None, settings: Settings) -> bool:
        """Whether the picture may carry a swapped or animated face: "AI-altered" on a picture
        that nothing altered would be false. Judged by the mode stage the frame really went
        through (its stamp), so frames in flight when the mode changes keep the label."""
        if frame is not None:
            if "swap" in frame.stamps or "animate" in frame.stamps:
                return True
            if "passthrough" in frame.stamps:
                return False
        return settings.mode != "passthrough"  # a placeholder, or a picture finished on its own

    def _skipped_ahead(self, frame: Frame) -> bool:
        """With key_fps: the frame's place in its file is more than one frame after the last
        frame's: its reader skipped ahead (a batch chunk reads the video's start, then seeks to its
        overlap: realtime/batch/chunks.py), so the key starts again at this frame's place, as at
        a first frame. Repeated or broken timestamps never skip ahead: the count goes on."""
        if not self.key_fps or frame.pts is None or self._last_pts is None:
            return False
        return round(frame.pts * self.key_fps) - round(self._last_pts * self.key_fps) > 1

    def __call__(self, picture: np.ndarray, frame: Frame | None = None) -> np.ndarray:
        settings = self._settings()
        # A new array (the label may draw into it); the faces' surroundings are left untouched
        # so that face analysis downstream reads exactly the unmarked face.
        faces = [] if frame is None else [face.box for face in frame.faces]
        if frame is not None and (not self._key_started or self._skipped_ahead(frame)):
            self._key_started = True
            if self.key_fps and frame.pts is not None:
                self.watermarker.seek(max(0, round(frame.pts * self.key_fps)))
        if frame is not None and frame.pts is not None:
            self._last_pts = frame.pts
        marked = self.watermarker.embed(picture, faces=faces)
        # The invisible mark goes on every picture; the visible label on every altered one.
        if settings.output.label and self.altered(frame, settings):
            self._label_for(settings).apply(marked, inplace=True)
        return marked

    # -- files: C2PA manifests -----------------------------------------------------------------
    def track(self, output):
        """Note an output that writes a file, to sign that file when the engine stops; returns
        the output unchanged."""
        from realtime.provenance.c2pa_manifest import MIME_TYPES

        path = getattr(output, "path", None)
        if path is not None and Path(path).suffix.lower() in MIME_TYPES:
            with self._files_lock:
                if all(Path(path) != known for known, _ in self._files):
                    self._files.append((Path(path), output))
        elif path is not None:
            log.info("%s: no C2PA manifest for %s files (the label and the invisible mark are in "
                     "every frame); write .mp4 or .mov for a signed file", Path(path).name,
                     Path(path).suffix or "these")
        return output

    def finish(self) -> list[Path]:
        """Sign every tracked file that exists (once); returns the files signed."""
        from realtime.provenance.c2pa_manifest import sign_recording

        with self._files_lock:
            files, self._files = self._files, []
        label = bool(self._settings().output.label)
        signed = []
        for path, output in files:
            if not getattr(output, "complete", True):
                # A file that was not finished (a full disk, an error while finishing) is not
                # signed: a signature would vouch for a recording that is not what was made.
                log.warning("%s was not finished: it keeps its label and mark but gets no C2PA manifest",
                            path)
                continue
            if path.exists() and sign_recording(path, session=f"{self.session:04x}", label=label):
                log.info("C2PA manifest added to %s", path)
                signed.append(path)
        return signed
