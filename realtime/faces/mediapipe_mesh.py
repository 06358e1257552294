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

from realtime.faces.full_range import SmallFaceFinder, overlaps
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


LOOK_EVERY = 3
"""Frames between two looks for a new face (video) while the number of faces changes..."""
CALM_LOOK_EVERY = 15
"""...and once CALM_AFTER looks in a row found nobody new: a person walking in is swapped
within half a second at 30 FPS (a look costs 3.6 ms of CPU on this project's loaded 2-core VM,
benchmarks/results/cpu-parts.md: 0.24 ms a frame when calm)."""
CALM_AFTER = 4
DOWN_AFTER = 15
"""Frames in a row with fewer faces than the mesh graph holds before it holds fewer."""
LOOK_SIDE = 256
"""The new-face look sees the frame with its long side this many pixels: the short-range
detector letterboxes every picture into 128x128 anyway, so a smaller copy finds the same faces
for less copying and converting."""
SETTLE_PASSES = 2
"""Video: a face the graph finds anew (its detector's box) is looked at again on the same frame
this many times more, each pass from the last one's landmarks, as the graph looks at it on every
later frame. The first pass's mesh, fitted in the detector's rougher box, lay 1.8 px (mean, 5.7 px
at most, a 300-px face) off the settled one and took 3-4 frames to settle: the start of every
call and recording, and a face that comes back, was worn with its edge out of place (s12 on d3:
its first frames 25-27 levels lighter than the camera's shaded cheek with a steeper edge,
benchmarks/results/s23-startup)."""


