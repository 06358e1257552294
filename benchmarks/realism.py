"""Realism metrics of a swap, read off written files the way an outside judge reads them.

Every function here compares two decoded frames of the same input: the swap's output and a
passthrough run of the same input written the same way (same output stage: mark, label setting,
H.264 encoder). Each run carries facecam's invisible mark with its own random session id. The mark
(issue 20) is nothing at all on the faces and the square around them (1.3x the face), at most
+-1 level on flat areas and follows the picture's texture elsewhere, and it reuses its change over
frames: it is not a pattern that can be regenerated from the session id any more, and it does not
need to be, since every realism metric looks at the face and its immediate surroundings, where no
mark is. `unmark` is therefore the identity (kept so the readers stay one call); two passthrough
runs differ by the encoder's noise and, away from the faces, by the two marks.

Definitions (also in the README, "How real it looks"):
- seam: the largest straight step in D = grey(output) - grey(passthrough): across a horizontal or
  vertical line at least a quarter of the face wide, with one side unaltered (mean |D| <= QUIET
  over the SIDE pixels next to the line, and flat beyond them, FLAT: not the zero crossing of a
  ramp between two altered sides), the jump of D from the STEP_ROWS pixels on the quiet
  side to the STEP_ROWS pixels on the other, which must also hold over the SIDE pixels after
  those (the smaller of the two counts) and along the whole line (its weakest eighth counts).
  A feathered mask edge rises from 0 gradually and scores about twice its slope per pixel; a cut
  across the layer box scores the full jump. Lines along the target's own strong edges (over
  OWN_EDGE, on the line or within the step's span beyond it) are left out. Grey levels, per frame;
  two passthrough runs score 0.8-1.6.
- sharpness match: high-frequency energy (the picture minus its Gaussian blur, sigma 1 px, squared)
  inside the face oval over the same in the ring just outside it; output ratio / target ratio.
  1 = the face is as sharp, relative to the hair and background around it, as the target's own.
- glasses kept: Canny edges of the target inside the eye ring (around both eyes, eyebrows left
  out) that the output still has within 2 px; fraction.
- hand kept: pixels of a composited hand (opaque, 2 px in from its edge) whose colour in the output
  is within HAND_TOLERANCE levels (every channel) of the passthrough's; fraction.
- source leak: the output with a modified source (a hand on the cheek, an open mouth) on the same
  target as the clean source. The hand: where the same modified source worn as it is (no clean
  texture) differs from the clean source's output, is the output nearer that worn picture than
  the clean one (`leak_toward`, a fraction of those pixels; a frame leaks above LEAK_TOWARD). The
  open mouth: the output's measured inner-lip gap exceeds the target's by more than MOUTH_EXCESS.
  `leak_score` (mean |difference| inside the region minus the same over the rest of the face) is
  information only: it also counts a fill that is merely lighter than the clean photo's cheek.
- background: PSNR outside the face (its hull enlarged 1.25x) against the passthrough; the floor is
  the same between two passthrough runs (two encodes of two marks): within BACKGROUND_MARGIN_DB
  of it counts as unchanged.
"""

from __future__ import annotations

import cv2
import numpy as np

QUIET = 2.5
"""Mean |D| (grey levels) up to which a side of a step counts as unaltered: twice-encoded
footage differs by ~0.8 on average, up to ~2 on hair and texture."""
SIDE = 4
"""Pixels on the unaltered side over which it must be quiet."""
FLAT = 0.4
"""... and it is flat there: from those SIDE pixels to the SIDE pixels beyond them its D (mean)
moves by at most this fraction of the step's (D's mean over the SIDE pixels after the jump,
against the quiet side's next to the line; both along the whole line). An unaltered side may sit a
level or two off as a whole and drift by a level or two: s9 on d9, the lit side of the nose's
ridge (+2.5 over 12 px) next to the painting's shaded nose plane (a fall of 18 levels within
8 px), drifts by 0.09-0.26 of the step on its 22 written frames over 3. The middle of a shade
ramp that crosses zero between two altered sides goes on at about the step's own slope: s42 on
d14 beside the nose (D -26 .. +13 over 24 px, quiet over the 4 px of the crossing only, +7 in
the next 4) drifts by 0.52-0.65 on its 3 frames over 3; a straight ramp by 0.8. That is not a
side left unaltered. 0.4: midway (benchmarks/results/s30-seam)."""
STEP_ROWS = 2
"""Pixels averaged on each side right next to the line to measure the jump."""
OWN_EDGE = 12.0
"""Grey levels: a line along which the target itself steps by more than this is not searched: from
the quiet side's STEP_ROWS next to the line to the STEP_ROWS after it, or to the SIDE rows after
those where the step must stay (a soft edge, d10's hair or brow, that begins a pixel or two past the
line: the output's face beside it is lighter than the camera's and D rises with the target's edge,
but the output has no step of its own there, benchmarks/results/s32-seam)."""
MIN_LENGTH_OF_FACE = 0.25
"""A seam is at least this fraction of the face's width long."""
PARTS = 8
"""The step must hold in each eighth of the line (the weakest eighth counts): it is as long as the line."""
SEAM_GOAL = 3.0
SEARCH_SCALE = 1.45
"""Seams are searched in the face's extent times this, about its centre."""
HF_SIGMA = 1.0
HAND_TOLERANCE = 8
"""Levels (per channel) within which a hand pixel counts as unchanged: twice-encoded hand texture
differs by ~2-4 levels at most once the marks are taken out."""
LEAK_LEVELS = 4.0
"""Information only (see leak_toward): the mean grey-level difference above the rest of the face
that the first leak metric called a leak; it scored a clean fill 5-17 levels and a visibly worn
hand 2-5 (tests/test_swap_look.py)."""
LEAK_TOWARD = 0.5
"""A frame leaks the source's hand when, over the pixels where wearing that source as it is would
show the hand, the output is nearer that picture than the clean source's output at more than this
fraction of them (the clean source's own output scores 0, the worn one 1)."""
MOUTH_EXCESS = 0.10
"""Inner-lip gap of the output over the target's (fraction of the eye distance) from which the
output's mouth counts as open where the target's is not (MediaPipe, measured on the output)."""
BACKGROUND_MARGIN_DB = 1.0
"""The background may be this much below the floor (a second passthrough run) and still count as
unchanged."""


