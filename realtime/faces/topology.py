"""The face mesh's fixed topology: triangles and named regions, derived once from MediaPipe's
connection sets.

MediaPipe publishes the tessellation as a set of edges. The triangles are the 3-cliques of that
edge graph, less the separating triangles: on a triangulated surface an edge borders at most two
faces, so a 3-clique whose three edges each border three cliques is not a face (the canonical mesh
has two, beside the nose). The test checks the count, 852, and that no edge borders more than two
triangles.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

import numpy as np

MESH_POINTS = 468
"""Points of the tessellated surface; 468..477 are the iris points (not in any triangle)."""
ALL_POINTS = 478

# Five key points in the ArcFace order: left eye, right eye (as seen in the picture: the
# person's right eye first), nose tip, left and right mouth corners.
RIGHT_EYE_CENTRE_POINTS = (33, 133, 159, 145)
LEFT_EYE_CENTRE_POINTS = (263, 362, 386, 374)
NOSE_TIP = 1
MOUTH_RIGHT_CORNER = 61
MOUTH_LEFT_CORNER = 291
RIGHT_IRIS_CENTRE = 468
LEFT_IRIS_CENTRE = 473
FOREHEAD_TOP = 10
CHIN_BOTTOM = 152

# The lids of each eye along MediaPipe's eye contour (FACEMESH_RIGHT_EYE / _LEFT_EYE), corner to
# corner: the outer corner first, the inner corner last; the person's right eye first, then the left.
# The one table of the lids: every user reads it from here.
UPPER_LIDS = ((33, 246, 161, 160, 159, 158, 157, 173, 133), (263, 466, 388, 387, 386, 385, 384, 398, 362))
LOWER_LIDS = ((33, 7, 163, 144, 145, 153, 154, 155, 133), (263, 249, 390, 373, 374, 380, 381, 382, 362))
LID_INNER = slice(1, -1)
"""A lid's points between its corners, outer to inner (7 a lid): `UPPER_LIDS[eye][LID_INNER]`."""


def _connections_module() -> ModuleType:
    """MediaPipe's face_mesh_connections module, loaded without importing all of mediapipe
    (which takes seconds): it is plain data."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "python" / "solutions" / \
            "face_mesh_connections.py"
        if path.exists():
            module_spec = importlib.util.spec_from_file_location("_facecam_face_mesh_connections", path)
            if module_spec is not None and module_spec.loader is not None:
                module = importlib.util.module_from_spec(module_spec)
                module_spec.loader.exec_module(module)
                return module
    from mediapipe.python.solutions import face_mesh_connections  # pragma: no cover

    return face_mesh_connections  # pragma: no cover


def _edges(connections: frozenset[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(min(a, b), max(a, b)) for a, b in connections]


def _triangles_from_edges(edges: list[tuple[int, int]]) -> np.ndarray:
    neighbours: dict[int, set[int]] = {}
    for a, b in edges:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    triangles = set()
    for a, b in edges:
        for c in neighbours[a] & neighbours[b]:
            triangles.add(tuple(sorted((a, b, c))))
    uses: dict[tuple[int, int], int] = {}
    for a, b, c in triangles:
        for edge in ((a, b), (a, c), (b, c)):
            uses[edge] = uses.get(edge, 0) + 1
    faces = [t for t in triangles
             if not all(uses[edge] > 2 for edge in ((t[0], t[1]), (t[0], t[2]), (t[1], t[2])))]
    return np.array(sorted(faces), dtype=np.int32)


def _loop(edges: list[tuple[int, int]]) -> list[int]:
    """Order the edges of one closed contour into a vertex loop."""
    neighbours: dict[int, list[int]] = {}
    for a, b in edges:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    start = min(neighbours)
    loop = [start]
    previous, current = None, start
    while True:
        following = [n for n in neighbours[current] if n != previous]
        if not following:
            break
        previous, current = current, following[0]
        if current == start:
            break
        loop.append(current)
    return loop


def _split_loops(edges: list[tuple[int, int]]) -> list[list[int]]:
    """Several closed contours sharing an edge set (lips: outer and inner) -> one loop each."""
    remaining = set(edges)
    loops = []
    while remaining:
        seed = next(iter(remaining))
        component = {seed}
        frontier = [seed]
        while frontier:
            a, b = frontier.pop()
            for edge in list(remaining):
                if edge not in component and (a in edge or b in edge):
                    component.add(edge)
                    frontier.append(edge)
        remaining -= component
        loops.append(_loop(sorted(component)))
    return loops


class Topology:
    """Triangles and ordered region loops of the MediaPipe face mesh (all index arrays)."""

    def __init__(self) -> None:
        module = _connections_module()
        self.triangles = _triangles_from_edges(_edges(module.FACEMESH_TESSELATION))
        self.face_oval = np.array(_loop(_edges(module.FACEMESH_FACE_OVAL)), dtype=np.int32)
        lips = sorted(_split_loops(_edges(module.FACEMESH_LIPS)), key=len)
        # The inner loop of the lips has 20 points, the outer 20 as well: tell them apart by
        # which one contains the upper-lip inner point 13.
        inner = next(loop for loop in lips if 13 in loop)
        outer = next(loop for loop in lips if loop is not inner)
        self.inner_mouth = np.array(inner, dtype=np.int32)
        self.outer_lips = np.array(outer, dtype=np.int32)
        self.right_eye = np.array(_loop(_edges(module.FACEMESH_RIGHT_EYE)), dtype=np.int32)
        self.left_eye = np.array(_loop(_edges(module.FACEMESH_LEFT_EYE)), dtype=np.int32)
        self.right_eyebrow = np.array(sorted({i for e in module.FACEMESH_RIGHT_EYEBROW for i in e}),
                                      dtype=np.int32)
        self.left_eyebrow = np.array(sorted({i for e in module.FACEMESH_LEFT_EYEBROW for i in e}),
                                     dtype=np.int32)
        self.right_iris = np.array(_loop(_edges(module.FACEMESH_RIGHT_IRIS)), dtype=np.int32)
        self.left_iris = np.array(_loop(_edges(module.FACEMESH_LEFT_IRIS)), dtype=np.int32)
        for array in vars(self).values():
            array.setflags(write=False)

    @property
    def holes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Regions the tessellation leaves open: inner mouth, right eye, left eye."""
        return self.inner_mouth, self.right_eye, self.left_eye


@cache
def topology() -> Topology:
    """The shared, read-only topology (computed once per process; a constant, not state)."""
    return Topology()


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """(5, 2) key points in ArcFace order from 478 landmarks: the eye in the picture's left
    half first (the person's right eye), then the other eye, nose tip, mouth corners."""
    points = landmarks[:, :2]
    right_eye = points[list(RIGHT_EYE_CENTRE_POINTS)].mean(axis=0)
    left_eye = points[list(LEFT_EYE_CENTRE_POINTS)].mean(axis=0)
    if landmarks.shape[0] > LEFT_IRIS_CENTRE:
        right_eye = points[RIGHT_IRIS_CENTRE]
        left_eye = points[LEFT_IRIS_CENTRE]
    return np.stack([right_eye, left_eye, points[NOSE_TIP], points[MOUTH_RIGHT_CORNER],
                     points[MOUTH_LEFT_CORNER]]).astype(np.float32)
