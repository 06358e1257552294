"""The portrait's warp mesh: the face mesh, its holes closed, and rings of points around the face
out to the picture's border, so hair, neck and background move with the head as one piece while
the frame's edge stays where it is.

Points, in order: the 478 landmarks, one point in the middle of the mouth, the rings, the border.
Triangles: MediaPipe's face tessellation, fans that close the eyes (around the iris centre) and
the mouth (around its middle point), and a Delaunay triangulation of everything outside the face
oval, made once on the portrait.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay

from realtime.faces.topology import ALL_POINTS, LEFT_IRIS_CENTRE, RIGHT_IRIS_CENTRE, topology

# Rings around the face, as multiples of the face oval's size around its centre. The head's motion
# (the face oval's similarity) is carried outwards as one smooth field: each ring follows a share
# of it that falls off smoothly (no ring where the motion stops short: that drew a hard curved edge
# around the head on a turn or a lean). The shift falls off more slowly than the rotation and
# scale: a lean carries the neck, collar and shoulders along, a turn of the head does not turn the
# body (a rotation carried far out shears the collar).
RING_SCALES = (1.15, 1.35, 1.6, 1.9, 2.25, 2.7, 3.3)
# The face oval's own motion beyond its similarity (a turn widens the near cheek and narrows the far
# one; an open jaw moves the chin) is carried onto the nearest rings too, fading out: the
# silhouette then never folds over the background beside it (a fold is drawn as a jagged notch).
RING_OWN = (1.0, 0.6, 0.25, 0.0, 0.0, 0.0, 0.0)
SHIFT_FALLOFF = (1.2, 3.3)  # ring scale where the shift's share starts falling, and where it is 0
TURN_FALLOFF = (1.2, 2.3)  # the same for the rotation and scale
# A head turns and nods about the neck, not about its face: on a turn the face swings sideways while
# the hair outline beside it (near the rotation's axis) barely moves. The face oval's shift is made of
# that swing plus the head's own translation (a lean, a step); the surroundings take the swing only
# near the face (fading out by SWING_FALLOFF) and the translation by their SHIFT_FALLOFF share.
# The pivot sits PIVOT_BACK face widths behind the oval's centre and PIVOT_DOWN face heights below it.
# (d3, a 3-12 degree turn: the fitted shift reached 49 px and slid the hair outline against the wall
# while the real outline held still.)
PIVOT_BACK = 0.6
PIVOT_DOWN = 0.5
SWING_FALLOFF = (1.0, 1.6)
# A nod's swing counts at half (measured, self-reenactment PSNR: the full nod cost d13, a close face
# that nods, 0.3 dB and left it below the frozen frame; none cost d10 0.5 dB; half is the best of
# both and of d3's turns).
PITCH_SHARE = 0.5
# The surroundings move under a pixel less than the field says (each ring point's share of the head's
# similarity motion shortened by RING_LAG px, none below it; the oval's own motion beyond it, a
# chin that drops, is carried whole): the driver's tracked head carries 1-2 px of error (d6: the
# tracked nose 1-2 px above the pixels' own motion while she widens her eyes), and the rings drew it
# on the picture's sharpest edge, the hair outline against the wall; the far rings' last fraction of
# a pixel re-sampled the background. Self-reenactment, 30 frames, PSNR / SSIM, main -> 0.75 px: d6
# 29.07 / 0.898 -> 29.39 / 0.906 (the frozen frame 0.904), d10 26.41 / 0.833 -> 26.49 / 0.836, d3
# 20.11 -> 20.20, d9 29.87 / 0.906 -> 29.88 / 0.906. 1 px did a little more on d6 but cost s9 driven
# by d6 0.02 of its motion gain (MediaPipe reads the head outline too); 0.5 px left d6 at 0.904.
RING_LAG = 0.75
BORDER_STEPS = 6
BORDER_FADE = 0.12  # of the picture's short side: ring points this near the border move less
MOUTH_CENTRE = ALL_POINTS  # index of the extra point in the middle of the mouth


@dataclass(frozen=True)
class PortraitMesh:
    points: np.ndarray
    """(P, 2) the portrait's mesh points in its pixels."""
    triangles: np.ndarray
    """(T, 3) int32."""
    ring_slices: tuple[slice, ...]
    """Where each ring's points sit in `points`."""
    border: slice
    mouth_triangles: np.ndarray
    """(20, 3) the fan that closes the mouth (to map the driver's mouth interior)."""
    follow: np.ndarray
    """(P, 2) how much of the face's (shift, rotation and scale) each point outside the face
    follows: its ring's shares, fading to nothing near the border so the picture's edge stays put."""
    centre: np.ndarray
    """(2,) the face oval's centre in the portrait (the rotation and scale act around it)."""
    oval_source: np.ndarray
    """(P,) for a ring point, the face-oval landmark it was made from (-1 for other points)."""
    own: np.ndarray
    """(P,) how much of that oval point's own (non-similarity) motion a ring point follows."""
    depth: np.ndarray | None = None
    """(478,) the portrait's landmark depths (MediaPipe's z, in pixels), when known."""
    swing: np.ndarray | None = None
    """(P,) how much of the head's swing about the neck (a turn or a nod) each point follows."""


