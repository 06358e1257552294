"""Warnings for runs that will do less than the user probably expects.

Each is one line, said once at start (or at the end, for what only the run can tell): a setting
that has no effect in the chosen mode or on this input, a source photo too small or without
colour, a device that runs nothing, no face in any frame. Nothing here stops a run.
"""

from __future__ import annotations

import contextlib
import logging

import numpy as np

from realtime.settings import AnimateSettings, BlendSettings, CaptureSettings, Settings, SwapSettings

log = logging.getLogger("facecam")

TINY_SIDE = 64
"""A source photo whose short side is below this gives a face of a few pixels: blurry."""

_SWAP_ONLY = {"mouth_mask": ("blend", BlendSettings), "faces": ("swap", SwapSettings),
              "swapper": ("swap", SwapSettings)}
_ANIMATE_ONLY = {"side_by_side": ("animate", AnimateSettings), "portrait_size": ("animate", AnimateSettings),
                 "motion_strength": ("animate", AnimateSettings), "moving_parts": ("animate", AnimateSettings),
                 "motion_mode": ("animate", AnimateSettings), "mouth_interior": ("animate", AnimateSettings),
                 "animator": ("animate", AnimateSettings)}


def _changed(settings: Settings, group: str, name: str, defaults: type) -> bool:
    return getattr(getattr(settings, group), name) != getattr(defaults(), name)


def inert_settings(settings: Settings, source) -> list[str]:
    """Settings changed from their defaults that do nothing in this mode or on this input."""
    lines: list[str] = []
    mode = settings.mode
    if mode != "swap":
        names = [n for n, (g, d) in _SWAP_ONLY.items() if _changed(settings, g, n, d)]
        if names:
            lines.append(f"{', '.join(names)} only apply in swap mode; this run is {mode}")
    if mode != "animate":
        names = [n for n, (g, d) in _ANIMATE_ONLY.items() if _changed(settings, g, n, d)]
        if names:
            lines.append(f"{', '.join(names)} only apply in animate mode; this run is {mode}")
    if mode == "swap" and settings.swap.faces != "all" and settings.faces.max_faces == 1:
        lines.append(f"faces {settings.swap.faces} chooses among the faces found, and max_faces 1 "
                     "looks for one: raise --max-faces (default 8) to choose among everyone in view")
    if settings.capture.fps is not None and getattr(source, "path", None) is not None \
            and source.frame_count != 1 and settings.capture.fps != CaptureSettings().fps:
        lines.append(f"fps applies to cameras; {source.name} keeps its own rate ({source.fps:g} FPS)")
    device = settings.inference.device
    if device in ("cuda", "tensorrt"):
        neural = (mode == "swap" and settings.swap.swapper != "mesh") or \
            (mode == "animate" and settings.animate.animator != "mesh")
        if not neural:
            lines.append(f"device {device} applies to neural models (--swapper inswapper, --animator "
                         "liveportrait); this run's mesh engine runs on the CPU")
    return lines


def picture_warnings(image: np.ndarray, what: str, colour: bool = True) -> list[str]:
    """A picture too small to give a sharp face, or (colour=True) one without colour."""
    lines = []
    height, width = image.shape[:2]
    if min(width, height) < TINY_SIDE:
        lines.append(f"{what} is only {width}x{height}: the face will be blurry (use a photo with "
                     f"a face of 200 px or more)")
    if colour and image.ndim == 3 and image.shape[2] >= 3:
        sample = image[:: max(1, height // 64), :: max(1, width // 64), :3].astype(np.int16)
        if int(np.abs(sample[..., 0] - sample[..., 1]).max()) <= 2 and \
                int(np.abs(sample[..., 1] - sample[..., 2]).max()) <= 2:
            lines.append(f"{what} is greyscale: the new face will be grey on a colour picture")
    return lines


def at_start(settings: Settings, source) -> list[str]:
    """Every warning that can be given before the first frame."""
    lines = inert_settings(settings, source)
    if settings.mode != "passthrough" and settings.source is not None:
        from realtime.capture.image import read_picture

        with contextlib.suppress(Exception):  # its loader reports a bad photo properly
            # A grey photo swapped takes the target's skin colour, and the swap stage says so
            # (realtime/faces/source.py source_warnings); an animated grey portrait stays grey.
            lines += picture_warnings(read_picture(settings.source, what="source photo"),
                                      f"the source photo {settings.source}", colour=settings.mode == "animate")
    width, height = getattr(source, "size", (0, 0))
    if 0 < min(width, height) < TINY_SIDE:
        lines.append(f"the input is only {width}x{height}: faces in it are too small to find")
    return lines


FACE_HINT = "a face must face the camera and be at least about 30 px wide at 720p"


def at_end(settings: Settings, frames_out: int, frames_with_faces: int) -> list[str]:
    """What only the whole run can tell.

    No face in any frame is a warning, not an error (the exit status stays 0): the video is
    written, and a clip in which nobody faces the camera is a valid input to a batch of files;
    the summary and --json (frames_with_faces) say it too."""
    if settings.mode != "passthrough" and frames_out > 0 and frames_with_faces == 0:
        return [f"no face was found in any of the {frames_out} frames: the output is the input "
                f"(with the label and mark); {FACE_HINT}"]
    return []


NO_FACE_AFTER_S = 2.0
"""Seconds without a face before the run says so."""


class FaceWatch:
    """Says once when no face has been found for `after_s` seconds (of the input's own time),
    and once when a face is found again: a run that silently stops swapping looks broken."""

    def __init__(self, after_s: float = NO_FACE_AFTER_S) -> None:
        self.after_s = after_s
        self.missing = False
        self._since: float | None = None

    def update(self, found: bool, time_s: float, mode: str = "swap") -> str | None:
        """A line to say (or None) for a frame at `time_s` in which a face was `found` or not."""
        if found:
            self._since = time_s
            if self.missing:
                self.missing = False
                return "a face is found again"
            return None
        if self._since is None or time_s < self._since:  # the first frame, or a looped file
            self._since = time_s
        if not self.missing and time_s - self._since >= self.after_s:
            self.missing = True
            effect = "the portrait holds still" if mode == "animate" else "the output shows the input unchanged"
            return f"no face found for {self.after_s:g} s: {effect} ({FACE_HINT})"
        return None
