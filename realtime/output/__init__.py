"""Outputs: where finished frames go — a preview window, a virtual camera, a video file, nowhere.

Every output has the same small form (`Output`); `open_outputs` builds them from the `outputs`
setting: 'window', 'vcam', 'overlay', 'null', or a file path (video by its suffix, or a picture).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from realtime.errors import OutputError
from realtime.frame import Frame

VIDEO_SUFFIXES = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v"}
PICTURE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}
DEFAULT_HEADLESS_OUTPUT = Path("out") / "facecam-demo.mp4"
DEFAULT_HEADLESS_PICTURE = Path("out") / "facecam-demo.png"
"""The default output of a run with no display whose input is one picture."""


@dataclass(frozen=True)
class OutputFormat:
    """What the outputs are told about the stream before the first frame."""

    size: tuple[int, int]
    fps: float
    live: bool
    source_path: str | None = None
    """The input file, when there is one (a recorder copies its audio)."""
    frame_count: int | None = None
    """Frames the input holds (1 for a picture), None when unknown or endless."""
    inputs: tuple[str, ...] = ()
    """Every file the run reads (input video, source photo): an output must not be one of them."""


class Output(Protocol):
    name: str
    live: bool
    """True when it shows frames as they happen (window, virtual camera): the pipeline runs live."""

    def write(self, frame: Frame) -> None:
        """Show or store frame.result."""

    def close(self) -> None: ...


def display_available() -> bool:
    if sys.platform.startswith("linux"):
        if os.environ.get("WAYLAND_DISPLAY"):
            return True
        display = os.environ.get("DISPLAY", "")
        if display.startswith(":"):  # a local X server has its socket here
            number = display[1:].split(".")[0]
            return Path(f"/tmp/.X11-unix/X{number}").exists()
        return bool(display)
    return True


def resolve_outputs(specs: tuple[str, ...], still: bool = False) -> list[str]:
    """Replace 'auto' by a window when a display exists, else the default video file (a picture
    file when the input is one picture: `still`)."""
    default = DEFAULT_HEADLESS_PICTURE if still else DEFAULT_HEADLESS_OUTPUT
    resolved: list[str] = []
    for spec in specs:
        if spec == "auto":
            resolved.append("window" if display_available() else str(default))
        else:
            resolved.append(spec)
    return resolved


def output_is_live(spec: str) -> bool:
    return spec in ("window", "vcam", "overlay")


def open_output(spec: str, stream: OutputFormat, **options) -> Output:
    if spec == "null":
        from realtime.output.null import NullOutput

        return NullOutput()
    if spec == "window":
        if not display_available():
            raise OutputError("no display for a preview window (DISPLAY is not set or its X server "
                              "is gone): write a file (-o out.mp4) or use the virtual camera (-o vcam)")
        from realtime.output.window import WindowOutput

        return WindowOutput(title=options.get("title", "facecam"), stats=options.get("stats"))
    if spec == "vcam":
        from realtime.output.virtualcam import VirtualCameraOutput

        return VirtualCameraOutput(stream, options.get("settings"))
    if spec == "overlay":
        from realtime.output.overlay import OverlayOutput

        return OverlayOutput(stream, options.get("settings"))
    path = Path(spec).expanduser()
    suffix = path.suffix.lower()
    # A name facecam chose, or one this engine already wrote, never replaces a file.
    fresh = path in (DEFAULT_HEADLESS_OUTPUT, DEFAULT_HEADLESS_PICTURE) or \
        path.resolve() in {Path(p).resolve() for p in options.get("written", ())}
    settings = options.get("settings")
    if suffix in VIDEO_SUFFIXES:
        from realtime.output.recorder import VideoRecorder

        crf = settings.output.crf if settings is not None else 18
        return VideoRecorder(path, stream, crf=crf, fresh=fresh)
    if suffix in PICTURE_SUFFIXES:
        from realtime.output.picture import PictureOutput

        return PictureOutput(path, stream, fresh=fresh)
    raise OutputError(f"unknown output {spec!r}: use window, vcam, overlay, null, or a file ending in "
                      f"{', '.join(sorted(VIDEO_SUFFIXES | PICTURE_SUFFIXES))}")
