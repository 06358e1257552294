"""Clips of several people, composed from the talking-head videos in ../shared/media, with
where each person is in every frame (the ground truth of benchmarks/face_mapping.py and of the
mapping tests). Built in memory on demand, deterministic (the same pixels every time): no video
is kept in git.

- two:   two people side by side.
- four:  four people in a row.
- cross: two people who walk across each other, the second a little lower, its tile brushing
         the first one's chin.
- behind: the same, closer: the first passes behind the second and is hidden for about 20
         frames at the crossing.
- leave: two people; the one on the right walks out of the frame, stays away two seconds, and
         comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DEFAULT_MEDIA = Path(__file__).resolve().parents[1] / ".." / "shared" / "media"
PEOPLE = ("d9.mp4", "d10.mp4", "d3.mp4", "d14.mp4")
FPS = 30.0
TILE = 176


@dataclass
class Clip:
    name: str
    frames: list[np.ndarray]
    people: tuple[str, ...]
    centres: list[list[tuple[float, float] | None]]
    """centres[i][p]: where person p's face tile is centred in frame i (pixels), None: away."""
    fps: float = FPS

    def person_at(self, index: int, x: float, y: float) -> int | None:
        """The person whose tile centre is nearest (x, y) in frame `index`, within a tile."""
        best, best_d = None, TILE * 0.6
        for person, centre in enumerate(self.centres[index]):
            if centre is None:
                continue
            d = float(np.hypot(centre[0] - x, centre[1] - y))
            if d < best_d:
                best, best_d = person, d
        return best


def _tiles(media: Path, name: str, count: int) -> list[np.ndarray]:
    """`count` square tiles of the video (the centre square, the face in it), looping."""
    path = media / name
    if not path.exists():
        raise FileNotFoundError(path)
    capture = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            if not frames:
                raise FileNotFoundError(f"cannot read {path}")
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            continue
        h, w = frame.shape[:2]
        side = min(h, w)
        y0, x0 = (h - side) // 2, (w - side) // 2
        frames.append(cv2.resize(frame[y0:y0 + side, x0:x0 + side], (TILE, TILE),
                                 interpolation=cv2.INTER_AREA))
    capture.release()
    return frames


def _background(width: int, height: int) -> np.ndarray:
    """A plain grey wall with a soft gradient (no face-like texture)."""
    ramp = np.linspace(70, 110, width, dtype=np.float32)[None, :, None]
    return np.broadcast_to(ramp, (height, width, 3)).astype(np.uint8).copy()


def _paste(canvas: np.ndarray, tile: np.ndarray, cx: float, cy: float) -> None:
    x0, y0 = int(round(cx - TILE / 2)), int(round(cy - TILE / 2))
    h, w = canvas.shape[:2]
    sx0, sy0 = max(0, -x0), max(0, -y0)
    dx0, dy0 = max(0, x0), max(0, y0)
    dx1, dy1 = min(w, x0 + TILE), min(h, y0 + TILE)
    if dx1 <= dx0 or dy1 <= dy0:
        return
    canvas[dy0:dy1, dx0:dx1] = tile[sy0:sy0 + dy1 - dy0, sx0:sx0 + dx1 - dx0]


def _visible(cx: float, width: int) -> bool:
    """A tile counts as present while most of its face is inside the frame."""
    return TILE * 0.3 <= cx <= width - TILE * 0.3


def compose(name: str, media: Path = DEFAULT_MEDIA, frames: int | None = None) -> Clip:
    if name == "two":
        width, height, count, people = 480, 240, frames or 90, PEOPLE[:2]
        paths = [lambda i: (120.0, 120.0), lambda i: (360.0, 120.0)]
    elif name == "four":
        width, height, count, people = 800, 240, frames or 60, PEOPLE
        paths = [lambda i, k=k: (100.0 + 200.0 * k, 120.0) for k in range(4)]
    elif name in ("cross", "behind"):
        width, height, count, people = 640, 360, frames or 150, PEOPLE[:2]
        upper, lower = (110.0, 235.0) if name == "cross" else (140.0, 210.0)
        travel = count - 30  # still for 15 frames at each end

        def along(i: int) -> float:
            return min(max(i - 15, 0), travel) / travel

        paths = [lambda i: (100.0 + 440.0 * along(i), upper),
                 lambda i: (540.0 - 440.0 * along(i), lower)]
    elif name == "leave":
        width, height, count, people = 480, 240, frames or 150, PEOPLE[:2]
        out_x = width + TILE  # well outside

        def right(i: int) -> tuple[float, float]:
            # 20 frames here, 15 walking out, 60 away (2 s), 15 walking back, then here.
            if i < 20:
                x = 360.0
            elif i < 35:
                x = 360.0 + (out_x - 360.0) * (i - 20) / 15
            elif i < 95:
                x = out_x
            elif i < 110:
                x = out_x - (out_x - 360.0) * (i - 95) / 15
            else:
                x = 360.0
            return x, 120.0

        paths = [lambda i: (120.0, 120.0), right]
    else:
        raise ValueError(f"unknown clip {name!r}; known: two, four, cross, behind, leave")
    tiles = [_tiles(media, person, count) for person in people]
    background = _background(width, height)
    out, centres = [], []
    for i in range(count):
        canvas = background.copy()
        where = []
        for person, path in enumerate(paths):
            cx, cy = path(i)
            _paste(canvas, tiles[person][i], cx, cy)
            where.append((cx, cy) if _visible(cx, width) else None)
        out.append(canvas)
        centres.append(where)
    return Clip(name, out, people, centres)


CLIPS = ("two", "four", "cross", "behind", "leave")
