"""Shared test helpers: the real media beside the project (skipped when absent), synthetic
sources and stages, and a way to run the CLI in-process."""

from __future__ import annotations

import contextlib
import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from realtime.output.null import NullOutput

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
MEDIA = Path(os.environ.get("FACECAM_MEDIA", ROOT.parent / "shared" / "media"))


def media(name: str) -> Path:
    """A file of ../shared/media; the test is skipped, saying why, when it is not there."""
    path = MEDIA / name
    if not path.exists():
        pytest.skip(f"needs {path} (the shared test media beside the project); not present here")
    return path


@pytest.fixture
def media_path():
    return media


def run_cli(*args: str, timeout: float = 300, env: dict | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `facecam ARGS` as a user would (a separate process, no display), capturing its output."""
    full_env = dict(os.environ)
    full_env.pop("DISPLAY", None)
    full_env.pop("WAYLAND_DISPLAY", None)
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), full_env.get("PYTHONPATH")]))
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "realtime.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd or ROOT, env=full_env)


@pytest.fixture(scope="session")
def d9_frame():
    """Frame 0 of d9.mp4 (a man in glasses) and its face (MediaPipe, as a still)."""
    import av

    from realtime.faces import create_detector
    from realtime.settings import FaceSettings

    with av.open(str(media("d9.mp4"))) as container:
        image = next(container.decode(video=0)).to_ndarray(format="bgr24")
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    faces = detector.detect(image)
    detector.close()
    assert faces
    return image, faces[0]


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    """The run failed as a user should see it: exit 2 and exactly one "facecam: error" line
    (naming `words`), no traceback."""
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.startswith("facecam: error")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    diff = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    if mask is not None:
        diff = diff[mask.astype(bool)]
    mse = float(diff.mean()) if diff.size else 0.0
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


MARK_LEVELS = 6
"""The most facecam's invisible provenance mark (always on) changes a pixel, in 8-bit levels."""


class Collect(NullOutput):
    """An output that keeps every frame it is given."""

    def __init__(self):
        super().__init__()
        self.name = "collect"
        self.kept = []

    def write(self, frame):
        super().write(frame)
        self.kept.append(frame)


def unaltered(picture: np.ndarray, original: np.ndarray) -> bool:
    """The picture is the original but for the invisible provenance mark: no pixel moved by more
    than the mark's amplitude and PSNR >= 40 dB (a swapped face moves pixels by tens of levels)."""
    if picture.shape != original.shape:
        return False
    diff = np.abs(picture.astype(np.int16) - original.astype(np.int16))
    return int(diff.max()) <= MARK_LEVELS and psnr(picture, original) >= 40.0


def read_video(path: Path) -> list[np.ndarray]:
    """Every frame of a video, decoded the way facecam's own video input decodes."""
    import av

    from realtime.capture.video import frame_to_bgr

    with av.open(str(path)) as container:
        return [frame_to_bgr(frame) for frame in container.decode(video=0)]


def through_the_recorder(images: list[np.ndarray], path: Path, crf: int = 18) -> list[np.ndarray]:
    """The pictures as facecam's recorder writes them (H.264 at `crf`, a file's timing), decoded
    again: what a viewer of the written file sees."""
    from realtime.frame import Frame
    from realtime.output import OutputFormat
    from realtime.output.recorder import VideoRecorder

    recorder = VideoRecorder(path, OutputFormat(size=(images[0].shape[1], images[0].shape[0]), fps=25, live=False),
                             crf=crf)
    for number, image in enumerate(images):
        recorder.write(Frame(index=number, image=image, capture_ns=0, pts=number / 25))
    recorder.close()
    return read_video(path)


class ListSource:
    """A Source over pictures in memory."""

    def __init__(self, images: list[np.ndarray], fps: float = 30.0, live: bool = False) -> None:
        from realtime.capture import Captured

        self._captured = Captured
        self.images = images
        self.name = "list"
        self.live = live
        self.fps = fps
        self.size = (images[0].shape[1], images[0].shape[0])
        self.frame_count = len(images)
        self._index = 0
        self.closed = False

    def read(self):
        if self._index >= len(self.images):
            return None
        image = self.images[self._index]
        self._index += 1
        return self._captured(image, pts=(self._index - 1) / self.fps)

    def close(self) -> None:
        self.closed = True


@pytest.fixture(scope="module")
def library():
    """A source-photo library shared by a test module's tests (faces found once per photo)."""
    from realtime.faces.source import SourceLibrary

    library = SourceLibrary()
    yield library
    library.close()


# Setup shared by the whole session (test after test tracked the same clips and detected the same
# frames again): still-picture detectors per settings, each clip's frames with their tracked faces,
# and still-picture detections of single frames.
_STILL_DETECTORS: dict[Any, Any] = {}
_CLIPS: dict[Path, Any] = {}
_STILL_FACES: dict[tuple, list] = {}
_FRAMES: dict[tuple[str, int], np.ndarray] = {}


def still_detector(settings=None):
    """A still-picture (static) MediaPipe detector for `settings` (FaceSettings() when None), one
    per settings for the whole session: a still picture's faces do not depend on the pictures
    detected before it. Callers never close it."""
    from realtime.faces import create_detector
    from realtime.settings import FaceSettings

    settings = FaceSettings() if settings is None else settings
    if settings not in _STILL_DETECTORS:
        _STILL_DETECTORS[settings] = create_detector(settings, static=True)
    return _STILL_DETECTORS[settings]


class _Clip:
    """A video's frames and its faces tracked as the app tracks them (benchmarks/quality_animate
    Tracking), read and tracked once per session and extended as far as a test asks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.frames: list[np.ndarray] = []
        self.tracked: list[list] = []
        self.fps = 30.0
        self.tracking: Any = None

    def first(self, count: int) -> tuple[list[np.ndarray], float, list[list]]:
        from benchmarks.quality_animate import Tracking, read_frames

        if count > len(self.frames):
            frames, self.fps = read_frames(self.path, count)
            if self.tracking is None:
                self.tracking = Tracking(self.fps)
            for image in frames[len(self.frames):]:
                image.flags.writeable = False  # shared by every test that reads the clip
                self.frames.append(image)
                self.tracked.append(self.tracking.add(image))
        return list(self.frames[:count]), self.fps, copy.deepcopy(self.tracked[:count])

    def close(self) -> None:
        if self.tracking is not None:
            self.tracking.close()


def tracked_clip(video: str, count: int) -> tuple[list[np.ndarray], float, list[list]]:
    """The first `count` frames of a video of ../shared/media (read-only: shared), its fps and its
    faces per frame tracked as the app tracks them (video mode, benchmarks/quality_animate.track;
    the caller's own copies): exactly what read_frames and track give for those frames, from one
    tracking run per clip for the whole session."""
    path = media(video)
    if path not in _CLIPS:
        _CLIPS[path] = _Clip(path)
    return _CLIPS[path].first(count)


def frame_of(video: str, index: int) -> np.ndarray:
    """Frame `index` of a video of ../shared/media as PyAV's bgr24 gives it (the caller's copy)."""
    import av

    key = (video, index)
    if key not in _FRAMES:
        with av.open(str(media(video))) as container:
            for number, picture in enumerate(container.decode(video=0)):
                if number == index:
                    _FRAMES[key] = picture.to_ndarray(format="bgr24")
                    break
            else:
                raise AssertionError(f"{video} has no frame {index}")
    return _FRAMES[key].copy()


def detect_one(detector, image: np.ndarray):
    """The largest face `detector` finds in `image` (the test fails when there is none)."""
    faces = detector.detect(image)
    assert faces, "no face found"
    return max(faces, key=lambda face: face.size)


def head_moved(image: np.ndarray, face, degrees: float, scale: float = 1.0, shift: float = 0.0) -> np.ndarray:
    """`image` turned by `degrees` and scaled by `scale` about `face`'s centre and moved right by `shift`
    of its size (a synthetic head move, no expression), the border replicated."""
    import cv2

    centre = face.points.mean(axis=0)
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), degrees, scale)
    matrix[0, 2] += shift * face.size
    return cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE)


def still_faces(video: str, index: int, settings=None) -> list:
    """The faces of frame_of(video, index) found as a still picture by still_detector(settings),
    detected once per session (the caller's copies)."""
    key = (video, index, settings)
    if key not in _STILL_FACES:
        _STILL_FACES[key] = still_detector(settings).detect(frame_of(video, index))
    return copy.deepcopy(_STILL_FACES[key])


def pytest_sessionfinish(session, exitstatus):
    for clip in _CLIPS.values():
        clip.close()
    for detector in _STILL_DETECTORS.values():
        detector.close()


def swapped_picture(library, image: np.ndarray, faces, source: str = "s42.jpg") -> np.ndarray:
    """The real swapper and blend stage (default settings) wearing `source` over `faces` of any
    picture (a frame the test altered, e.g. with grain added or at another size): the output."""
    from realtime.blend.stage import BlendStage

    with _swapped(library, image, faces, source) as (frame, settings):
        return BlendStage(settings).process(frame).output


@contextlib.contextmanager
def _swapped(library, image: np.ndarray, faces, source: str):
    """The real swapper (default settings) wearing `source` over `faces` of `image`: yields the
    frame with its layers drawn (before the blend stage) and the settings; the swapper is closed
    on leaving."""
    from realtime.frame import Frame
    from realtime.settings import Settings
    from realtime.swap.mesh import MeshSwapper

    settings = Settings()
    swapper = MeshSwapper(settings)
    try:
        swapper.set_source(library.get(str(media(source))))
        frame = Frame(index=0, image=image, capture_ns=0, pts=0.0)
        frame.faces = faces
        frame.layers = swapper.swap(frame, faces)
        yield frame, settings
    finally:
        swapper.close()


@pytest.fixture(scope="module")
def swap_one(library):
    """swap_one(target video, frame index, source photo) -> (target picture, face, output): the
    real swapper and blend stage (default settings) on a real frame, its face found as a still
    picture (MediaPipe, one face). With moved=True the target picture and face as the new face is
    drawn over them (moved to the source's proportions by the face-shape transfer, face_shape):
    where the target's own features are. With layer=True a fourth item: the FaceLayer as the
    swapper drew it (before the blend stage, which changes it)."""
    from realtime.blend.stage import BlendStage
    from realtime.settings import FaceSettings

    def swap(video: str, index: int, source: str, moved: bool = False, layer: bool = False):
        image = frame_of(video, index)
        faces = still_faces(video, index, FaceSettings(max_faces=1))
        assert faces
        with _swapped(library, image, faces, source) as (frame, settings):
            under = frame.output.copy() if frame.output is not None else image
            drawn = copy.deepcopy(frame.layers[0]) if layer else None  # the blend stage changes it
            output = BlendStage(settings).process(frame).output
        shot = (under, frame.layers[0].face, output) if moved else (image, faces[0], output)
        return (*shot, drawn) if layer else shot

    return swap


def self_reenactment(video: str, count: int):
    """Self-reenactment on the first `count` frames of a video of ../shared/media: its faces tracked
    as the app tracks them (video mode, benchmarks/quality_animate.track) and a mesh animator whose
    portrait is the video's own frame 0 (the driver's frame i is what the portrait should show).
    Returns (frames, fps, tracked faces per frame, the portrait's face, animator)."""
    from realtime.animate.mesh import MeshAnimator
    from realtime.faces.source import SourceFace
    from realtime.settings import Settings

    frames, fps, tracked = tracked_clip(video, count)
    source_face = max(still_detector().detect(frames[0]), key=lambda f: f.size)
    animator = MeshAnimator(Settings(mode="animate"))
    animator.set_source(SourceFace(path=f"{video}#0", image=frames[0], face=source_face, faces=(source_face,)))
    return frames, fps, tracked, source_face, animator


def driven(frames, fps, tracked, animator):
    """Drives `animator` (from self_reenactment) through frames 1.. as the app does: yields
    (index, the tracked faces, the animated picture) per frame."""
    from realtime.frame import Frame

    for index in range(1, len(frames)):
        faces = tracked[index]
        yield index, faces, animator.animate(Frame(index=index, image=frames[index], capture_ns=0,
                                                   pts=index / fps, faces=faces), faces)


def against_the_frozen_frame(frames, fps, tracked, animator) -> dict[str, tuple[float, float]]:
    """Drives `animator` (from self_reenactment) through frames 1.. and scores each animated frame
    and the frozen frame 0 against the real frame over the face crop (benchmarks/quality_animate):
    {"psnr": (animated, frozen), "ssim": (animated, frozen)}, means over the frames."""
    from benchmarks.quality_animate import crop, crop_box, picture_scores

    animated, frozen = [], []
    for index, faces, output in driven(frames, fps, tracked, animator):
        assert faces
        box = crop_box(max(faces, key=lambda f: f.size), frames[index])
        truth = crop(frames[index], box)
        animated.append(picture_scores(crop(output, box), truth))
        frozen.append(picture_scores(crop(frames[0], box), truth))
    return {key: (float(np.mean([s[key] for s in animated])), float(np.mean([s[key] for s in frozen])))
            for key in ("psnr", "ssim")}
