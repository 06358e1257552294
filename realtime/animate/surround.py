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

# Rings around the face, as multiples of the face oval's size around its centre, and how much of
# the head's motion each follows: the first carries the hair and ears with the head; the last is
# still, so the background further out never moves.
RING_SCALES = (1.3, 1.75, 2.5)
RING_FOLLOW = (1.0, 0.55, 0.0)
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
    ring_follow: tuple[float, ...]
    border: slice
    mouth_triangles: np.ndarray
    """(20, 3) the fan that closes the mouth (to map the driver's mouth interior)."""
    follow: np.ndarray
    """(P,) how much of the face's motion each point outside the face follows: its ring's share,
    fading to nothing near the border so the picture's edge stays put."""


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
    for scale in RING_SCALES:
        ring = centre + scale * (oval - centre)
        # Points beyond the picture are dropped (the border takes their place); a ring keeps
        # fewer points as it grows so its triangles stay well shaped.
        ring = ring[::2] if scale > 1.5 else ring
        keep = (ring[:, 0] > margin) & (ring[:, 0] < width - 1 - margin) & \
            (ring[:, 1] > margin) & (ring[:, 1] < height - 1 - margin)
        ring = ring[keep]
        points.append(ring)
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

    follow = np.zeros(len(all_points), dtype=np.float32)
    fade = BORDER_FADE * min(width, height)
    for ring, share in zip(ring_slices, RING_FOLLOW, strict=True):
        ring_points = all_points[ring]
        to_border = np.minimum.reduce([ring_points[:, 0], ring_points[:, 1],
                                       width - 1 - ring_points[:, 0], height - 1 - ring_points[:, 1]])
        follow[ring] = share * np.clip(to_border / fade, 0.0, 1.0)

    mouth = _fan(top.inner_mouth, MOUTH_CENTRE)
    eyes = [_fan(top.right_eye, RIGHT_IRIS_CENTRE), _fan(top.left_eye, LEFT_IRIS_CENTRE)]
    triangles = np.concatenate([outer, top.triangles, *eyes, mouth]).astype(np.int32)
    return PortraitMesh(points=all_points, triangles=triangles, ring_slices=tuple(ring_slices),
                        ring_follow=RING_FOLLOW, border=border_slice, mouth_triangles=mouth,
                        follow=follow)


def fit_similarity_2d(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(2, 3) least-squares similarity taking source (N, 2) onto target (N, 2) (closed form:
    deterministic, unlike OpenCV's robust estimators)."""
    source = source.astype(np.float64)
    target = target.astype(np.float64)
    source_centre = source.mean(axis=0)
    target_centre = target.mean(axis=0)
    a = source - source_centre
    b = target - target_centre
    variance = float((a ** 2).sum())
    if variance < 1e-9:
        return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]) + np.c_[np.zeros((2, 2)), target_centre - source_centre]
    # In complex numbers, the similarity is z -> c * z: c = sum(conj(a) b) / sum(|a|^2).
    dot = float((a * b).sum())
    cross = float((a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum())
    re, im = dot / variance, cross / variance
    linear = np.array([[re, -im], [im, re]])
    offset = target_centre - linear @ source_centre
    return np.c_[linear, offset]


def moved_points(mesh: PortraitMesh, face: np.ndarray) -> np.ndarray:
    """All mesh points for the face's new landmarks `face` (478, >=2): the rings follow the face
    oval's similarity motion by their share, the border stays."""
    top = topology()
    points = mesh.points.copy()
    points[:ALL_POINTS] = face[:, :2]
    points[MOUTH_CENTRE] = face[top.inner_mouth, :2].mean(axis=0)
    motion = fit_similarity_2d(mesh.points[top.face_oval], face[top.face_oval, :2])
    rings = slice(mesh.ring_slices[0].start, mesh.border.start)
    original = mesh.points[rings]
    moved = original @ motion[:, :2].T + motion[:, 2]
    points[rings] = original + mesh.follow[rings, None] * (moved - original)
    return points