# -- the mark ------------------------------------------------------------------------------------
def file_session(path) -> int | None:
    """The session id of facecam's mark in a written file (None when it cannot be read)."""
    from realtime.provenance.verify import verify_file

    verdict = verify_file(path)
    return int(verdict.session, 16) if verdict.session else None


def unmark(image: np.ndarray, session: int | None) -> np.ndarray:
    """float32 BGR picture. The mark leaves the faces' surroundings untouched (see the module's
    docstring), so nothing is taken out; `session` is accepted for the readers' sake."""
    return image.astype(np.float32)


def grey(image: np.ndarray) -> np.ndarray:
    """Luminance as float32 (BT.601 weights, the ones the mark is a pure change of)."""
    image = image.astype(np.float32)
    if image.ndim == 2:
        return image
    return image[:, :, 0] * 0.114 + image[:, :, 1] * 0.587 + image[:, :, 2] * 0.299


# -- regions -------------------------------------------------------------------------------------
def face_width(landmarks: np.ndarray) -> float:
    points = landmarks[:468, :2]
    return float(points[:, 0].max() - points[:, 0].min())


def inter_ocular(landmarks: np.ndarray) -> float:
    return float(np.linalg.norm(landmarks[33, :2] - landmarks[263, :2]))


def _polygon_mask(shape, polygons) -> np.ndarray:
    mask = np.zeros(shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(p).astype(np.int32) for p in polygons], 1)
    return mask.astype(bool)


def oval_mask(landmarks: np.ndarray, shape, scale: float = 1.0) -> np.ndarray:
    """Inside the face oval, scaled about its centre."""
    from realtime.faces.topology import topology

    oval = landmarks[topology().face_oval, :2].astype(np.float64)
    centre = oval.mean(axis=0)
    return _polygon_mask(shape, [(oval - centre) * scale + centre])


def face_and_ring(landmarks: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray]:
    """(inside the face, away from its edge; the ring just outside it): the oval shrunk to 85%
    and the band between the oval enlarged 1.12x and 1.35x."""
    inner = oval_mask(landmarks, shape, 0.85)
    ring = oval_mask(landmarks, shape, 1.35) & ~oval_mask(landmarks, shape, 1.12)
    return inner, ring


def eye_ring_mask(landmarks: np.ndarray, shape) -> np.ndarray:
    """Where glasses frames sit: an ellipse around each eye (half-axes 0.55 x 0.38 of the
    inter-ocular distance, along the eye line) and the bridge between them, without the eyes
    themselves (their outline enlarged 1.3x) and without the eyebrows."""
    from realtime.faces.topology import topology

    top = topology()
    iod = inter_ocular(landmarks)
    axis = landmarks[263, :2] - landmarks[33, :2]
    angle = float(np.degrees(np.arctan2(axis[1], axis[0])))
    ring = np.zeros(shape[:2], dtype=np.uint8)
    inner = []
    for eye in (top.right_eye, top.left_eye):
        points = landmarks[eye, :2].astype(np.float64)
        centre = points.mean(axis=0)
        cv2.ellipse(ring, (int(round(centre[0])), int(round(centre[1]))),
                    (int(round(0.55 * iod)), int(round(0.38 * iod))), angle, 0, 360, 1, -1)
        inner.append((points - centre) * 1.3 + centre)
    ring = ring.astype(bool) & ~_polygon_mask(shape, inner)
    brows = np.zeros(shape[:2], dtype=np.uint8)
    thickness = max(1, int(round(0.10 * iod)))
    for brow in (top.right_eyebrow, top.left_eyebrow):
        points = landmarks[brow, :2]
        order = np.argsort(points[:, 0])
        cv2.polylines(brows, [np.round(points[order]).astype(np.int32)], False, 1, thickness)
    return ring & ~brows.astype(bool)


