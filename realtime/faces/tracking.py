"""Face tracks across frames: stable ids, One Euro smoothing, and a short hold when a face is
missed so a single failed detection never flashes the real face.

Hold: a face that is not detected keeps its last geometry for `hold_frames` frames (`Face.held`
counts them). After that `lost_face` decides: 'passthrough' forgets it (the real picture shows),
'hold' and 'blur' keep it until a face is found again (the swap stage keeps swapping, or blurs).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace
from functools import cache

import numpy as np

from realtime.faces.one_euro import OneEuroFilter
from realtime.faces.pose import head_pose
from realtime.faces.topology import ALL_POINTS, LID_INNER, UPPER_LIDS, topology
from realtime.frame import Box, Face
from realtime.settings import FaceSettings


def smoothing_parameters(smoothing: float) -> tuple[float, float, float]:
    """(min_cutoff_hz, beta, derivative_cutoff_hz) for a smoothing strength in [0, 1].

    Tuned on synthetic faces with real (irregular) timestamps, 300 px face at about 30 fps
    (tests/test_swap_tracking.py): at 0.5 a still face is filtered at 1 Hz, which leaves about a
    third of MediaPipe-like jitter, and a head moving at two face sizes per second opens the
    cutoff to about 40 Hz, so the face is never more than about 1% of its size behind. The speed
    estimate is itself filtered at 4 Hz (not the paper's usual 1 Hz): it is the median speed of
    478 points, already steady, and a slow speed filter is what makes the onset of a fast turn
    lag (about 2.5% of the face size at 1 Hz).
    """
    min_cutoff = 0.3 + 2.8 * (1.0 - smoothing) ** 2
    beta = 26.0 * (1.0 - 0.5 * smoothing)
    return min_cutoff, beta, 4.0


# Parts of MediaPipe's mesh that move on their own, fast (OneEuroFilter `parts`): each eye's upper
# lid (a blink), the inner lips' upper and lower edges and the mouth's corners (speech, a smile),
# each brow, each iris (a glance). The lids are topology's UPPER_LIDS without their corners; lip
# rings and brows as realtime/animate/motion.py's.
EXPRESSION_PARTS = tuple(np.array(part, dtype=np.int32) for part in (
    *(lid[LID_INNER] for lid in UPPER_LIDS),
    (191, 80, 81, 82, 13, 312, 311, 310, 415), (95, 88, 178, 87, 14, 317, 402, 318, 324),
    (61, 78, 62, 76, 291, 308, 292, 306),
    (70, 63, 105, 66, 107, 55, 65, 52, 53, 46), (300, 293, 334, 296, 336, 285, 295, 282, 283, 276),
    (468, 469, 470, 471, 472), (473, 474, 475, 476, 477)))


BROW_PARTS = EXPRESSION_PARTS[5:7]
"""The right and the left brow (MediaPipe's brow points)."""
EYE_CORNERS = ((33, 133), (263, 362))
"""(outer, inner) corners of the eye under each brow of BROW_PARTS."""
BROW_NOISE = 0.0028
"""Brow height change per frame (face sizes) taken as landmark noise: above the largest that d9's
and d13's still, bespectacled brows show in 60 frames, below d6's raises (0.005-0.02)."""
BROW_GAIN = 4.0
"""The brow region's speed per unit of brow height speed above the noise (the cutoff it opens)."""
BROW_SPAN = 2
"""Frames over which the brow height's change is taken: a one-frame spike of noise cancels."""
BROW_RING_WEIGHTS = (1.0, 1.0, 0.5)
"""Weight of the local speed on the brow points, their mesh neighbours, and the ring beyond."""


@cache
def brow_region() -> np.ndarray:
    """Per point (ALL_POINTS) the weight BROW_RING_WEIGHTS gives its ring of the mesh around the
    brows: the brow points, the points one triangle edge away, two."""
    neighbours: list[set[int]] = [set() for _ in range(ALL_POINTS)]
    for a, b, c in topology().triangles:
        for x, y in ((a, b), (b, c), (a, c)):
            neighbours[int(x)].add(int(y))
            neighbours[int(y)].add(int(x))
    weights = np.zeros(ALL_POINTS, dtype=np.float64)
    seen = {int(i) for part in BROW_PARTS for i in part}
    ring = sorted(seen)
    for level in BROW_RING_WEIGHTS:
        weights[ring] = level
        ring = sorted({j for i in ring for j in neighbours[i]} - seen)
        seen.update(ring)
    weights.setflags(write=False)
    return weights


def brow_heights(landmarks: np.ndarray, scale: float) -> np.ndarray:
    """Each brow's height over its eye (its points' mean above the eye corners' midpoint, along
    the face's vertical: perpendicular to the outer corners' line), in face sizes."""
    right, left = landmarks[EYE_CORNERS[0][0], :2], landmarks[EYE_CORNERS[1][0], :2]
    across = (left - right) / max(float(np.linalg.norm(left - right)), 1e-6)
    down = np.array([-across[1], across[0]])
    return np.array([-float((landmarks[brow, :2].mean(axis=0)
                             - 0.5 * (landmarks[outer, :2] + landmarks[inner, :2])) @ down)
                     for brow, (outer, inner) in zip(BROW_PARTS, EYE_CORNERS, strict=True)]) / max(scale, 1e-6)


class BrowGate:
    """Swap mode's brows (OneEuroFilter's `local`): a still head that raises its brows fast was
    filtered at the still cutoff, and the worn brows followed half of d6's raises (s37-wink). The
    brows' height over the eyes (not their points' speed: on d9, behind glasses, that is mostly
    noise, and opening the face's smoothing with it raised the paintings' jitter), its change over
    BROW_SPAN frames less BROW_NOISE, opens the cutoff of the brows and the mesh around them only."""

    def __init__(self) -> None:
        self.weights = brow_region()
        self._heights: deque[np.ndarray] = deque(maxlen=BROW_SPAN + 1)
        self._speed = 0.0

    def reset(self) -> None:
        self._heights.clear()
        self._speed = 0.0

    def update(self, value: np.ndarray, scale: float, dt_s: float | None,
               derivative_cutoff_hz: float) -> float:
        self._heights.append(brow_heights(value, scale))
        if dt_s is None or len(self._heights) < 2:
            return self._speed
        span = len(self._heights) - 1
        move = float(np.abs(self._heights[-1] - self._heights[0]).max()) / span
        raw = max(0.0, move - BROW_NOISE) * BROW_GAIN / dt_s
        a = 1.0 / (1.0 + 1.0 / (2.0 * math.pi * derivative_cutoff_hz * dt_s))
        self._speed = a * raw + (1.0 - a) * self._speed
        return self._speed


def box_of(landmarks: np.ndarray, width: int, height: int) -> Box:
    x0, y0 = np.floor(landmarks[:, :2].min(axis=0)).astype(int)
    x1, y1 = np.ceil(landmarks[:, :2].max(axis=0)).astype(int) + 1
    return (max(0, int(x0)), max(0, int(y0)), min(width, int(x1)), min(height, int(y1)))


def iou(a: Box, b: Box) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@dataclass
class _Track:
    track_id: int
    face: Face
    filter: OneEuroFilter
    missed: int = 0


class FaceTracker:
    """Match this frame's detections to last frame's tracks; smooth; hold lost faces briefly."""

    def __init__(self, settings: FaceSettings,
                 parameters: tuple[float, float, float] | None = None, expressions: bool = False) -> None:
        """parameters: fixed (min_cutoff_hz, beta, derivative_cutoff_hz) instead of those of
        the smoothing setting (the quality benchmark replays earlier tunings with it).
        expressions: a fast expression (EXPRESSION_PARTS) opens the smoothing too; on for
        animate mode, where the expression is the output. Swap mode keeps the face's speed only:
        there it raised the output's jitter over the input's (s9 on d9: 31 % -> 37 %, d3: 11 -> 14 %,
        60 frames) for a landmark error 1 % lower. Without expressions (swap mode) a BrowGate
        opens the brows' own smoothing on a fast brow raise."""
        self.expressions = expressions
        self._tracks: list[_Track] = []
        self._next_id = 0
        self._fixed_parameters = parameters
        self.configure(settings)

    def _parameters(self) -> tuple[float, float, float]:
        return self._fixed_parameters or smoothing_parameters(self.smoothing)

    def configure(self, settings: FaceSettings) -> None:
        self.smoothing = settings.smoothing
        self.hold_frames = settings.hold_frames
        self.lost_face = settings.lost_face
        min_cutoff, beta, derivative_cutoff = self._parameters()
        for track in self._tracks:
            track.filter.min_cutoff_hz = min_cutoff
            track.filter.beta = beta
            track.filter.derivative_cutoff_hz = derivative_cutoff

    def set_expressions(self, expressions: bool) -> None:
        changed = expressions != self.expressions
        self.expressions = expressions
        for track in self._tracks:
            track.filter.set_parts(self._parts())
            if changed:
                track.filter.local = self._local()

    def _parts(self) -> tuple[np.ndarray, ...]:
        return EXPRESSION_PARTS if self.expressions else ()

    def _local(self) -> BrowGate | None:
        return None if self.expressions else BrowGate()

    def reset(self) -> None:
        self._tracks.clear()

    def update(self, detections: list[Face], time_s: float, width: int, height: int) -> list[Face]:
        unmatched = list(range(len(detections)))
        pairs: list[tuple[float, int, int]] = []
        for t_index, track in enumerate(self._tracks):
            for d_index, face in enumerate(detections):
                overlap = iou(track.face.box, face.box)
                if overlap > 0.2:
                    pairs.append((overlap, t_index, d_index))
        pairs.sort(reverse=True)
        matched_tracks: set[int] = set()
        matches: dict[int, int] = {}
        for _, t_index, d_index in pairs:
            if t_index in matched_tracks or d_index not in unmatched:
                continue
            matched_tracks.add(t_index)
            unmatched.remove(d_index)
            matches[t_index] = d_index

        kept: list[_Track] = []
        for t_index, track in enumerate(self._tracks):
            if t_index in matches:
                track.face = self._smoothed(track, detections[matches[t_index]], time_s, width, height)
                track.missed = 0
                kept.append(track)
            elif track.missed < self.hold_frames or self._keep_lost(unmatched):
                track.missed += 1
                track.face = replace(track.face, held=track.missed)
                kept.append(track)
        parameters = self._parameters()
        for d_index in unmatched:
            track = _Track(self._next_id, detections[d_index], OneEuroFilter(*parameters, parts=self._parts(),
                                                                     local=self._local()))
            self._next_id += 1
            track.face = self._smoothed(track, detections[d_index], time_s, width, height)
            kept.append(track)
        self._tracks = kept
        return [track.face for track in sorted(kept, key=lambda t: t.track_id)]

    def _keep_lost(self, new_detections: list[int]) -> bool:
        """Past hold_frames, 'hold' and 'blur' keep a lost face (its `held` keeps counting, the
        swap stage decides what to draw) until a face is found that is not an existing track:
        most likely the same person, found again."""
        return self.lost_face != "passthrough" and not new_detections

    def _smoothed(self, track: _Track, face: Face, time_s: float, width: int, height: int) -> Face:
        if self.smoothing <= 0:
            landmarks = face.landmarks
        else:
            landmarks = track.filter(face.landmarks, time_s, scale=max(face.size, 1.0))
        return replace(face, landmarks=landmarks, box=box_of(landmarks, width, height),
                       track_id=track.track_id, pose=head_pose(landmarks), held=0)