def _fan(loop: np.ndarray, centre: int) -> np.ndarray:
    return np.array([(int(loop[i]), int(loop[(i + 1) % len(loop)]), centre) for i in range(len(loop))],
                    dtype=np.int32)


def _inside(polygon: np.ndarray, point: np.ndarray) -> bool:
    return cv2.pointPolygonTest(polygon.astype(np.float32), (float(point[0]), float(point[1])), False) > 0


def build_mesh(landmarks: np.ndarray, width: int, height: int) -> PortraitMesh:
    """The warp mesh of a portrait whose face has `landmarks` (478, >=2), in a width x height picture."""
    top = topology()
    face = landmarks[:, :2].astype(np.float64)
    mouth_centre = face[top.inner_mouth].mean(axis=0)
    oval = face[top.face_oval]
    centre = oval.mean(axis=0)
    margin = 0.01 * max(width, height)
    points = [face, mouth_centre[None]]
    count = ALL_POINTS + 1
    ring_slices = []
    sources = [np.full(ALL_POINTS + 1, -1)]
    for scale in RING_SCALES:
        ring = centre + scale * (oval - centre)
        source = np.asarray(top.face_oval)
        # Points beyond the picture are dropped (the border takes their place); a ring keeps
        # fewer points as it grows so its triangles stay well shaped.
        step = 4 if scale > 2.0 else 2 if scale > 1.3 else 1
        ring, source = ring[::step], source[::step]
        keep = (ring[:, 0] > margin) & (ring[:, 0] < width - 1 - margin) & \
            (ring[:, 1] > margin) & (ring[:, 1] < height - 1 - margin)
        ring, source = ring[keep], source[keep]
        points.append(ring)
        sources.append(source)
        ring_slices.append(slice(count, count + len(ring)))
        count += len(ring)
    steps = np.linspace(0.0, 1.0, BORDER_STEPS + 1)[:-1]
    w, h = width - 1.0, height - 1.0
    border = np.concatenate([
        np.stack([steps * w, np.zeros_like(steps)], axis=1),
        np.stack([np.full_like(steps, w), steps * h], axis=1),
        np.stack([w - steps * w, np.full_like(steps, h)], axis=1),
        np.stack([np.zeros_like(steps), h - steps * h], axis=1),
    ])
    points.append(border)
    sources.append(np.full(len(border), -1))
    border_slice = slice(count, count + len(border))
    all_points = np.concatenate(points).astype(np.float32)

    # Outside the face: Delaunay over the oval, the rings and the border; keep what lies outside
    # the oval (inside it is the face mesh's business).
    outer_ids = np.concatenate([top.face_oval, np.arange(ALL_POINTS + 1, len(all_points))])
    delaunay = Delaunay(all_points[outer_ids].astype(np.float64))
    outer = outer_ids[delaunay.simplices]
    centroids = all_points[outer].mean(axis=1)
    oval_polygon = all_points[top.face_oval]
    outer = np.array([t for t, c in zip(outer, centroids, strict=True) if not _inside(oval_polygon, c)],
                     dtype=np.int32).reshape(-1, 3)

    follow = np.zeros((len(all_points), 2), dtype=np.float32)
    own = np.zeros(len(all_points), dtype=np.float32)
    swing = np.zeros(len(all_points), dtype=np.float32)
    fade = BORDER_FADE * min(width, height)
    for ring, scale, own_share in zip(ring_slices, RING_SCALES, RING_OWN, strict=True):
        ring_points = all_points[ring]
        to_border = np.minimum.reduce([ring_points[:, 0], ring_points[:, 1],
                                       width - 1 - ring_points[:, 0], height - 1 - ring_points[:, 1]])
        near_border = _smooth(to_border / fade)
        follow[ring, 0] = near_border * (1.0 - _smooth((scale - SHIFT_FALLOFF[0]) / (SHIFT_FALLOFF[1] - SHIFT_FALLOFF[0])))
        follow[ring, 1] = near_border * (1.0 - _smooth((scale - TURN_FALLOFF[0]) / (TURN_FALLOFF[1] - TURN_FALLOFF[0])))
        own[ring] = near_border * own_share
        swing[ring] = near_border * (1.0 - _smooth((scale - SWING_FALLOFF[0]) / (SWING_FALLOFF[1] - SWING_FALLOFF[0])))

    mouth = _fan(top.inner_mouth, MOUTH_CENTRE)
    eyes = [_fan(top.right_eye, RIGHT_IRIS_CENTRE), _fan(top.left_eye, LEFT_IRIS_CENTRE)]
    triangles = np.concatenate([outer, top.triangles, *eyes, mouth]).astype(np.int32)
    return PortraitMesh(points=all_points, triangles=triangles, ring_slices=tuple(ring_slices),
                        border=border_slice, mouth_triangles=mouth, follow=follow,
                        centre=centre.astype(np.float32), oval_source=np.concatenate(sources).astype(np.int32),
                        own=own, depth=landmarks[:, 2].astype(np.float64) if landmarks.shape[1] > 2 else None,
                        swing=swing)


