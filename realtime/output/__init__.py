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


@dataclass(frozen=True)
class OutputFormat:
    """What the outputs are told about the stream before the first frame."""

    size: tuple[int, int]
    fps: float
    live: bool
    source_path: str | None = None
    """The input file, when there is one (a recorder copies its audio)."""


class Output(Protocol):
    name: str
    live: bool
    """True when it shows frames as they happen (window, virtual camera): the pipeline runs live."""

    def write(self, frame: Frame) -> None:
        """Show or store frame.result."""

    def close(self) -> None: ...


def display_available() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def resolve_outputs(specs: tuple[str, ...]) -> list[str]:
    """Replace 'auto' by a window when a display exists, else the default video file."""
    resolved: list[str] = []
    for spec in specs:
        if spec == "auto":
            resolved.append("window" if display_available() else str(DEFAULT_HEADLESS_OUTPUT))
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
    if suffix in VIDEO_SUFFIXES:
        from realtime.output.recorder import VideoRecorder

        return VideoRecorder(path, stream)
    if suffix in PICTURE_SUFFIXES:
        from realtime.output.picture import PictureOutput

        return PictureOutput(path)
    raise OutputError(f"unknown output {spec!r}: use window, vcam, overlay, null, or a file ending in "
                      f"{', '.join(sorted(VIDEO_SUFFIXES | PICTURE_SUFFIXES))}")


def prepare_path(path: Path) -> Path:
    """Create the parent folder and check the file can be written; OutputError otherwise."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create folder {path.parent}: {error.strerror or error}") from None
    if path.is_dir():
        raise OutputError(f"output {path} is a folder, not a file")
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    if not existed:
        path.unlink(missing_ok=True)
    return path