def crop_box(landmarks: np.ndarray, shape, scale: float = 1.7) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 around the face, `scale` times its extent (the layer box lies inside)."""
    points = landmarks[:468, :2]
    centre = (points.max(axis=0) + points.min(axis=0)) / 2
    half = (points.max(axis=0) - points.min(axis=0)) * scale / 2
    height, width = shape[:2]
    x0, y0 = np.floor(np.maximum(centre - half, 0)).astype(int)
    x1, y1 = np.ceil(np.minimum(centre + half, (width, height))).astype(int)
    return int(x0), int(y0), int(x1), int(y1)


# -- seam ----------------------------------------------------------------------------------------
def _window_mean(values: np.ndarray, length: int) -> np.ndarray:
    """Means over every window of `length` along axis 1 (rows x (W - length + 1))."""
    cumulative = np.cumsum(np.pad(values, ((0, 0), (1, 0))), axis=1, dtype=np.float32)
    return (cumulative[:, length:] - cumulative[:, :-length]) / length


def _held_along(values: np.ndarray, length: int) -> np.ndarray:
    """Per window of `length` along axis 1: the mean over its weakest PARTS-th when all the parts
    have the same sign (signed), else 0: a straight step holds along the whole line, while two
    encodes differ by a level or two block by block (16-pixel blocks, each its own)."""
    part = max(1, length // PARTS)
    means = _window_mean(values, part)
    count = values.shape[1] - part * PARTS + 1
    first = means[:, :count]
    weakest = np.abs(first)
    same = np.ones(first.shape, dtype=bool)
    for k in range(1, PARTS):
        other = means[:, k * part:k * part + count]
        np.minimum(weakest, np.abs(other), out=weakest)
        same &= (other > 0) == (first > 0)
    return np.where(same, weakest * np.sign(first), 0.0)


def _bands(values: np.ndarray):
    """band(start, rows, n): means over `rows` rows from row start+i, for i in 0..n-1."""
    cumulative = np.cumsum(np.pad(values, ((1, 0), (0, 0))), axis=0, dtype=np.float32)

    def band(start: int, rows: int, n: int) -> np.ndarray:
        return (cumulative[start + rows:start + rows + n] - cumulative[start:start + n]) / rows
    return band


def _row_steps(diff: np.ndarray, length: int, picture: np.ndarray | None = None) -> tuple[float, int, int, int, int]:
    """Largest straight step across a horizontal line (between rows y and y+1): (levels, y, x0,
    quiet, sign): `quiet` 0 when the unaltered side is above the line (rows < y+1), 1 when below;
    `sign` +1 when the altered side's D is higher than the quiet side's (the output lighter there
    than the target, relative to the quiet side), -1 when lower, 0 when nothing was found.

    One side of the line must be unaltered (mean |D| <= QUIET over the SIDE rows next to it, and
    D moving from them to the SIDE rows beyond by at most FLAT of the step's `stay`: not the zero
    crossing of a ramp); on
    the other side D must jump at once (the STEP_ROWS rows next to the line, against the quiet
    side's STEP_ROWS rows next to it, so that a ramp scores about twice its slope per pixel and a
    step its full height) and stay there (the SIDE rows after those): the step is the smaller of
    the two, 0 when their signs differ. The jump alone would also rise along every strong edge of
    the picture, where two encodes place the edge a fraction of a pixel apart (D is then a thin
    ridge, not a step). Lines along which the target `picture` itself steps by more than
    OWN_EDGE (a hairline, the edge of a wall) are left out: two encodes of such an edge differ
    along it, and a step there hides in the picture's own edge. The target's step is read over the
    step's whole span (to the near rows and to the far rows), so an edge that begins a pixel or two
    past the line counts too."""
    height, width = diff.shape
    reach = max(STEP_ROWS + SIDE, 2 * SIDE)
    if height < 2 * reach + 2 or width < length:
        return 0.0, -1, -1, -1, 0
    window = length // PARTS * PARTS
    y0 = reach - 1
    n = height - 2 * reach          # lines y0 .. y0 + n - 1
    signed, absolute = _bands(diff), _bands(np.abs(diff))
    own = _bands(picture) if picture is not None else None
    best = (0.0, -1, -1, -1, 0)
    # (quiet rows start, level rows start, near rows start, far rows start, start of the SIDE rows
    # beyond the quiet ones), relative to y0: altered below the line (quiet above), then altered
    # above it (quiet below).
    layouts = ((1 - SIDE, 1 - STEP_ROWS, 1, 1 + STEP_ROWS, 1 - 2 * SIDE),
               (1, 1, 1 - STEP_ROWS, 1 - STEP_ROWS - SIDE, 1 + SIDE))
    for side, (quiet_at, level_at, near_at, far_at, beyond_at) in enumerate(layouts):
        level = signed(y0 + level_at, STEP_ROWS, n)
        quiet = _window_mean(absolute(y0 + quiet_at, SIDE, n), window)
        jump = _held_along(signed(y0 + near_at, STEP_ROWS, n) - level, length)
        away = signed(y0 + far_at, SIDE, n) - level
        stay = _held_along(away, length)
        # How far the quiet side moves beyond its SIDE rows, as a fraction of the step (FLAT).
        drift = np.abs(_window_mean(signed(y0 + beyond_at, SIDE, n) - signed(y0 + quiet_at, SIDE, n), window))
        drift = drift / np.maximum(np.abs(_window_mean(away, window)), 1e-3)
        step = np.where(jump * stay > 0, np.minimum(np.abs(jump), np.abs(stay)), 0.0)
        unaltered = (quiet[:, :step.shape[1]] <= QUIET) & (drift[:, :step.shape[1]] <= FLAT)
        step = np.where(unaltered, step, 0.0)
        if own is not None:
            # The target's own step over the step's whole span: from the quiet side's STEP_ROWS
            # next to the line to the near rows (an edge on the line) and to the far rows where
            # the step must stay (an edge that begins a pixel or two past the line: the soft edge
            # of d10's hair or brow, which the output does not have, s32-seam).
            base = own(y0 + level_at, STEP_ROWS, n)
            edge = np.maximum(np.abs(_window_mean(own(y0 + near_at, STEP_ROWS, n) - base, window)),
                              np.abs(_window_mean(own(y0 + far_at, SIDE, n) - base, window)))
            step = np.where(edge[:, :step.shape[1]] <= OWN_EDGE, step, 0.0)
        index = int(np.argmax(step))
        if step.flat[index] > best[0]:
            row, x0 = divmod(index, step.shape[1])
            best = (float(step.flat[index]), int(y0 + row), int(x0), side, int(np.sign(jump.flat[index])))
    return best


def seam(diff: np.ndarray, face_size: float, picture: np.ndarray | None = None) -> dict:
    """The largest straight step (see the module docstring) in a difference picture `diff`
    (output - target, grey levels, float), for a face `face_size` pixels wide: levels and where.
    `picture`: the target's grey levels (lines along its own strong edges are left out).
    Where: the line between pixel rows (columns) `line` and `line` + 1, from `start` over `length`
    pixels; `quiet`: the unaltered side ("above" / "below", "left" / "right"); `sign`: +1 when
    the output steps lighter than the target across the line into the altered side, -1 darker."""
    length = max(8, int(round(MIN_LENGTH_OF_FACE * face_size)))
    horizontal = _row_steps(diff, length, picture)
    vertical = _row_steps(np.ascontiguousarray(diff.T), length,
                          None if picture is None else np.ascontiguousarray(picture.T))
    if horizontal[0] >= vertical[0]:
        levels, y, x0, side, sign = horizontal
        return {"levels": levels, "orientation": "horizontal", "line": y, "start": x0, "length": length,
                "quiet": ("above", "below", "none")[side], "sign": sign}
    levels, x, y0, side, sign = vertical
    return {"levels": levels, "orientation": "vertical", "line": x, "start": y0, "length": length,
            "quiet": ("left", "right", "none")[side], "sign": sign}


def frame_seam(output: np.ndarray, target: np.ndarray, landmarks: np.ndarray) -> dict:
    """Seam of one frame (unmarked float BGR pictures), searched around the target's face (1.45x
    its extent: the layer box is the face's box and a margin)."""
    x0, y0, x1, y1 = crop_box(landmarks, target.shape, SEARCH_SCALE)
    picture = grey(target[y0:y1, x0:x1])
    found = seam(grey(output[y0:y1, x0:x1]) - picture, face_width(landmarks), picture)
    if found["orientation"] == "horizontal":
        found["line"] += y0
        found["start"] += x0
    else:
        found["line"] += x0
        found["start"] += y0
    return found