def _smooth(x: np.ndarray | float) -> np.ndarray:
    """Smooth step 0 -> 1 over x in [0, 1] (zero slope at both ends: no crease where it starts)."""
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def fit_similarity_2d(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(2, 3) least-squares similarity taking source (N, 2) onto target (N, 2) (closed form:
    deterministic, unlike OpenCV's robust estimators)."""
    return _fit_similarity_2d(_centred(source), target)


def _centred(source: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """`fit_similarity_2d`'s source side: (centre, centred points, their variance), float64."""
    source = source.astype(np.float64)
    source_centre = source.mean(axis=0)
    a = source - source_centre
    return source_centre, a, float((a ** 2).sum())


def _fit_similarity_2d(centred: tuple[np.ndarray, np.ndarray, float], target: np.ndarray) -> np.ndarray:
    """`fit_similarity_2d` from its source side measured once (`_centred`: a portrait's fixed points)."""
    source_centre, a, variance = centred
    target = target.astype(np.float64)
    target_centre = target.mean(axis=0)
    b = target - target_centre
    if variance < 1e-9:
        return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]) + \
            np.column_stack((np.zeros((2, 2)), target_centre - source_centre))
    # In complex numbers, the similarity is z -> c * z: c = sum(conj(a) b) / sum(|a|^2).
    dot = float((a * b).sum())
    cross = float((a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum())
    re, im = dot / variance, cross / variance
    linear = np.array([[re, -im], [im, re]])
    offset = target_centre - linear @ source_centre
    # (np.column_stack: np.c_'s columns, without its index-trick parsing, 10-20 us a call.)
    return np.column_stack((linear, offset))


class _Fixed:
    """What `moved_points` and `head_swing` read of a portrait's mesh every frame that never changes (its rings,
    the face oval's points and their frame), measured on the first frame and kept on the mesh (`_fixed`): the same
    arrays, the same numbers."""

    def __init__(self, mesh: PortraitMesh) -> None:
        top = topology()
        self.oval = np.asarray(top.face_oval)
        self.oval_centred = _centred(mesh.points[top.face_oval])
        self.rings = slice(mesh.ring_slices[0].start, mesh.border.start)
        self.original = mesh.points[self.rings].astype(np.float64)
        self.centre = mesh.centre.astype(np.float64)
        self.follow = mesh.follow[self.rings]
        self.ring_swing = None if mesh.swing is None else mesh.swing[self.rings, None]
        self.source = mesh.oval_source[self.rings]
        self.oval_before = mesh.points[self.source].astype(np.float64)
        self.own = mesh.own[self.rings, None]
        self.swing_frame: tuple[np.ndarray, np.ndarray, np.ndarray, float] | None = None
        if mesh.depth is not None:
            before = np.column_stack((mesh.points[self.oval].astype(np.float64), mesh.depth[self.oval]))
            centre = before.mean(axis=0)
            width = float(np.ptp(before[:, 0]))
            height = float(np.ptp(before[:, 1]))
            arm = np.array([0.0, -PIVOT_DOWN * height, -PIVOT_BACK * width])  # centre - pivot
            # (before - before.mean(axis=0): `_rotation_3d`'s centred source, the same array as before - centre.)
            centred = before - centre
            self.swing_frame = (centred, arm, centre, max(float(np.linalg.norm(centred)), 1e-9))


def _fixed(mesh: PortraitMesh) -> _Fixed:
    fixed = mesh.__dict__.get("_fixed")
    if fixed is None:
        fixed = _Fixed(mesh)
        object.__setattr__(mesh, "_fixed", fixed)  # a frozen dataclass: kept beside its fields
    return fixed


def moved_points(mesh: PortraitMesh, face: np.ndarray) -> np.ndarray:
    """All mesh points for the face's new landmarks `face` (478, >=2): the rings follow the face
    oval's similarity motion by their share, RING_LAG px less, the border stays."""
    top = topology()
    fixed = _fixed(mesh)
    points = mesh.points.copy()
    points[:ALL_POINTS] = face[:, :2]
    points[MOUTH_CENTRE] = face[top.inner_mouth, :2].mean(axis=0)
    motion = _fit_similarity_2d(fixed.oval_centred, face[top.face_oval, :2])
    rings = fixed.rings
    original = fixed.original
    centre = fixed.centre
    # Around the oval's centre: its shift, then its rotation and scale, each by its own share.
    shift = motion[:, :2] @ centre + motion[:, 2] - centre
    swing = head_swing(mesh, face)
    turn = (original - centre) @ (motion[:, :2] - np.eye(2)).T
    follow = fixed.follow
    points[rings] = original + follow[:, :1] * (shift - swing) + follow[:, 1:] * turn
    if fixed.ring_swing is not None:
        points[rings] += fixed.ring_swing * swing
    moved = points[rings] - original
    length = np.linalg.norm(moved, axis=1, keepdims=True)
    points[rings] = original + moved * np.maximum(0.0, 1.0 - RING_LAG / np.maximum(length, 1e-9))
    # ... plus a fading share of the nearest oval point's own motion beyond the similarity.
    beyond = face[fixed.source, :2] - (fixed.oval_before @ motion[:, :2].T + motion[:, 2])
    points[rings] += fixed.own * beyond
    return points


def _rotation_3d(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(3, 3) the least-squares rotation taking source (N, 3) onto target (N, 3) about their
    centroids (Kabsch; scale left out)."""
    return _rotation_3d_centred(source - source.mean(axis=0), target)


def _rotation_3d_centred(a: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`_rotation_3d` from its source already centred (`a`)."""
    b = target - target.mean(axis=0)
    u, _, vt = np.linalg.svd(a.T @ b)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    return vt.T @ np.diag([1.0, 1.0, d]) @ u.T


def head_swing(mesh: PortraitMesh, face: np.ndarray) -> np.ndarray:
    """(2,) the part of the face oval's shift that comes from the head turning and nodding about
    the neck (out of plane: the roll stays with the similarity's rotation)."""
    if mesh.depth is None or face.shape[1] < 3:
        return np.zeros(2)
    fixed = _fixed(mesh)
    assert fixed.swing_frame is not None
    centred, arm, _centre, spread = fixed.swing_frame  # the oval before: centred, its arm to the pivot, its spread
    after = face[fixed.oval, :3].astype(np.float64)
    rotation = _rotation_3d_centred(centred, after)
    # Out of plane only: the rotation vector's component about the view axis removed.
    vector, _ = cv2.Rodrigues(rotation)
    vector[2] = 0.0
    vector[0] *= PITCH_SHARE
    out_of_plane, _ = cv2.Rodrigues(vector)
    scale = float(np.linalg.norm(after - after.mean(axis=0)) / spread)
    return scale * ((out_of_plane - np.eye(3)) @ arm)[:2]