class MediaPipeFaceMesh:
    """`Detector` over MediaPipe's face mesh.

    static=True treats every picture on its own (photos); static=False tracks between
    frames (video), which is faster and steadier.

    Video: MediaPipe's face mesh graph runs its face detector on every frame on which it tracks
    fewer faces than its `max_num_faces`, so with `max_faces` 8 and one person the detector ran
    on every frame (issue 21: about 2-3 ms of a 720p frame on this project's VM, for nothing).
    So the graph in use holds as many faces as are tracked (one graph per capacity, made when
    first needed), and a cheap look for new faces (MediaPipe's short-range face detector, the
    graph's own, on a small copy of the frame) runs every LOOK_EVERY frames, every
    CALM_LOOK_EVERY once the scene is calm; a look that sees a face nobody tracks moves to a graph
    that holds one more, which runs on the same frame (its own detector finds the newcomer). A
    graph holding more faces than it finds for DOWN_AFTER frames gives way to a smaller one.
    """

    name = "mediapipe"

    def __init__(self, settings: Settings | FaceSettings, static: bool = False) -> None:
        self.static = static
        self._mesh: Any = None
        self._key: tuple | None = None
        self._seen_face = False
        self._small: SmallFaceFinder | None = None
        self._max_faces = 1
        self._min_confidence = 0.5
        self._graphs: dict[int, Any] = {}
        """Video: the face mesh graphs made so far, by how many faces they hold."""
        self._used: set[int] = set()
        """Capacities whose graph has run frames since it was last reset."""
        self._capacity = 1
        self._found = 0
        """Video: faces the graph in use found on the last frame (SETTLE_PASSES)."""
        self._looker: Any = None
        self._frame = 0
        self._quiet_looks = 0
        self._short_of = 0
        self._faces_before = 0
        self.looks = 0
        """New-face looks so far (video; the tests and benchmarks read it)."""
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
        self._max_faces = settings.max_faces
        self._min_confidence = settings.min_confidence
        with _native_stderr_silenced():
            if self.static:
                self._mesh = self._new_graph(mp, settings.max_faces)
            else:
                self._capacity = 1
                self._mesh = self._graph(1, silence=False)  # hidden already
                self._frame = self._quiet_looks = self._short_of = self._faces_before = 0
                if settings.max_faces > 1:
                    self._looker = mp.solutions.face_detection.FaceDetection(
                        model_selection=0, min_detection_confidence=settings.min_confidence)
                    self._looker.process(np.zeros((LOOK_SIDE, LOOK_SIDE, 3), dtype=np.uint8))
            self._seen_face = False
            if settings.small_faces:
                self._small = SmallFaceFinder(mp, settings.min_confidence, self.static)
                self._small.warm_up()
        self._key = key

    def _new_graph(self, mp: Any, capacity: int) -> Any:
        graph = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=self.static,
            max_num_faces=capacity,
            refine_landmarks=True,
            min_detection_confidence=self._min_confidence,
            min_tracking_confidence=self._min_confidence,
        )
        # The first graph run initialises the TFLite delegates and logs a warning about
        # non-square pictures once: run it here (callers hide native output).
        graph.process(np.zeros((48, 64, 3), dtype=np.uint8))
        return graph

    def _graph(self, capacity: int, silence: bool = True) -> Any:
        """The video graph that holds `capacity` faces, made or reset (no stale tracks)."""
        graph = self._graphs.get(capacity)
        if graph is None:
            with _native_stderr_silenced() if silence else contextlib.nullcontext():
                graph = self._graphs[capacity] = self._new_graph(import_mediapipe(), capacity)
            self._seen_face = False  # a new graph logs its NORM_RECT line once more
        elif capacity in self._used:
            graph.reset()  # ~1.5 ms: forget where its faces were many frames ago
        self._used.discard(capacity)
        self._found = 0
        return graph

    def _hold(self, capacity: int) -> None:
        if capacity != self._capacity:
            self._capacity = capacity
            self._mesh = self._graph(capacity)

    def _adapt(self, image: np.ndarray, faces: list[Face]) -> bool:
        """Video, max_faces > 1: hold as many faces as are found; look for new ones now and then.
        True when a look saw someone new (the graph now holds more faces)."""
        count = len(faces)
        if count != self._faces_before:
            self._quiet_looks = 0  # someone came or went: look eagerly again
        self._faces_before = count
        self._short_of = self._short_of + 1 if count < self._capacity else 0
        if self._short_of >= DOWN_AFTER:
            self._short_of = 0
            self._hold(max(1, count))
        every = CALM_LOOK_EVERY if self._quiet_looks >= CALM_AFTER else LOOK_EVERY
        # While the graph holds more faces than it finds, its own detector looks on every frame.
        grown = False
        if count >= self._capacity < self._max_faces and self._frame % every == 0:
            new = [box for box in self._look(image) if not overlaps(box, faces)]
            self._quiet_looks += 1
            if new:
                self._hold(min(self._max_faces, count + len(new)))
                grown = True
        self._frame += 1
        return grown

    def _look(self, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Face boxes (frame pixels) MediaPipe's short-range detector sees in a small copy."""
        height, width = image.shape[:2]
        step = max(1, int(max(width, height) // LOOK_SIDE))
        small = cv2.cvtColor(np.ascontiguousarray(image[::step, ::step]), cv2.COLOR_BGR2RGB)
        self.looks += 1
        result = self._looker.process(small)
        boxes = []
        for detection in result.detections or ():
            rel = detection.location_data.relative_bounding_box
            boxes.append((int(rel.xmin * width), int(rel.ymin * height),
                          int((rel.xmin + rel.width) * width), int((rel.ymin + rel.height) * height)))
        return boxes

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in a BGR uint8 picture, landmarks in its pixels."""
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        rgb.flags.writeable = False
        faces = self._mesh_faces(rgb)
        if not self.static and self._looker is not None and self._adapt(image, faces):
            faces = self._mesh_faces(rgb)  # the graph that holds more finds them in this frame
        if self._small is not None:
            faces += self._small.find(image, faces, self._max_faces - len(faces))
        return faces

    def _mesh_faces(self, rgb: np.ndarray) -> list[Face]:
        height, width = rgb.shape[:2]
        if not self._seen_face:
            # MediaPipe logs "Using NORM_RECT without IMAGE_DIMENSIONS..." from C++ the first
            # time a graph projects landmarks (once per graph, photos too), which tells a user
            # nothing. fd 2 is process-wide: silence only until that has happened.
            with _native_stderr_silenced():
                result = self._mesh.process(rgb)
            self._seen_face = bool(result.multi_face_landmarks)
        else:
            result = self._mesh.process(rgb)
        if not self.static:
            self._used.add(self._capacity)
            found = len(result.multi_face_landmarks or ())
            if found > self._found:
                # A face new to the graph: its mesh again from its own landmarks (SETTLE_PASSES).
                for _ in range(SETTLE_PASSES):
                    again = self._mesh.process(rgb)
                    if len(again.multi_face_landmarks or ()) < found:
                        break
                    result = again
            self._found = found
        faces: list[Face] = []
        for face_landmarks in result.multi_face_landmarks or ():
            landmarks = landmark_array(face_landmarks)
            landmarks *= np.array([width, height, width], dtype=np.float32)
            faces.append(Face(landmarks=landmarks, box=box_of(landmarks, width, height),
                              pose=head_pose(landmarks)))
        return faces

    def close(self) -> None:
        if self._mesh is not None and self.static:
            self._mesh.close()
        for graph in self._graphs.values():
            graph.close()
        self._graphs.clear()
        self._used.clear()
        self._mesh = None
        self._key = None
        if self._looker is not None:
            self._looker.close()
            self._looker = None
        if self._small is not None:
            self._small.close()
            self._small = None
