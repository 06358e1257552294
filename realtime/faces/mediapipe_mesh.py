"""Face detector + 478 landmarks: MediaPipe's legacy face mesh, whose models ship inside the
mediapipe 0.10.21 wheel (no download); small, distant faces that the mesh's own detector misses
come from MediaPipe's full-range face detector (realtime/faces/full_range.py)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import Any

import cv2
import numpy as np

from realtime.faces.full_range import SmallFaceFinder
from realtime.faces.pose import head_pose
from realtime.faces.tracking import box_of
from realtime.frame import Face
from realtime.settings import FaceSettings, Settings

# MediaPipe's C++ side logs through glog/absl; keep its INFO chatter out of the user's terminal.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def _native_stderr_silenced():
    """TFLite prints 'Created TensorFlow Lite XNNPACK delegate' straight to fd 2 when a graph
    starts; hide that one line's worth of native output while a graph is created."""
    with _STDERR_LOCK:
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 (some GUI launchers)
            yield
            return
        try:
            with open(os.devnull, "wb") as devnull:
                os.dup2(devnull.fileno(), 2)
                yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_mediapipe():
    """`import mediapipe`, without `sounddevice`.

    mediapipe/__init__.py imports its Tasks audio modules, whose `audio_record.py` imports
    `sounddevice`, whose ctypes.util.find_library("portaudio") runs ldconfig, gcc and ld
    (about a dozen processes per start, leaving files in /tmp). Importing a submodule such as
    `mediapipe.python.solutions.face_mesh` still runs that __init__, so a targeted import does
    not help. A None entry in sys.modules makes `import sounddevice` raise ImportError (Python's
    documented way to block an import), which audio_record.py catches (it then only lacks
    microphone recording, which facecam never uses). The entry is removed again afterwards,
    so anything else may still import the real sounddevice.
    """
    blocked = "sounddevice" not in sys.modules
    if blocked:
        sys.modules["sounddevice"] = None  # type: ignore[assignment]
    try:
        import mediapipe
    finally:
        if blocked and sys.modules.get("sounddevice", False) is None:
            del sys.modules["sounddevice"]
    return mediapipe


# One NormalizedLandmark as its protobuf wire format has it when x, y and z are set and the
# optional visibility and presence are not (the face mesh sets neither): a length-delimited
# record (tag 0x0a, 15 bytes) holding three fixed32 fields (tags 0x0d, 0x15, 0x1d).
_WIRE_LANDMARK = np.dtype([("tag", "u1"), ("size", "u1"), ("x_tag", "u1"), ("x", "<f4"),
                           ("y_tag", "u1"), ("y", "<f4"), ("z_tag", "u1"), ("z", "<f4")])
_WIRE_TAGS = {"tag": 0x0A, "size": 15, "x_tag": 0x0D, "y_tag": 0x15, "z_tag": 0x1D}


def landmark_array(landmark_list) -> np.ndarray:
    """(n, 3) float32 x, y, z of a NormalizedLandmarkList, without a Python loop.

    Reading 478 protobuf messages one attribute at a time costs about 0.5 ms per face on
    these CPUs; the serialized list is fixed-size records that numpy reads in about 0.05 ms.
    Anything else in the records (a field left out, visibility set) takes the plain loop."""
    raw = landmark_list.SerializeToString()
    count = len(raw) // _WIRE_LANDMARK.itemsize
    if count and count * _WIRE_LANDMARK.itemsize == len(raw):
        records = np.frombuffer(raw, _WIRE_LANDMARK)
        if all((records[name] == value).all() for name, value in _WIRE_TAGS.items()):
            landmarks = np.empty((count, 3), np.float32)
            landmarks[:, 0], landmarks[:, 1], landmarks[:, 2] = records["x"], records["y"], records["z"]
            return landmarks
    return np.array([(p.x, p.y, p.z) for p in landmark_list.landmark], dtype=np.float32).reshape(-1, 3)


class MediaPipeFaceMesh:
    """`Detector` over MediaPipe's face mesh.

    static=True treats every picture on its own (photos); static=False tracks between
    frames (video), which is faster and steadier.
    """

    name = "mediapipe"

    def __init__(self, settings: Settings | FaceSettings, static: bool = False) -> None:
        self.static = static
        self._mesh: Any = None
        self._key: tuple | None = None
        self._seen_face = False
        self._small: SmallFaceFinder | None = None
        self._max_faces = 1
        self.configure(settings)

    def configure(self, settings: Settings | FaceSettings) -> None:
        # Every stage implementation takes the whole Settings; the faces group alone still works.
        if isinstance(settings, Settings):
            settings = settings.faces
        key = (settings.max_faces, settings.min_confidence, settings.small_faces)
        if key == self._key:
            return
        mp = import_mediapipe()  # imported here: it takes seconds and is needed only to detect

        self.close()
        with _native_stderr_silenced():
            self._mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=self.static,
                max_num_faces=settings.max_faces,
                refine_landmarks=True,
                min_detection_confidence=settings.min_confidence,
                min_tracking_confidence=settings.min_confidence,
            )
            self._seen_face = False
            # The first graph run initialises the TFLite delegates and logs a warning about
            # non-square pictures once: run it here, with native output hidden.
            self._mesh.process(np.zeros((48, 64, 3), dtype=np.uint8))
            if settings.small_faces:
                self._small = SmallFaceFinder(mp, settings.min_confidence, self.static)
                self._small.warm_up()
        self._max_faces = settings.max_faces
        self._key = key

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in a BGR uint8 picture, landmarks in its pixels."""
        height, width = image.shape[:2]
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        rgb.flags.writeable = False
        if not self._seen_face:
            # MediaPipe logs "Using NORM_RECT without IMAGE_DIMENSIONS..." from C++ the first
            # time a graph projects landmarks (once per graph, photos too), which tells a user
            # nothing. fd 2 is process-wide: silence only until that has happened.
            with _native_stderr_silenced():
                result = self._mesh.process(rgb)
            self._seen_face = bool(result.multi_face_landmarks)
        else:
            result = self._mesh.process(rgb)
        faces: list[Face] = []
        for face_landmarks in result.multi_face_landmarks or ():
            landmarks = landmark_array(face_landmarks)
            landmarks *= np.array([width, height, width], dtype=np.float32)
            faces.append(Face(landmarks=landmarks, box=box_of(landmarks, width, height),
                              pose=head_pose(landmarks)))
        if self._small is not None:
            faces += self._small.find(image, faces, self._max_faces - len(faces))
        return faces

    def close(self) -> None:
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None
            self._key = None
        if self._small is not None:
            self._small.close()
            self._small = None