# -- seams inside the face, along its outline --------------------------------------------------
INNER_DEPTH = 0.3
"""How far inside the face oval (fraction of the face's width) `inner_seam` looks."""


def _oval_strip(values: list[np.ndarray], landmarks: np.ndarray, depth: int) -> list[np.ndarray]:
    """Each picture in `values` (grey float32) resampled along the face oval: row r is the
    curve r pixels inside the oval (the oval moved inwards along its normals), one column per
    pixel of the oval's length. A curve parallel to the outline is then a row."""
    from realtime.faces.topology import topology

    oval = landmarks[topology().face_oval, :2].astype(np.float64)
    closed = np.vstack([oval, oval[:1]])
    steps = np.linalg.norm(np.diff(closed, axis=0), axis=1)
    along = np.concatenate([[0.0], np.cumsum(steps)])
    count = max(8, int(along[-1]))
    at = np.linspace(0.0, along[-1], count, endpoint=False)
    points = np.stack([np.interp(at, along, closed[:, k]) for k in (0, 1)], axis=1)
    # The inward normal, from the tangent over a few pixels (the oval's points are 5-20 px apart).
    tangent = np.roll(points, -3, axis=0) - np.roll(points, 3, axis=0)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
    if np.mean(np.einsum("ij,ij->i", normal, oval.mean(axis=0) - points)) < 0:
        normal = -normal
    rows = np.arange(depth, dtype=np.float64)[:, None, None]
    grid = (points[None] + rows * normal[None]).astype(np.float32)
    return [cv2.remap(value, grid[..., 0], grid[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            for value in values]


def inner_seam(output: np.ndarray, target: np.ndarray, landmarks: np.ndarray) -> dict:
    """The largest step (grey levels) along a curve parallel to the face's outline inside the
    face, one side unaltered: `seam`'s measure (the same quiet side, jump, stay and own-edge
    rules, held along MIN_LENGTH_OF_FACE of the face's width) on the difference resampled
    along the oval (`_oval_strip`). `seam` searches straight lines; a zone left to the target
    inside the mask's band (a shaded side of the face taken for hair) ends in a curve that
    follows the outline: s12 -> d20, a darker band down one side of the face with a hard edge
    from the eye to the jaw. output, target: unmarked float pictures; landmarks: the target's.
    Returns levels, the depth of that curve inside the oval (pixels) and where it starts along it."""
    width = face_width(landmarks)
    depth = max(2 * max(STEP_ROWS + SIDE, 2 * SIDE) + 3, int(INNER_DEPTH * width))
    picture = grey(target)
    diff, own = _oval_strip([grey(output) - picture, picture], landmarks, depth)
    length = max(8, int(round(MIN_LENGTH_OF_FACE * width)))
    # The strip is a closed loop: its start repeated at its end, so a step across the start counts.
    wrap = min(length, diff.shape[1])
    diff = np.concatenate([diff, diff[:, :wrap]], axis=1)
    own = np.concatenate([own, own[:, :wrap]], axis=1)
    levels, row, start, _, _ = _row_steps(diff, length, own)
    return {"levels": levels, "depth": row, "start": start, "length": length}


# -- sharpness -----------------------------------------------------------------------------------
def high_frequency(image: np.ndarray) -> np.ndarray:
    luminance = grey(image)
    return (luminance - cv2.GaussianBlur(luminance, (0, 0), HF_SIGMA)) ** 2


def sharpness_ratio(image: np.ndarray, landmarks: np.ndarray) -> float:
    """High-frequency energy inside the face over the ring just outside it."""
    inner, ring = face_and_ring(landmarks, image.shape)
    energy = high_frequency(image)
    if not inner.any() or not ring.any():
        return float("nan")
    return float(energy[inner].mean()) / max(float(energy[ring].mean()), 1e-6)


def _around_face(output: np.ndarray, target: np.ndarray, landmarks: np.ndarray, scale: float = 1.6):
    """The two pictures cropped around the face (the ring and the eyes lie inside), landmarks moved
    along: a 720p frame costs a tenth of the time."""
    x0, y0, x1, y1 = crop_box(landmarks, target.shape, scale)
    moved = landmarks.copy()
    moved[:, 0] -= x0
    moved[:, 1] -= y0
    return output[y0:y1, x0:x1], target[y0:y1, x0:x1], moved


def sharpness_match(output: np.ndarray, target: np.ndarray, landmarks: np.ndarray) -> float:
    """Output's face/ring ratio over the target's (1 = as sharp as the camera's own face)."""
    output, target, landmarks = _around_face(output, target, landmarks)
    return sharpness_ratio(output, landmarks) / max(sharpness_ratio(target, landmarks), 1e-6)


# -- skin tone -----------------------------------------------------------------------------------
SHEEN_WIDTH = 0.11
"""Face widths: the structuring element's diameter of skin_tone's sheen (0.08 of a face box's diagonal)."""
TONE_BLUR = 0.04
"""Face widths: the Gaussian over which skin colour counts as tone (blotches), not texture."""
TONE_GATE = (8.0, 10.0)
"""a*, b* distance (CIE LAB units) from the target's own cheeks within which a pixel just outside the
face counts as skin (neck, ears, forehead above the mask) rather than hair, beard or background."""


def lab(image: np.ndarray) -> np.ndarray:
    """float32 CIE LAB (L 0-100, a*, b*) of a BGR picture (uint8 or float 0-255)."""
    return cv2.cvtColor(np.clip(image, 0, 255).astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB)


def _features_mask(landmarks: np.ndarray, shape, grow: float) -> np.ndarray:
    from realtime.faces.topology import topology

    top = topology()
    polygons = [landmarks[region, :2] for region in (top.outer_lips, top.right_eye, top.left_eye)]
    polygons += [cv2.convexHull(landmarks[brow, :2].astype(np.float32)).reshape(-1, 2)
                 for brow in (top.right_eyebrow, top.left_eyebrow)]
    mask = _polygon_mask(shape, polygons).astype(np.uint8)
    size = max(3, int(2 * grow * face_width(landmarks)) | 1)
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))) > 0


def lips_mask(landmarks: np.ndarray, shape) -> np.ndarray:
    """The lips themselves: inside the outer lip line, outside the inner one, 1 px in from both."""
    from realtime.faces.topology import topology

    top = topology()
    lips = _polygon_mask(shape, [landmarks[top.outer_lips, :2]]) & ~_polygon_mask(shape, [landmarks[top.inner_mouth, :2]])
    return cv2.erode(lips.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0


def skin_regions(landmarks: np.ndarray, target_lab: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean masks over the picture: `skin` (the face oval shrunk to 86%, less eyes, brows and
    lips: cheeks, forehead, nose, chin; where the target is skin-coloured), `band` (that skin's outer part, 72-86% of the oval: the
    face's side of the mask edge, where the new face is fully shown) and `outside` (the ring 1.04-1.25x
    the oval where the target is skin-coloured: neck, ears, forehead above the mask, judged on
    `target_lab`)."""
    shape = target_lab.shape[:2]
    features = _features_mask(landmarks, shape, 0.04)
    skin = oval_mask(landmarks, shape, 0.86) & ~features
    ring = oval_mask(landmarks, shape, 1.25) & ~oval_mask(landmarks, shape, 1.04)
    near = np.zeros(shape, bool)
    if skin.any():
        centre = np.median(target_lab[skin], axis=0)
        near = (np.abs(target_lab[:, :, 1] - centre[1]) <= TONE_GATE[0]) & \
            (np.abs(target_lab[:, :, 2] - centre[2]) <= TONE_GATE[1]) & \
            (target_lab[:, :, 0] >= 0.55 * centre[0]) & (target_lab[:, :, 0] <= min(100.0, 1.35 * centre[0]))
    # Inside too, only where the person's own face is skin-coloured: the target's glasses frames,
    # stubble and hair over the forehead stay the target's in the output and are not skin tone.
    skin &= near
    band = skin & ~oval_mask(landmarks, shape, 0.72)
    return {"skin": skin, "band": band, "outside": ring & near}


def skin_tone(output: np.ndarray, target: np.ndarray, landmarks: np.ndarray) -> dict:
    """Colour of the new face's skin against the person's own skin, one frame (CIE LAB, ΔE = CIE76):
    - tone_de: mean colour of the output's skin vs the target's own skin there (its cheeks in the
      input frame), and tone_dl / tone_da / tone_db the per-channel differences (output - target);
    - edge_de: the output's skin just inside the mask edge (band) vs the skin just outside the face
      (neck, ears, forehead above it) in the same frame; edge_de_target the same on the target
      (the person's own face-to-neck difference, the floor);
    - chroma_map_de: RMS over the skin of the difference of the low-passed chroma (a*, b*, TONE_BLUR
      face widths), output vs target: the right colour in the right place (rosy cheeks, brown patches);
    - blotch / blotch_target: spread (std) of the low-passed chroma (a*, b*, TONE_BLUR face widths)
      over the skin: make-up patches, varnish, a painting's brush colour;
    - grain_ratio: std of the finest band (lightness minus its 1 px Gaussian) over the skin, output
      over target (below 1: smoother than the camera's skin);
    - sheen_ratio: the mean white top-hat of the luma (blurred by 1 px; bright spots narrower than
      SHEEN_WIDTH face widths over the level around them) over the skin, output over target (below 1:
      more matte than the camera's skin, the light on its nose, cheekbones and forehead missing). The
      sharpness match and grain_ratio are energies of a band, blind to its sign: a painting's dark
      shadows scored as the camera's bright sheen (s9 on d20: sharpness 1.06, grain 1.0, a "plastic"
      face to the blind judge; benchmarks/results/s35-s9skin);
    - lips_de / lips_da: the output's lips vs the target's own lips (lipstick travelling with the source).
    NaN where a region is empty."""
    output, target, landmarks = _around_face(output, target, landmarks)
    out_lab, tgt_lab = lab(output), lab(target)
    regions = skin_regions(landmarks, tgt_lab)
    skin, band, outside = regions["skin"], regions["band"], regions["outside"]
    nan = float("nan")
    result = dict.fromkeys(("tone_de", "tone_dl", "tone_da", "tone_db", "edge_de", "edge_de_target", "blotch",
                            "blotch_target", "chroma_map_de", "grain_ratio", "sheen_ratio", "lips_de", "lips_da"), nan)
    if skin.sum() < 50:
        return result
    diff = out_lab[skin].mean(axis=0) - tgt_lab[skin].mean(axis=0)
    result.update(tone_de=float(np.linalg.norm(diff)), tone_dl=float(diff[0]), tone_da=float(diff[1]),
                  tone_db=float(diff[2]))
    if band.sum() >= 50 and outside.sum() >= 50:
        ring_colour = out_lab[outside].mean(axis=0)
        result["edge_de"] = float(np.linalg.norm(out_lab[band].mean(axis=0) - ring_colour))
        result["edge_de_target"] = float(np.linalg.norm(tgt_lab[band].mean(axis=0) - tgt_lab[outside].mean(axis=0)))
    sigma = max(1.0, TONE_BLUR * face_width(landmarks))
    weight = cv2.GaussianBlur(skin.astype(np.float32), (0, 0), sigma)

    def blotch(picture: np.ndarray) -> float:
        spread = 0.0
        for channel in (1, 2):
            low = cv2.GaussianBlur(picture[:, :, channel] * skin, (0, 0), sigma) / np.maximum(weight, 1e-3)
            spread += float(low[skin].var())
        return float(np.sqrt(spread))

    result.update(blotch=blotch(out_lab), blotch_target=blotch(tgt_lab))
    squared = np.zeros(skin.shape, np.float32)
    for channel in (1, 2):
        lows = [cv2.GaussianBlur(p[:, :, channel] * skin, (0, 0), sigma) / np.maximum(weight, 1e-3) for p in (out_lab, tgt_lab)]
        squared += (lows[0] - lows[1]) ** 2
    result["chroma_map_de"] = float(np.sqrt(squared[skin].mean()))

    def grain(picture: np.ndarray) -> float:
        lightness = picture[:, :, 0]
        return float((lightness - cv2.GaussianBlur(lightness, (0, 0), HF_SIGMA))[skin].std())

    result["grain_ratio"] = grain(out_lab) / max(grain(tgt_lab), 1e-6)
    size = max(3, int(SHEEN_WIDTH * face_width(landmarks)) | 1)
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))

    def sheen(picture: np.ndarray) -> float:
        hat = cv2.morphologyEx(cv2.GaussianBlur(grey(picture), (0, 0), 1.0), cv2.MORPH_TOPHAT, element)
        return float(hat[skin].mean())

    result["sheen_ratio"] = sheen(output) / max(sheen(target), 1e-6)
    lips = lips_mask(landmarks, output.shape)
    if lips.sum() >= 20:
        lip_diff = out_lab[lips].mean(axis=0) - tgt_lab[lips].mean(axis=0)
        result.update(lips_de=float(np.linalg.norm(lip_diff)), lips_da=float(lip_diff[1]))
    return result


# -- target occluders ----------------------------------------------------------------------------
def edges(image: np.ndarray) -> np.ndarray:
    luminance = np.clip(grey(image), 0, 255).astype(np.uint8)
    return cv2.Canny(cv2.GaussianBlur(luminance, (0, 0), 1.0), 40, 100) > 0


def edges_kept(output: np.ndarray, target: np.ndarray, region: np.ndarray, reach: int = 2) -> float:
    """Fraction of the target's edge pixels in `region` that the output has within `reach` px."""
    wanted = edges(target) & region
    count = int(wanted.sum())
    if count == 0:
        return float("nan")
    size = 2 * reach + 1
    have = cv2.dilate(edges(output).astype(np.uint8), np.ones((size, size), np.uint8)) > 0
    return float((wanted & have).sum()) / count


def glasses_kept(output: np.ndarray, target: np.ndarray, landmarks: np.ndarray) -> float:
    output, target, landmarks = _around_face(output, target, landmarks, 1.2)
    return edges_kept(output, target, eye_ring_mask(landmarks, target.shape))


def pixels_kept(output: np.ndarray, target: np.ndarray, alpha: np.ndarray,
                tolerance: float = HAND_TOLERANCE) -> float:
    """Fraction of the opaque pixels of `alpha` (>= 0.99, 2 px in from the edge) where every
    channel of the output is within `tolerance` of the target (NaN where there are none)."""
    solid = cv2.erode((alpha >= 0.99).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if not solid.any():
        return float("nan")
    close = (np.abs(output.astype(np.float32) - target.astype(np.float32)) <= tolerance)
    close = close.all(axis=2) if close.ndim == 3 else close
    return float(close[solid].mean())


# -- background ----------------------------------------------------------------------------------
def background_mask(landmarks: np.ndarray, shape) -> np.ndarray:
    """True outside the face's convex hull enlarged 1.25x about its centre."""
    points = landmarks[:468, :2]
    centre = points.mean(axis=0)
    hull = cv2.convexHull(((points - centre) * 1.25 + centre).astype(np.float32))
    inside = np.zeros(shape[:2], dtype=np.uint8)
    cv2.fillConvexPoly(inside, np.round(hull).astype(np.int32), 1)
    return inside == 0


def background_change(output: np.ndarray, target: np.ndarray, outside: np.ndarray,
                      tolerance: float = HAND_TOLERANCE) -> tuple[float, int, int]:
    """(sum of squared differences, compared values, pixels changed by more than `tolerance`
    in some channel) over `outside`."""
    diff = output[outside].astype(np.float32) - target[outside].astype(np.float32)
    changed = int((np.abs(diff) > tolerance).any(axis=-1).sum()) if diff.ndim == 2 else \
        int((np.abs(diff) > tolerance).sum())
    return float((diff ** 2).sum()), int(diff.size), changed


# -- source leak ---------------------------------------------------------------------------------
def leak_score(output: np.ndarray, clean_output: np.ndarray, region: np.ndarray, face: np.ndarray) -> float:
    """Mean |grey difference| between the output of a modified source and of the clean source
    inside `region`, minus the same over the rest of `face` (NaN when either is empty)."""
    region = region & face
    rest = face & ~region
    if region.sum() < 20 or rest.sum() < 20:
        return float("nan")
    diff = np.abs(grey(output) - grey(clean_output))
    return float(diff[region].mean() - diff[rest].mean())


def leak_edges(output: np.ndarray, clean_output: np.ndarray, region: np.ndarray, face: np.ndarray,
               reach: int = 2) -> float:
    """The shape of a leaked occluder: the fraction of `region`'s pixels that are edges of the
    output (Canny, as `edges`) with no edge of the clean source's output within `reach` px,
    minus the same fraction over the rest of `face` (the encoder's and the fill's own new
    edges). A finger's outline, a knuckle, teeth between open lips are long new edges; a filled
    cheek that is only lighter or smoother than the clean photo's adds none (NaN when either
    region is empty)."""
    region = region & face
    rest = face & ~region
    if region.sum() < 20 or rest.sum() < 20:
        return float("nan")
    size = 2 * reach + 1
    near_clean = cv2.dilate(edges(clean_output).astype(np.uint8), np.ones((size, size), np.uint8)) > 0
    new = edges(output) & ~near_clean
    return float(new[region].mean() - new[rest].mean())


def leak_toward(output: np.ndarray, clean_output: np.ndarray, worn_output: np.ndarray, region: np.ndarray,
                face: np.ndarray, shows: float = 12.0) -> float:
    """Where wearing the modified source's pixels would show its hand or open mouth (`worn_output`:
    the same source swapped with clean_source off, differing from the clean source's output by
    more than `shows` grey levels inside `region`), the fraction of those pixels at which
    `output` is nearer the worn picture than the clean one: 0 when the hand or mouth is nowhere
    in the output, 1 when all of it is (NaN when the worn picture shows nothing there)."""
    g_out, g_clean, g_worn = grey(output), grey(clean_output), grey(worn_output)
    where = (region & face) & (np.abs(g_worn - g_clean) > shows)
    if where.sum() < 20:
        return float("nan")
    nearer_worn = np.abs(g_out - g_worn) < np.abs(g_out - g_clean)
    return float(nearer_worn[where].mean())


def warp_source_mask(mask: np.ndarray, source_landmarks: np.ndarray, target_landmarks: np.ndarray,
                     shape) -> np.ndarray:
    """A mask drawn on the source photo, carried onto the target frame by the face mesh (where a
    swap that moves the source's pixels would put it)."""
    from realtime.faces.topology import MESH_POINTS, topology
    from realtime.faces.warp import piecewise_affine_maps

    height, width = shape[:2]
    maps = piecewise_affine_maps(target_landmarks[:MESH_POINTS], source_landmarks[:MESH_POINTS],
                                 topology().triangles, (0, 0, width, height))
    warped = maps.remap(mask.astype(np.float32), border=cv2.BORDER_CONSTANT)
    # Outside the mesh the maps carry on the nearest triangle's affine: keep the face only.
    return (warped >= 0.5 * float(mask.max() or 1)) & oval_mask(target_landmarks, shape)


def mouth_region(landmarks: np.ndarray, shape, grow: float = 0.12) -> np.ndarray:
    """The target's mouth (outer lips), grown by `grow` x the inter-ocular distance."""
    from realtime.faces.topology import topology

    mask = _polygon_mask(shape, [landmarks[topology().outer_lips, :2]]).astype(np.uint8)
    size = max(3, int(2 * grow * inter_ocular(landmarks)) | 1)
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))) > 0


def mouth_opening(landmarks: np.ndarray) -> float:
    """Inner-lip gap (points 13-14) over the inter-ocular distance."""
    return float(np.linalg.norm(landmarks[13, :2] - landmarks[14, :2])) / max(inter_ocular(landmarks), 1.0)


# -- command line: one frame's seam ----------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """python -m benchmarks.realism OUTPUT.mp4 PASSTHROUGH.mp4 --frame 20: the seam of one frame of
    a written output against a passthrough run of the same input (e.g. `make run`'s demo against
    `facecam run --mode passthrough --input demo -o pass.mp4`)."""
    import argparse
    import sys
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m benchmarks.realism", description=main.__doc__)
    parser.add_argument("output", type=Path)
    parser.add_argument("passthrough", type=Path)
    parser.add_argument("--frame", type=int, default=20)
    args = parser.parse_args(argv)
    from benchmarks.quality_swap import decode
    from realtime.faces import create_detector
    from realtime.settings import FaceSettings

    for path in (args.output, args.passthrough):
        if not path.exists():
            print(f"error: no such file: {path}", file=sys.stderr)
            return 2
    output, _ = decode(args.output, args.frame + 1)
    target, _ = decode(args.passthrough, args.frame + 1)
    if len(output) <= args.frame or len(target) <= args.frame:
        print(f"error: frame {args.frame} is past the end of a file", file=sys.stderr)
        return 2
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    faces = detector.detect(target[args.frame])
    detector.close()
    if not faces:
        print(f"error: no face in frame {args.frame} of {args.passthrough}", file=sys.stderr)
        return 2
    landmarks = faces[0].landmarks
    out = unmark(output[args.frame], file_session(args.output))
    tgt = unmark(target[args.frame], file_session(args.passthrough))
    x0, y0, x1, y1 = crop_box(landmarks, tgt.shape, SEARCH_SCALE)
    picture = grey(tgt[y0:y1, x0:x1])
    diff = grey(out[y0:y1, x0:x1]) - picture
    length = max(8, int(round(MIN_LENGTH_OF_FACE * face_width(landmarks))))
    horizontal = _row_steps(diff, length, picture)
    vertical = _row_steps(np.ascontiguousarray(diff.T), length, np.ascontiguousarray(picture.T))

    def how(found: tuple, sides: tuple[str, str]) -> str:
        if found[4] == 0:
            return ""
        return f" ({sides[found[3]]} unaltered, {'lighter' if found[4] > 0 else 'darker'} beyond)"

    print(f"frame {args.frame}: seam {max(horizontal[0], vertical[0]):.1f} grey levels "
          f"(goal <= {SEAM_GOAL:g}); horizontal {horizontal[0]:.1f} at y={horizontal[1] + y0}, "
          f"x={horizontal[2] + x0}..{horizontal[2] + x0 + length}{how(horizontal, ('above', 'below'))}; "
          f"vertical {vertical[0]:.1f} at x={vertical[1] + x0}, y={vertical[2] + y0}..{vertical[2] + y0 + length}"
          f"{how(vertical, ('left', 'right'))}; face width "
          f"{face_width(landmarks):.0f} px, eyebrows at y={landmarks[[105, 334], 1].mean():.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
