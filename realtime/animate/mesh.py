"""The embedded animator: a still portrait that moves with the face in front of the camera.

No model, no download. Per frame: the driving face's motion relative to its neutral reference
(motion.py) moves the portrait's landmarks, irises included (gaze); the portrait is warped once,
at its own resolution, with a mesh that covers the whole picture (surround.py: face, closed eyes
and mouth, rings over hair, neck and background, the fixed border), the irises redrawn whole
inside the eyes; an open mouth gets an interior in the portrait's palette (mouth.py). Only the
part of the picture that moves is warped; the rest is the portrait itself, to the pixel.

The reference is the first driving face seen, and again the first one after each calibration
(`Engine.update(calibrate=True)`, key `c` in the preview window).
"""

from __future__ import annotations

import cv2
import numpy as np

from realtime.animate.motion import (
    EYE_CORNERS,
    MOUTH_CORNERS,
    POUT_NARROWING,
    Calibration,
    LidWatch,
    _openness,
    calibrate,
    near,
    settled_reference,
    transfer,
)
from realtime.animate.mouth import (
    draw_mouth_interior,
    driver_to_portrait_colour,
    face_colour,
    interior_share,
    moustache_over_lip,
    mouth_opening,
    shade_lips,
)
from realtime.animate.surround import MOUTH_CENTRE, PortraitMesh, build_mesh, fit_similarity_2d, moved_points
from realtime.animate.tiles import TileWarp
from realtime.faces.one_euro import OneEuroFilter
from realtime.faces.source import SourceFace
from realtime.faces.topology import (
    ALL_POINTS,
    LEFT_IRIS_CENTRE,
    LID_INNER,
    LOWER_LIDS,
    RIGHT_IRIS_CENTRE,
    UPPER_LIDS,
    topology,
)
from realtime.faces.tracking import smoothing_parameters
from realtime.faces.warp import piecewise_affine_maps
from realtime.frame import Face, Frame
from realtime.settings import AnimateSettings, Settings

MAX_PORTRAIT_SIDE = 1280
"""Portraits larger than this (long side) are shrunk unless a portrait size is asked for: the
warp costs in proportion to the pixels that move."""
SETTLE_FRAMES = 12  # frames after a calibration (0.4 s at 30 fps) in which the reference settles
ENLARGE = cv2.INTER_CUBIC  # what moved in a portrait animated at its own size (`Portrait.to_output`) is enlarged so:
# as sharp as main's output-size warp (a rigid head move on s42: Laplacian energy over the face 1.0x the still
# portrait's, main 0.98x; bilinear 0.74x); the rest is the portrait as `fit_picture` enlarges it, to the pixel
LEAST_ENLARGEMENT = 1.2  # an output that enlarges the portrait less is animated at the output size: the enlargement
# costs ~1.5 ms a frame, more than a slightly smaller picture saves (s0, 1.02x, by d3: 9.3 -> 11.0 ms; s42, 1.41x:
# 14.8 -> 12.7 ms)
CHANGED_BLOCK = 8  # px of the portrait: what moved is found per block of this side (and the blocks around it)
_STILL = 0.1  # pixels: a mesh point that moved less than this has not moved (the far rings' last
# fraction of a pixel is not worth warping the whole picture for)


def _placement(shape: tuple[int, ...], size: tuple[int, int]) -> tuple[float, int, int, int, int]:
    """Where `fit_picture` puts a picture of `shape` in `size` (width, height): the factor, the
    fitted width and height, the left and top offsets."""
    height, width = shape[:2]
    factor = min(size[0] / width, size[1] / height)
    fitted_w, fitted_h = max(1, round(width * factor)), max(1, round(height * factor))
    return factor, fitted_w, fitted_h, (size[0] - fitted_w) // 2, (size[1] - fitted_h) // 2


def fit_picture(image: np.ndarray, landmarks: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The picture at `size` (width, height), its landmarks moved along. Never distorted: a
    picture of another shape is fitted inside, the rest filled with a blurred, darker copy of it
    (a tall painting in a 16:9 camera picture)."""
    height, width = image.shape[:2]
    factor, fitted_w, fitted_h, left, top = _placement(image.shape, size)
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    fitted = cv2.resize(image, (fitted_w, fitted_h), interpolation=interpolation)
    if (fitted_w, fitted_h) == tuple(size):
        canvas = fitted
    else:
        cover = max(size[0] / width, size[1] / height)
        backdrop = cv2.resize(image, (max(1, round(width * cover)), max(1, round(height * cover))),
                              interpolation=cv2.INTER_AREA)
        bx, by = (backdrop.shape[1] - size[0]) // 2, (backdrop.shape[0] - size[1]) // 2
        backdrop = backdrop[by:by + size[1], bx:bx + size[0]]
        small = cv2.resize(backdrop, (max(1, size[0] // 16), max(1, size[1] // 16)), interpolation=cv2.INTER_AREA)
        canvas = (cv2.resize(cv2.GaussianBlur(small, (0, 0), 2.0), tuple(size)) * 0.6).astype(np.uint8)
        canvas[top:top + fitted_h, left:left + fitted_w] = fitted
    moved = landmarks * factor
    moved[:, 0] += left
    moved[:, 1] += top
    return np.ascontiguousarray(canvas), moved


def changed_blocks(picture: np.ndarray, other: np.ndarray, block: int) -> np.ndarray:
    """(rows, cols) uint8, non-zero for each `block` x `block` block (the last row and column may be cut short) in
    which any channel of any pixel of `picture` differs from `other` (same shape, uint8; `block` a power of 2).

    255 where a value differs (cv2.compare), then halved (INTER_AREA by 2, OpenCV's vectorised 2 x 2 box average,
    (a + b + c + d + 2) >> 2) down to one value per block: a single 255 becomes 64, 16, 4, 1 (8 px blocks: 4), never 0
    within four halvings; the channels' largest. About a sixth of the cost of the largest absolute difference per block
    (a dilation read at the blocks' centres), the same blocks."""
    height, width = picture.shape[:2]
    halvings = block.bit_length() - 1
    assert block == 1 << halvings and halvings <= 4, "a block's value could round to 0"
    rows, cols = -(-height // block), -(-width // block)
    unequal = cv2.compare(picture, other, cv2.CMP_NE)
    if rows * block != height or cols * block != width:
        unequal = cv2.copyMakeBorder(unequal, 0, rows * block - height, 0, cols * block - width,
                                     cv2.BORDER_CONSTANT, value=0)
    for level in range(halvings - 1, -1, -1):
        unequal = cv2.resize(unequal, (cols << level, rows << level), interpolation=cv2.INTER_AREA)
    if unequal.ndim == 2:
        return unequal
    # The channels' largest, element-wise (a reduction along a length-3 axis costs 10-15 times more).
    largest = unequal[..., 0]
    for channel in range(1, unequal.shape[2]):
        largest = np.maximum(largest, unequal[..., channel])
    return largest


def _block_edges(shape: tuple[int, ...], placement: tuple[float, int, int, int, int],
                 block: int) -> tuple[list[int], list[int]]:
    """Where each `block` of a picture of `shape` begins in its enlargement (`placement`) as OpenCV enlarges a mask
    of one value per block (INTER_NEAREST): (row edges, column edges), each block's first output pixel and, last,
    the output's height (width). Read off OpenCV's own mapping (a ramp of block numbers enlarged), not recomputed."""
    _factor, width, height, _left, _top = placement
    rows, cols = -(-shape[0] // block), -(-shape[1] // block)
    edges = []
    for count, size, ramp_shape in ((rows, height, (rows, 1)), (cols, width, (1, cols))):
        ramp = np.arange(count, dtype=np.float32).reshape(ramp_shape)
        mapped = cv2.resize(ramp, (1, size) if ramp_shape[1] == 1 else (size, 1),
                            interpolation=cv2.INTER_NEAREST).ravel().astype(np.int64)
        edges.append(np.searchsorted(mapped, np.arange(count + 1), side="left").tolist())
    return edges[0], edges[1]


class Portrait:
    """The portrait prepared for animation: picture, landmarks, mesh, colours. At its output size,
    or, where the output enlarges it, at its own size: animated there and enlarged once per frame
    (`to_output`), as `fit_picture` enlarges it."""

    def __init__(self, source: SourceFace, size: tuple[int, int] | None) -> None:
        image = source.image
        height, width = image.shape[:2]
        landmarks = source.face.landmarks.astype(np.float64)
        if size is None:
            factor = min(1.0, MAX_PORTRAIT_SIDE / max(width, height))
            size = (max(16, round(width * factor)), max(16, round(height * factor)))
        # Where the output enlarges the portrait (s42, 512 px, in a 1280x720 output: 1.41x), it is
        # animated at its own size, half the pixels to move, and the finished frame enlarged once
        # (LEAST_ENLARGEMENT).
        # The portrait as fitted to the output: a still driver's output, and the backdrop around
        # the enlarged frame.
        self.fitted: np.ndarray | None = None
        self._block_edges: tuple[list[int], list[int]] = ([], [])
        self.placement: tuple[float, int, int, int, int] | None = None
        if size != (width, height):
            placement = _placement(image.shape, size)
            if placement[0] >= LEAST_ENLARGEMENT:
                self.fitted = fit_picture(image, landmarks, size)[0]
                self.placement = placement
                self._block_edges = _block_edges(image.shape, placement, CHANGED_BLOCK)
            else:
                image, landmarks = fit_picture(image, landmarks, size)
        self.image = image
        self.landmarks = landmarks
        self.mesh: PortraitMesh = build_mesh(self.landmarks, image.shape[1], image.shape[0])
        points = self.landmarks[:, :2]
        self.face_size = float(np.hypot(*(points.max(axis=0) - points.min(axis=0))))
        self.colour = face_colour(image, self.landmarks)
        self.mouth_opening = mouth_opening(points[topology().inner_mouth], self.face_size)
        top = topology()
        lips = np.zeros(image.shape[:2], dtype=np.uint8)
        cv2.fillPoly(lips, [np.round(points[top.outer_lips]).astype(np.int32)], 255)
        cv2.fillPoly(lips, [np.round(points[top.inner_mouth]).astype(np.int32)], 0)
        self.lips_colour = np.array(cv2.mean(image, mask=lips if cv2.countNonZero(lips) else None)[:3])
        self.moustache = moustache_over_lip(image, self.landmarks, float(self.colour[0][0]))  # 0-1: a moustache covers the upper lip
        # Depth of every mesh point for the back-to-front drawing order: the surroundings lie
        # behind the face.
        self.depth_far = float(self.landmarks[:, 2].max() + self.face_size)
        self.clean = clean_eyes(image, self.landmarks)  # the irises painted out: what a glance uncovers
        self.irises = whole_irises(image, self.landmarks)  # ... and the irises as a glance shows them
        self.lidded, self.lashes = lidded_eyes(image, self.landmarks)  # ... and the eyes shut
        self.tiles = TileWarp(image)  # the picture doubled once; the last drawing, by tiles
        self.eye_openness = tuple(_openness(self.landmarks, loop, corners)
                                  for loop, corners in zip((top.right_eye, top.left_eye), EYE_CORNERS, strict=True))

    def to_output(self, canvas: np.ndarray) -> np.ndarray:
        """A frame drawn on the portrait's picture at the output size: the fitted portrait (`fit_picture`), where
        the frame differs from the portrait (by blocks, one block around), the frame enlarged (ENLARGE). A still
        frame gives the fitted portrait exactly."""
        if self.placement is None or self.fitted is None:
            return canvas
        _factor, width, height, left, top = self.placement
        changed = changed_blocks(canvas, self.image, CHANGED_BLOCK)
        if not changed.any():
            return self.fitted.copy()
        # One block around: the enlargement's reach (2 px) and the block grid's rounding at the output size.
        changed = cv2.dilate((changed > 0).astype(np.uint8), np.ones((3, 3), np.uint8))
        fitted = self.fitted
        if 2 * cv2.countNonZero(changed) <= changed.size:
            # Little moved: the fitted portrait, the enlarged frame copied over it where it changed.
            output = fitted.copy()
            picture = output[top:top + height, left:left + width]
            enlarged = cv2.resize(canvas, (width, height), interpolation=ENLARGE)
            for y0, y1, x0, x1 in self._rectangles(changed):
                picture[y0:y1, x0:x1] = enlarged[y0:y1, x0:x1]
            return output
        # Most of it moved (a talking head: 0.9 of s42's blocks on d3): the frame enlarged straight into the
        # output (cv2.resize writes into the view), the fitted portrait copied back where nothing changed and
        # around the picture. The same pixels as above, without copying most of the picture twice.
        output = np.empty_like(fitted)
        if top > 0:
            output[:top] = fitted[:top]
        if top + height < output.shape[0]:
            output[top + height:] = fitted[top + height:]
        if left > 0:
            output[top:top + height, :left] = fitted[top:top + height, :left]
        if left + width < output.shape[1]:
            output[top:top + height, left + width:] = fitted[top:top + height, left + width:]
        picture = output[top:top + height, left:left + width]
        cv2.resize(canvas, (width, height), dst=picture, interpolation=ENLARGE)
        still = fitted[top:top + height, left:left + width]
        for y0, y1, x0, x1 in self._rectangles(1 - changed):
            picture[y0:y1, x0:x1] = still[y0:y1, x0:x1]
        return output

    def _rectangles(self, blocks: np.ndarray) -> list[tuple[int, int, int, int]]:
        """The output pixels (y0, y1, x0, x1, within the fitted picture) of the non-zero `blocks` (0/1, one per
        CHANGED_BLOCK block of the portrait): runs of blocks per block row, consecutive rows that are alike merged,
        over the output pixels that the blocks' mask enlarged (INTER_NEAREST) would cover (`_block_edges`): the
        same pixels as a masked copy, without the mask (its enlargement and the masked copy cost three times as
        much). The blocks' rectangles partition the picture."""
        ys, xs = self._block_edges
        differs = np.ones(blocks.shape[0], dtype=bool)
        differs[1:] = (blocks[1:] != blocks[:-1]).any(axis=1)
        first = np.flatnonzero(differs).tolist()  # each group's first row
        last = first[1:] + [blocks.shape[0]]
        padded = np.zeros((len(first), blocks.shape[1] + 2), dtype=np.int8)
        padded[:, 1:-1] = blocks[first]
        step = np.diff(padded, axis=1)
        groups, starts = np.nonzero(step == 1)
        ends = np.nonzero(step == -1)[1]
        return [(ys[first[group]], ys[last[group]], xs[start], xs[end])
                for group, start, end in zip(groups.tolist(), starts.tolist(), ends.tolist(), strict=True)]

    def output_points(self, points: np.ndarray) -> np.ndarray:
        """Points (N, >=2) on the portrait's picture, in the output's pixels (`to_output`)."""
        if self.placement is None:
            return points
        factor, _width, _height, left, top = self.placement
        moved = points * factor
        moved[:, 0] += left
        moved[:, 1] += top
        return moved


# Each upper lid's fold: MediaPipe's ring of points just above the lid (UPPER_LIDS[eye][LID_INNER], point for point,
# outer to inner), the person's right eye first.
LID_FOLDS = ((247, 30, 29, 27, 28, 56, 190), (467, 260, 259, 257, 258, 286, 414))
LID_CLOSING = (0.4, 0.9)  # share of the eye's opening closed where the lid's source starts / ends moving
LID_SHIFT = 0.9  # how far up the lid's source moves, at a shut eye, towards its fold
IRISES_SLIDE = True
WIDENED = 1.06  # an eye opened wider than this (area, of the portrait's) keeps its iris's size
LID_CENTRE = (0.75, 0.95)  # closed share where the eye's centre starts / ends sampling the lid's edge


def _unit(x: float) -> float:
    """float(np.clip(x, 0.0, 1.0)) of a number (NaN stays NaN), at a tenth of np.clip's cost on a scalar."""
    return float(min(max(x, 0.0), 1.0))


def _eyes_closed(portrait: Portrait, points: np.ndarray) -> tuple[float | None, float | None]:
    """Per eye (the person's right first), the share of the portrait's own opening that the drawn
    eye has closed (1 - openness / the portrait's; may be below 0 for a widened eye); None for an
    eye the portrait shows shut. Measured once per frame for `_lid_sources` and `draw_shut_lids`."""
    top = topology()
    closed = [None if before < 1e-3 else 1.0 - _openness(points, loop, corners) / before
              for loop, corners, before in zip((top.right_eye, top.left_eye), EYE_CORNERS,
                                               portrait.eye_openness, strict=True)]
    return closed[0], closed[1]


def _lid_sources(portrait: Portrait, points: np.ndarray,
                 closed_eyes: tuple[float | None, float | None] | None = None) -> np.ndarray:
    """The mesh's source points, the upper lids of closing eyes moved up towards their folds.

    A warp closes an eye by squeezing its opening to nothing and stretching the lid above it
    down: the band between the lid's edge and its fold (lashes, eyeliner, the shadow of the lid:
    the darkest part of the eye after the pupil) came down whole, and a shut eye was drawn as a
    dark half-open almond (d3's wink: MediaPipe found the drawn eye 0.13 open where the mesh and
    the real eye were shut, 0.01). A real lid that closes unfolds: skin from the fold covers the
    eye and the lashes are a thin line at the bottom. Here, as an eye closes, its lid's edge
    samples the portrait from up to LID_SHIFT of the way to the fold: the lash band shrinks into
    the closed opening (drawn with no area) and the lid above it shows the fold's skin."""
    source = portrait.mesh.points
    moved: np.ndarray | None = None
    if closed_eyes is None:
        closed_eyes = _eyes_closed(portrait, points)
    for upper, fold, centre, closed in zip(
            (lid[LID_INNER] for lid in UPPER_LIDS), LID_FOLDS, (RIGHT_IRIS_CENTRE, LEFT_IRIS_CENTRE),
            closed_eyes, strict=True):
        if closed is None:
            continue
        x = _unit((closed - LID_CLOSING[0]) / (LID_CLOSING[1] - LID_CLOSING[0]))
        if x <= 0.0:
            continue
        if moved is None:
            moved = source.copy()
        lid, up = list(upper), list(fold)
        moved[lid] += (x * x * (3.0 - 2.0 * x) * LID_SHIFT) * (source[up] - source[lid])
        # The shut eye's sliver (its fan around the iris centre, drawn a pixel or two high)
        # point-samples whatever lies between lid and pupil: a jagged crack of white and black.
        # Nearly shut, the fan's centre samples the lid's own edge (its lashes): a dark line.
        y = _unit((closed - LID_CENTRE[0]) / (LID_CENTRE[1] - LID_CENTRE[0]))
        if y > 0.0:
            moved[centre] += (y * y * (3.0 - 2.0 * y)) * (source[lid].mean(axis=0) - source[centre])
    return source if moved is None else moved


def _keep_iris_inside(points: np.ndarray) -> None:
    """The eye fans turn around the iris centres: keep each centre inside its eye's outline
    (in place), or the fan folds over itself when the lids close."""
    top = topology()
    for loop, centre in ((top.right_eye, RIGHT_IRIS_CENTRE), (top.left_eye, LEFT_IRIS_CENTRE)):
        outline = points[loop].astype(np.float32)
        if cv2.pointPolygonTest(outline, (float(points[centre, 0]), float(points[centre, 1])), False) <= 0:
            points[centre] = outline.mean(axis=0)


def _rigid_irises(portrait: Portrait, points: np.ndarray,
                  sources: np.ndarray | None = None) -> list[tuple[np.ndarray, ...]]:
    """Where the pixels inside each open eye sample the portrait so its iris moves as a whole:
    (xs, ys, sample_x, sample_y, box) per eye, to write over the mesh's maps.

    The mesh closes an eye with a fan around the iris centre: moving that centre for a glance
    would stretch the iris on one side and squash it on the other. Here each pixel inside the
    moved eye outline samples the portrait's own eye along the same fan ray, but with a radial
    profile that is rigid out to the iris's radius (the iris keeps its size and shape) and takes up
    the slack in the white between iris and outline. Every sample stays inside the portrait's own
    eye opening, so the iris is clipped by the lids exactly as in the portrait, and at the outline
    the map meets the mesh's (continuous, no seam). `sources`: the mesh's source points as drawn
    this frame (a closing lid's edge moved up, `_lid_sources`), so the outline meets them too."""
    top = topology()
    height, width = portrait.image.shape[:2]
    x0, y0, x1, y1 = 0, 0, width, height
    source = (portrait.landmarks if sources is None else sources)[:ALL_POINTS, :2]
    result = []
    for loop, centre, iris, corners in ((top.right_eye, RIGHT_IRIS_CENTRE, top.right_iris, (33, 133)),
                                        (top.left_eye, LEFT_IRIS_CENTRE, top.left_iris, (263, 362))):
        dest_loop, source_loop = points[loop], source[loop]
        dest_centre, source_centre = points[centre], source[centre]
        width_d = float(np.linalg.norm(points[corners[0]] - points[corners[1]]))
        width_s = float(np.linalg.norm(source[corners[0]] - source[corners[1]]))
        if width_d < 4 or width_s < 4 or abs(cv2.contourArea(dest_loop.astype(np.float32))) < 4:
            continue  # closed or tiny: nothing to turn
        k = width_d / width_s
        follow = fit_similarity_2d(source_loop, dest_loop)
        widened = abs(cv2.contourArea(dest_loop.astype(np.float32))) > \
            WIDENED * k * k * abs(cv2.contourArea(source_loop.astype(np.float32)))
        if np.linalg.norm(follow[:, :2] @ source_centre + follow[:, 2] - dest_centre) < 0.3 and not \
                (widened and IRISES_SLIDE):
            continue  # the iris just follows its eye: the mesh's own fan is right
        radius_s = float(np.linalg.norm(source[iris] - source_centre, axis=1).mean())
        ex0, ey0 = np.floor(dest_loop.min(axis=0)).astype(int)
        ex1, ey1 = np.ceil(dest_loop.max(axis=0)).astype(int) + 1
        ex0, ey0, ex1, ey1 = max(ex0, x0), max(ey0, y0), min(ex1, x1), min(ey1, y1)
        if ex1 - ex0 < 2 or ey1 - ey0 < 2:
            continue
        inside_mask = np.zeros((ey1 - ey0, ex1 - ex0), dtype=np.uint8)
        cv2.fillPoly(inside_mask, [np.round((dest_loop - [ex0, ey0]) * 16).astype(np.int32)], 1,
                     lineType=cv2.LINE_8, shift=4)
        inside_mask = cv2.dilate(inside_mask, np.ones((3, 3), np.uint8))  # the outline's own pixels
        ys, xs = np.nonzero(inside_mask)
        ys, xs = ys + ey0, xs + ex0
        if len(xs) == 0:
            continue
        v = np.stack([xs, ys], axis=1).astype(np.float64) - dest_centre
        spokes = dest_loop - dest_centre
        angles = np.arctan2(spokes[:, 1], spokes[:, 0])
        order = np.argsort(angles)
        sorted_angles = angles[order]
        sector = np.searchsorted(sorted_angles, np.arctan2(v[:, 1], v[:, 0])) % len(order)
        first, second = order[sector - 1], order[sector]  # the spokes either side of each pixel
        a, b = spokes[first], spokes[second]
        det = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
        det = np.where(np.abs(det) < 1e-9, 1e-9, det)
        wa = (v[:, 0] * b[:, 1] - v[:, 1] * b[:, 0]) / det
        wb = (a[:, 0] * v[:, 1] - a[:, 1] * v[:, 0]) / det
        t = wa + wb  # radial fraction: 0 at the centre, 1 on the outline
        inside = (t < 1.0) & (wa >= -1e-6) & (wb >= -1e-6)
        if not inside.any():
            continue
        t, wa, wb = t[inside], wa[inside], wb[inside]
        u = np.where(t > 1e-9, wb / np.maximum(t, 1e-9), 0.0)
        edge_d = (1 - u)[:, None] * a[inside] + u[:, None] * b[inside]
        edge_s = (1 - u)[:, None] * (source_loop[first[inside]] - source_centre) + \
            u[:, None] * (source_loop[second[inside]] - source_centre)
        length_d = np.linalg.norm(edge_d, axis=1)
        length_s = np.maximum(np.linalg.norm(edge_s, axis=1), 1e-6)
        # Rigid out to the iris: a pixel r from the (moved) centre samples r / k from the
        # portrait's centre; beyond it, linear up to the outline.
        t0 = np.minimum(k * radius_s / np.maximum(length_d, 1e-6), 0.9)
        h0 = np.minimum(t0 * length_d / (k * length_s), 0.9)
        profile = np.where(t <= t0, t * h0 / np.maximum(t0, 1e-9),
                           h0 + (1.0 - h0) * (t - t0) / np.maximum(1.0 - t0, 1e-9))
        sample = (source_centre + profile[:, None] * edge_s).astype(np.float32)
        fan = (source_centre + t[:, None] * edge_s).astype(np.float32)  # the plain fan: the eye's white
        result.append((xs[inside], ys[inside], sample[:, 0], sample[:, 1], (ex0, ey0, ex1, ey1),
                       (dest_centre.astype(np.float64), source_centre.astype(np.float64), k, radius_s,
                        source_loop.astype(np.float32), fan)))
    return result


WHITE_SHARE = 0.9  # of the painted-out iris: the white's colour (the rest: the inpainting's shading)
VISIBLE_MARGIN = 3.0  # px: an iris pixel this far inside the portrait's eye outline is wholly visible
IRIS_EDGE = 1.15  # the iris drawn whole out to this much of its radius (its dark rim and a little white)


def whole_irises(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The portrait with each iris made whole: the part its lids hide (an iris is nearly always
    cut by the upper lid, often by the lower) drawn from the visible part's ring at the same
    radius (an iris is close to radially symmetric: dark rim, lighter middle, pupil), faded into
    the visible pixels over VISIBLE_MARGIN. A widened eye or a glance shows what the lid hid.

    Taking the hidden part from the other half of the disk (mirrored), else from the nearest
    visible row, drew a widened eye's iris top as a dark arc over a bright line (both halves hidden
    at the top and bottom: the rows drawn in between were the iris's rim and the lid's wet line;
    d10's widened eyes on frames 70-106, the Mona Lisa's glance)."""
    top = topology()
    points = landmarks[:, :2]
    whole = image.copy()
    height, width = image.shape[:2]
    for loop, centre, iris in ((top.right_eye, RIGHT_IRIS_CENTRE, top.right_iris),
                               (top.left_eye, LEFT_IRIS_CENTRE, top.left_iris)):
        radius = float(np.linalg.norm(points[iris] - points[centre], axis=1).mean()) * IRIS_EDGE
        cx, cy = points[centre]
        x0, y0 = max(0, int(cx - radius) - 2), max(0, int(cy - radius) - 2)
        x1, y1 = min(width, int(cx + radius) + 3), min(height, int(cy + radius) + 3)
        if radius < 2 or x1 - x0 < 3 or y1 - y0 < 3:
            continue
        eye = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
        cv2.fillPoly(eye, [np.round((points[loop] - [x0, y0]) * 16).astype(np.int32)], 1, shift=4)
        visible = np.clip(cv2.distanceTransform(eye, cv2.DIST_L2, 3) / VISIBLE_MARGIN, 0.0, 1.0)
        yy, xx = np.mgrid[y0:y1, x0:x1]
        rho = np.hypot(xx - cx, yy - cy)
        bins = np.minimum(rho, radius).astype(np.int32)
        patch = image[y0:y1, x0:x1].astype(np.float64)
        seen = (visible >= 1.0) & (rho <= radius)
        if seen.sum() < 8:
            continue
        count = np.bincount(bins[seen], minlength=bins.max() + 1).astype(np.float64)
        ring = np.stack([np.bincount(bins[seen], weights=patch[..., c][seen], minlength=len(count))
                         for c in range(3)], axis=1)
        have = np.nonzero(count)[0]
        if len(have) == 0:
            continue
        # A radius no visible pixel has: the nearest one that has.
        nearest = have[np.abs(np.arange(len(count))[:, None] - have[None]).argmin(axis=1)]
        profile = ring[nearest] / count[nearest][:, None]
        fill = profile[bins]
        inside_disk = (rho <= radius)[..., None]
        mixed = visible[..., None] * patch + (1.0 - visible[..., None]) * fill
        whole[y0:y1, x0:x1] = np.where(inside_disk, np.clip(mixed + 0.5, 0, 255), patch).astype(np.uint8)
    return whole


def clean_eyes(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The portrait with its irises painted out of their eyes (the white and the lids' shadow
    continued over them: cv2.inpaint, Telea), the background a glance moves the iris over."""
    top = topology()
    points = landmarks[:, :2]
    mask = np.zeros(image.shape[:2], dtype=np.uint8)
    for loop, centre, iris in ((top.right_eye, RIGHT_IRIS_CENTRE, top.right_iris),
                               (top.left_eye, LEFT_IRIS_CENTRE, top.left_iris)):
        eye = np.zeros_like(mask)
        cv2.fillPoly(eye, [np.round(points[loop] * 16).astype(np.int32)], 255, shift=4)
        disk = np.zeros_like(mask)
        radius = float(np.linalg.norm(points[iris] - points[centre], axis=1).mean()) * IRIS_EDGE + 1.0
        cv2.circle(disk, (int(round(points[centre, 0] * 16)), int(round(points[centre, 1] * 16))),
                   int(round(radius * 16)), 255, -1, shift=4)
        mask |= eye & disk
    if not mask.any():
        return image
    ys, xs = np.nonzero(mask)
    pad = 8
    x0, y0 = max(0, xs.min() - pad), max(0, ys.min() - pad)
    x1, y1 = min(image.shape[1], xs.max() + pad + 1), min(image.shape[0], ys.max() + pad + 1)
    clean = image.copy()
    box = np.s_[y0:y1, x0:x1]
    filled = cv2.inpaint(image[box], mask[box], 3, cv2.INPAINT_TELEA).astype(np.float32)
    # Telea continues the eye's outline into the hole: where the iris met a lid, the lid's dark edge
    # ran over it, and an eye widened over that drew a brown smudge above its iris. The hole is the
    # white instead (the eye's brightest part outside the iris), shaded by the inpainting's own
    # light below it (the lids' shadow on the white, the white's own falloff kept).
    whites = np.zeros_like(mask)
    for loop in (top.right_eye, top.left_eye):
        cv2.fillPoly(whites, [np.round(points[loop] * 16).astype(np.int32)], 255, shift=4)
    whites = whites & ~mask
    if cv2.countNonZero(whites) >= 8:
        pixels = image[whites > 0].astype(np.float32)
        light = pixels.mean(axis=1)
        # The white's light part (its brightest fifth): a widened eye uncovers white the lid no
        # longer shades. Its median (the shaded white, 30 % of it the inpainting's lid shadow) drew
        # a widened eye dim grey and MediaPipe read d10's widened eyes at 0.37 of the real
        # widening (0.46 with this, and 0.9 of the colour); on the Mona Lisa it is a creamy white,
        # not the glaring patch the brightest quarter alone drew (all four checked by eye).
        white = pixels[light >= np.percentile(light, 80)].mean(axis=0)
        # White in the middle, the inpainting's own (the lid's edge and shadow) within a few pixels
        # of the eye's outline: a white hole reaching up to the lid drew a bright line between the
        # moved iris and the lashes.
        eyes = np.zeros_like(mask)
        for loop in (top.right_eye, top.left_eye):
            cv2.fillPoly(eyes, [np.round(points[loop] * 16).astype(np.int32)], 255, shift=4)
        inside = cv2.distanceTransform((eyes[box] > 0).astype(np.uint8), cv2.DIST_L2, 3)
        x = np.clip(inside / max(2.0, 0.06 * float(np.linalg.norm(points[33] - points[133]))), 0.0, 1.0)
        weight = WHITE_SHARE * (x * x * (3.0 - 2.0 * x))[..., None]
        hole = (mask[box] > 0)[..., None]
        filled = np.where(hole, weight * white + (1.0 - weight) * filled, filled)
        filled = np.where(hole, cv2.GaussianBlur(filled, (0, 0), 0.8), filled)
    clean[box] = np.clip(filled + 0.5, 0, 255).astype(np.uint8)
    return clean


def draw_irises(canvas: np.ndarray, portrait: Portrait, eyes: list) -> None:
    """Each turned iris drawn whole over its eye's white, in place.

    The rigid fan (`_rigid_irises`) samples the portrait's own eye, so the white a glance uncovers
    beside the iris came from the iris itself or from the lids: a glance towards a corner drew a
    dark wedge trailing the iris, and the iris never left its place by more than half of the
    driver's glance as MediaPipe finds it (d10: 0.44-0.47 of the real gaze). A real iris slides
    over the white: here the eye is drawn from the portrait with its irises painted out (the same
    fan, so the lids meet the mesh), and the portrait's iris disk translated (scaled by the eye)
    over it, cut by the drawn lids; the part of the iris the portrait's lids hide comes from the
    iris made whole once (`whole_irises`)."""
    clean = portrait.clean
    if clean is None:
        return
    for xs, ys, _sample_x, _sample_y, _box, (dest_centre, source_centre, k, radius_s, _loop, fan) in eyes:
        # The white: the iris-less eye by the plain fan (each ray's share of the way to the lid),
        # not the rigid iris's profile, which samples its middle over most of the eye: the lid's
        # edge stays at the lid, the middle is white.
        white = cv2.remap(clean, fan[None, :, 0], fan[None, :, 1], cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT101)[0].astype(np.float32)
        d = np.stack([xs, ys], axis=1).astype(np.float64) - dest_centre
        r = np.linalg.norm(d, axis=1)
        radius = k * radius_s * IRIS_EDGE
        near = r < radius + 1.0
        if not near.any():
            canvas[ys, xs] = np.clip(white + 0.5, 0, 255).astype(np.uint8)
            continue
        source = source_centre + d[near] / k  # the iris made whole (`whole_irises`)
        # Whole out to the iris's own radius, fading over its rim (IRIS_EDGE) into the white.
        rim = k * radius_s
        alpha = np.clip((radius - r[near]) / max(radius - rim, 1.0), 0.0, 1.0)
        iris = cv2.remap(portrait.irises, source[:, 0].astype(np.float32)[None], source[:, 1].astype(np.float32)[None],
                         cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)[0].astype(np.float32)
        white[near] = alpha[:, None] * iris + (1.0 - alpha[:, None]) * white[near]
        canvas[ys, xs] = np.clip(white + 0.5, 0, 255).astype(np.uint8)


def _lid_band(eye: int) -> tuple[np.ndarray, np.ndarray]:
    """(points, triangles) of an upper lid's band: the outer corner, the fold outer to inner, the
    inner corner, the lid's edge outer to inner (indices into the landmarks); a strip between
    the fold and the edge."""
    (outer, inner), fold, lid = EYE_CORNERS[eye], LID_FOLDS[eye], UPPER_LIDS[eye][LID_INNER]
    points = np.array([outer, *fold, inner, *lid])
    n = len(fold)
    f = 1 + np.arange(n)  # fold positions in `points`
    u = n + 2 + np.arange(n)  # lid edge positions
    triangles = [(0, f[0], u[0]), (f[-1], n + 1, u[-1])]
    for j in range(n - 1):
        triangles += [(f[j], f[j + 1], u[j]), (u[j], f[j + 1], u[j + 1])]
    return points, np.array(triangles, dtype=np.int32)


_LID_BANDS = tuple(_lid_band(eye) for eye in (0, 1))  # the same every frame


def lidded_eyes(image: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The portrait with each eye and its lash band (up to the lid's fold) painted over with the
    skin around it (cv2.inpaint, Telea): what a shut lid shows. And each eye's lash colour (the
    darkest LASH_SHARE of the band between lid edge and fold), for the line a shut eye keeps.

    A warp closes an eye by pulling the lid band down over the opening: the band is the lashes,
    the eyeliner and the shadow under the brow, so a shut eye was drawn as a dark almond of
    stretched lashes (d3's blinks: MediaPipe found the drawn eyes open at 0.5 of the real
    closing; a viewer sees half-closed eyes). A real lid unfolds skin over the eye."""
    points = landmarks[:, :2]
    height, width = image.shape[:2]
    mask = np.zeros((height, width), dtype=np.uint8)
    lashes = []
    for eye in (0, 1):
        outline = np.array([EYE_CORNERS[eye][0], *LID_FOLDS[eye], EYE_CORNERS[eye][1], *LOWER_LIDS[eye][LID_INNER][::-1]])
        cv2.fillPoly(mask, [np.round(points[outline] * 16).astype(np.int32)], 255, shift=4)
        band = np.zeros_like(mask)
        band_outline = np.array([EYE_CORNERS[eye][0], *LID_FOLDS[eye], EYE_CORNERS[eye][1], *UPPER_LIDS[eye][LID_INNER][::-1]])
        cv2.fillPoly(band, [np.round(points[band_outline] * 16).astype(np.int32)], 255, shift=4)
        pixels = image[band > 0].astype(np.float32)
        if len(pixels) >= 4:
            light = pixels.mean(axis=1)
            lashes.append(pixels[light <= np.percentile(light, LASH_SHARE)].mean(axis=0))
        else:
            lashes.append(np.zeros(3, dtype=np.float32))
    if not mask.any():
        return image, tuple(lashes)
    eye_width = float(np.linalg.norm(points[33] - points[133]))
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8), iterations=max(1, round(0.04 * eye_width)))
    ys, xs = np.nonzero(mask)
    pad = 8
    x0, y0 = max(0, xs.min() - pad), max(0, ys.min() - pad)
    x1, y1 = min(width, xs.max() + pad + 1), min(height, ys.max() + pad + 1)
    lidded = image.copy()
    inside = mask[y0:y1, x0:x1] > 0
    ring = cv2.dilate(mask, np.ones((3, 3), np.uint8), iterations=max(2, round(0.15 * eye_width)))[y0:y1, x0:x1] > 0
    ring &= ~inside
    crop = image[y0:y1, x0:x1]
    fill = mask[y0:y1, x0:x1].copy()
    if ring.sum() >= 8:
        # The fill continues the skin around the eye, not the lashes, brow hairs or a glasses' rim
        # that touch it: Telea carried them in as a dark smear over the shut lid (d9's left eye).
        grey = crop.astype(np.float32).mean(axis=2)
        low, mid = np.percentile(grey[ring], (25, 50))
        dark = ring & (grey < mid - max(LID_DARK, 2.0 * (mid - low)))
        fill[cv2.dilate(dark.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0] = 255
    region = cv2.inpaint(crop, fill, 3, cv2.INPAINT_TELEA).astype(np.float32)
    # Telea carries the outline's streaks inward (the lower lid's light rim drawn as a light bar
    # across the shut lid of s9): the lid is smoothed inside, the outline kept.
    depth = cv2.distanceTransform(inside.astype(np.uint8), cv2.DIST_L2, 3) / eye_width
    smooth = np.clip(depth / LID_SMOOTH, 0.0, 1.0)[..., None]
    region += smooth * (cv2.GaussianBlur(region, (0, 0), LID_SMOOTH * eye_width) - region)
    # A lid bulges over the eye and catches the light: the skin continued inward from the socket's
    # shadow (under the brow, the eye bags) drew a shut eye as a dark hollow that MediaPipe still
    # read as a little open (d3's blink, frames 59-61, her right eye: 0.05-0.06 of its width, the
    # real one 0.01-0.03; 0.025-0.035 lit). The painted lid takes LID_LIGHT of the light of the
    # lighter half of the skin around it (its own shading kept).
    if ring.sum() >= 8 and inside.any():
        around = crop[ring].astype(np.float32)
        light = around.mean(axis=1)
        target = around[light >= np.median(light)].mean(axis=0)
        # From nothing at the fold (the skin above it is the mesh's, unlit: a pale patch's edge
        # showed there) to all of it LID_LIGHT_RISE further in.
        rise = np.clip((depth - 0.04) / LID_LIGHT_RISE, 0.0, 1.0)
        rise = (rise * rise * (3.0 - 2.0 * rise))[..., None]
        region += LID_LIGHT * rise * (target - region[inside].mean(axis=0))
    lidded[y0:y1, x0:x1] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
    return lidded, tuple(lashes)


LID_DARK = 12.0  # levels under the skin's median: lashes, brows or a rim next to the eye, not skin
LID_LIGHT = 0.5  # share of the way the painted lid is lit up towards the lighter half of the skin around it
LID_LIGHT_RISE = 0.1  # eye widths inside the painted lid's outline over which that light comes in
LID_SMOOTH = 0.08  # eye widths: the painted lid's blur (and the depth inside its outline where it is whole)
LASH_WIDTH = 0.045  # eye widths: the dark line a shut eye keeps along its lid's edge
LASH_TAPER = 0.12  # eye widths from each corner over which the line fades in
LASH_OPACITY = 0.95
LASH_SHARE = 10  # percent: the lashes' colour is the darkest this share of the band between lid edge and fold
LASH_DROP = 0.25  # of the line's width: how far below the lids' meeting the lashes' line is centred
LID_ROLL = 0.15  # eye widths above the lash line over which the shut lid's skin rolls under (darkens)
LID_ROLL_DEPTH = 0.25  # ... darkening at the line
MARGIN_SHADOW = 0.12  # eye widths: the lashes' shadow on the lower lid below the line (Gaussian, 1/e)
MARGIN_SHADOW_DEPTH = 0.35  # ... darkening next to the line
SHUT_LIDS = (0.5, 0.9)  # share of the eye's opening closed where the skin starts / ends covering it


def draw_shut_lids(canvas: np.ndarray, portrait: Portrait, points: np.ndarray,
                   closed_eyes: tuple[float | None, float | None] | None = None) -> None:
    """Closing eyes' upper lids drawn as skin over the eye, in place: between the drawn fold and
    the drawn lid's edge, the lidded portrait (`lidded_eyes`), its lid edge sampled from as far
    down the eye as the eye has closed, so the skin unfolds over it; a dark lash line along the
    edge. Faded in as the eye closes (SHUT_LIDS): an open eye, an eye narrowed to half its
    opening (its iris still shows) and a still driver are the mesh's alone; a deep squint is
    partly covered."""
    height, width = canvas.shape[:2]
    source = portrait.landmarks[:, :2]
    if closed_eyes is None:
        closed_eyes = _eyes_closed(portrait, points)
    for eye, (corners, closed_share) in enumerate(zip(EYE_CORNERS, closed_eyes, strict=True)):
        if closed_share is None:
            continue
        closed = _unit(closed_share)
        x = _unit((closed - SHUT_LIDS[0]) / (SHUT_LIDS[1] - SHUT_LIDS[0]))
        if x <= 0.0:
            continue
        x = x * x * (3.0 - 2.0 * x)
        band, triangles = _LID_BANDS[eye]
        dest = points[band, :2].astype(np.float32)
        src = source[band].astype(np.float32).copy()
        n = len(LID_FOLDS[eye])
        lid = slice(n + 2, 2 * n + 2)
        # The edge samples the lidded eye as far down as the eye has closed (towards the lower lid).
        src[lid] += closed * (source[list(LOWER_LIDS[eye][LID_INNER])] - source[list(UPPER_LIDS[eye][LID_INNER])]).astype(np.float32)
        eye_width = float(np.linalg.norm(points[corners[0], :2] - points[corners[1], :2]))
        pad = 3 + int(LASH_WIDTH * eye_width)
        x0, y0 = np.floor(dest.min(axis=0)).astype(int) - pad
        x1, y1 = np.ceil(dest.max(axis=0)).astype(int) + pad + 1
        y1 += int(2.0 * MARGIN_SHADOW * eye_width)  # the lashes' shadow below the edge
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
        if x1 - x0 < 3 or y1 - y0 < 3:
            continue
        maps = piecewise_affine_maps(dest, src, triangles, (int(x0), int(y0), int(x1), int(y1)), grid_step=2)
        skin = maps.remap(portrait.lidded).astype(np.float32)
        local = (dest - [x0, y0]) * 16
        mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
        outline = np.concatenate([local[:n + 2], local[lid][::-1]])
        cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
        above = cv2.GaussianBlur(mask, (0, 0), 1.0).astype(np.float32) / 255.0  # the skin's side of the edge
        alpha = (above * x)[..., None]
        region = canvas[y0:y1, x0:x1].astype(np.float32)
        region = alpha * skin + (1.0 - alpha) * region
        # The lashes: a soft dark line along the drawn edge, thinning out towards the corners (a
        # pen-like stroke of even width ended in a hook at the outer corner).
        line = np.zeros_like(mask)
        thickness = max(1, round(LASH_WIDTH * eye_width))
        # Where the lids meet: the line's middle goes down towards the lower lid by up to half its
        # width, over the mesh's shut eye (a pixel-high crack that point-samples the iris and the
        # lids' wet rims: a blue and pink streak under d9's lashes).
        gap = (points[list(LOWER_LIDS[eye][LID_INNER]), :2] - points[list(UPPER_LIDS[eye][LID_INNER]), :2]).astype(np.float32)
        reach = np.linalg.norm(gap, axis=1, keepdims=True)
        meet = local[lid] + 16.0 * gap * np.minimum(0.5, 0.5 * thickness / np.maximum(reach, 1e-3))
        # A shut eye's lashes hang below the lid's margin: the line's middle sits LASH_DROP of its
        # width lower (face down: across the corners' line).
        across = dest[n + 1] - dest[0]
        down = np.array([-across[1], across[0]], dtype=np.float32) / max(1e-3, float(np.hypot(*across)))
        down *= np.sign(down[1]) if down[1] != 0 else 1.0
        meet += 16.0 * LASH_DROP * thickness * down
        edge = np.concatenate([local[[0]], meet, local[[n + 1]]])
        cv2.polylines(line, [np.round(edge).astype(np.int32)], False, 255, thickness, lineType=cv2.LINE_AA, shift=4)
        line = cv2.GaussianBlur(line, (0, 0), max(0.5, 0.4 * thickness)).astype(np.float32) / 255.0
        # (np.ogrid's values, broadcast as a full grid, without its index-trick parsing: 10-30 us.)
        yy, xx = np.arange(y0, y1)[:, None], np.arange(x0, x1)[None, :]
        ends = np.minimum(np.hypot(xx - dest[0, 0], yy - dest[0, 1]), np.hypot(xx - dest[n + 1, 0], yy - dest[n + 1, 1]))
        taper = np.clip(ends / max(1.0, LASH_TAPER * eye_width), 0.0, 1.0)
        # The lid's margin: its skin rolls under towards the lashes (darker over the last LID_ROLL
        # above the line) and the lashes shade the lower lid below it (MARGIN_SHADOW).
        trace = np.full_like(mask, 255)
        cv2.polylines(trace, [np.round(edge).astype(np.int32)], False, 0, 1, lineType=cv2.LINE_8, shift=4)
        distance = cv2.distanceTransform(trace, cv2.DIST_L2, 3) / max(1.0, eye_width)
        roll = np.clip(1.0 - distance / LID_ROLL, 0.0, 1.0) ** 2 * above
        shade = np.exp(-np.square(distance / MARGIN_SHADOW)) * (1.0 - above)
        # ... between the corners only (fading in over LASH_TAPER from each, along the eye).
        along = ((xx - dest[0, 0]) * across[0] + (yy - dest[0, 1]) * across[1]) / max(1e-3, float(across @ across))
        span = np.clip(np.minimum(along, 1.0 - along) * np.hypot(*across) / max(1.0, LASH_TAPER * eye_width), 0.0, 1.0)
        darken = 1.0 - x * span * (LID_ROLL_DEPTH * roll + MARGIN_SHADOW_DEPTH * shade)
        region *= darken[..., None]
        beta = (LASH_OPACITY * x * line * taper)[..., None]
        region = beta * portrait.lashes[eye] + (1.0 - beta) * region
        canvas[y0:y1, x0:x1] = np.clip(region + 0.5, 0, 255).astype(np.uint8)


def _pouting(portrait: Portrait, points: np.ndarray) -> float:
    """0-1: how far the drawn mouth has narrowed into a pout (POUT_NARROWING, as the cheeks follow
    it): the lips' light is taken from the driver's (`shade_lips`) on a pout and an open mouth
    (`_lips_lit`), not on a closed one. On every mouth,
    d10's distance to the real frames went down further (dlib, every frame: 0.244 -> 0.238; on a
    pout only: 0.241), but a talking or smiling driver's light on another face's lips moved the
    distance to the still portrait up by up to 0.007 (s9 by d3, s42 by d9) for no visible gain."""
    width = float(np.linalg.norm(portrait.landmarks[MOUTH_CORNERS[0], :2] - portrait.landmarks[MOUTH_CORNERS[1], :2]))
    if width <= 0.0:
        return 0.0
    narrowed = 1.0 - float(np.linalg.norm(points[MOUTH_CORNERS[0], :2] - points[MOUTH_CORNERS[1], :2])) / width
    x = _unit((narrowed - POUT_NARROWING[0]) / (POUT_NARROWING[1] - POUT_NARROWING[0]))
    return x * x * (3.0 - 2.0 * x)


DRIVER_COLOUR_AGE = 0.09  # s: the driver's skin colour (`face_colour` of the camera picture, the mouth interior's
# colour transfer: about 0.3 ms of a 720p frame with an open mouth, s37) is measured again after this long (every
# 3rd frame at 30 fps); between, the last measure. Held over 3 frames it is at most 1.4 LAB levels off each frame's
# own (d3; d6 1.9), within what it moves from one frame to the next (d3 up to 1.0, d6 3.0; s38-anim).

LIPS_LIT_OPENING = (0.002, 0.006)  # the mouth's opening beyond the portrait's (area / face size squared)
# where the driver's light on the lips starts / ends being laid on them (`shade_lips`)


def _lips_lit(portrait: Portrait, points: np.ndarray, pout: float) -> float:
    """0-1: how much of the driver's light on its lips is laid on the drawn ones (`shade_lips`): on a
    pout (`_pouting`: `pout`) and on a mouth opened (LIPS_LIT_OPENING) beyond the portrait's own.

    Opening the mouth rolls the upper lip up into the light; the warp stretched the portrait's
    resting upper lip, in its own shadow, over the talking mouth's (d10 driving its own frame 0, its
    open, unpouted frames 14-23, 28, 29: the upper lip 3.7 LAB levels off the real one's on average,
    darker on 11 of 12 frames; pasting the real frame's upper lip in, light and all, took dlib's
    distance to the real frames from 0.2365 to 0.2255, the most of any part of the mouth). Lifted
    by the driver's light, 1.4 levels; the distance 0.2339 (every frame; the frozen frame's 0.2163),
    every 5th frame 0.2466 -> 0.2448. An open mouth's lips are only lifted: darkened as well, the
    cross-reenactment's mouth correlation fell 0.903 -> 0.898 (s10 by d9 0.730 -> 0.696). Their
    inner rim is not lifted: the carved s6's painted dark line over d3's teeth came out grey (up to
    35 levels) and the mouth read less open (mouth r 0.831 -> 0.817; whole tree 0.9004, now 0.9022). On every
    mouth, a closed one included, d9 driving its own frame lost to the frozen frame (0.1010 ->
    0.1083, s27-d10anim): a closed mouth (opening under 0.002) is left as it was."""
    opened = mouth_opening(points[topology().inner_mouth, :2], portrait.face_size) - portrait.mouth_opening
    x = _unit((opened - LIPS_LIT_OPENING[0]) / (LIPS_LIT_OPENING[1] - LIPS_LIT_OPENING[0]))
    return max(pout, x * x * (3.0 - 2.0 * x))


class MeshAnimator:
    name = "mesh"

    def __init__(self, settings: Settings) -> None:
        self._settings: AnimateSettings = settings.animate
        self._source: SourceFace | None = None
        self._portrait: Portrait | None = None
        self._reference: np.ndarray | None = None  # the driver's neutral landmarks
        self._settling = 0  # frames left in which a driver near the reference replaces it
        self._anchor: np.ndarray | None = None  # the first landmarks after a calibration
        self._neutral: tuple[np.ndarray, np.ndarray, float] | None = None  # ... their picture, points, size
        self._calibration: Calibration | None = None
        self._calibration_count = settings.animate.calibration
        self._filter: OneEuroFilter | None = None
        self._last: np.ndarray | None = None
        self._last_points: np.ndarray | None = None
        self._eye_boxes: list[tuple[int, int, int, int]] = []
        self._lids = LidWatch()  # the driver's lids: a down glance told from a blink
        self._driver_colour: tuple[float, tuple[np.ndarray, np.ndarray]] | None = None  # (when, `face_colour`)
        self.configure(settings)

    # -- settings --------------------------------------------------------------------------------
    def configure(self, settings: Settings) -> None:
        new, old = settings.animate, self._settings
        if new.calibration != self._calibration_count:
            self._calibration_count = new.calibration
            self.recalibrate()
        if new.motion_mode != old.motion_mode:
            self._calibration = None  # re-fitted from the same reference on the next frame
        if new.portrait_size != old.portrait_size and self._source is not None:
            self._settings = new
            self.set_source(self._source)
        if new.motion_smoothing != old.motion_smoothing:
            self._filter = None
        self._settings = new

    def recalibrate(self) -> None:
        """Take the next driving face as the neutral reference."""
        self._reference = None
        self._neutral = None
        self._calibration = None
        self._filter = None
        self._lids = LidWatch()
        self._driver_colour = None

    def settled(self) -> bool:
        """The reference is taken and has settled (SETTLE_FRAMES driving faces after the first)."""
        return self._reference is not None and self._settling == 0

    def set_source(self, source: SourceFace) -> None:
        self._source = source
        self._portrait = Portrait(source, self._settings.portrait_size)
        self._calibration = None  # the same driver reference, re-fitted to this portrait
        self._filter = None
        self._last = None

    # -- per frame -------------------------------------------------------------------------------
    def animate(self, frame: Frame, faces: list[Face]) -> np.ndarray:
        portrait = self._portrait
        if portrait is None:
            return frame.image
        face = max(faces, key=lambda f: f.size) if faces else None
        if face is None:
            # No driver: hold the last pose rather than jump back to the still portrait.
            canvas = self._last if self._last is not None else portrait.to_output(portrait.image)
        else:
            canvas = portrait.to_output(self._render(frame, face, portrait))
            self._last = canvas
        return self._compose(canvas, frame.image)

    def _render(self, frame: Frame, face: Face, portrait: Portrait) -> np.ndarray:
        settings = self._settings
        if self._reference is None:
            # The countdown first: a batch chunk's capture thread asks `settled()` while this runs,
            # and a reference seen before its countdown read as settled (the chunk then skipped to
            # its overlap after 6 frames of the video's start and settled on other frames: 31 dB
            # against one run, tests/test_batch_animate.py).
            self._settling = SETTLE_FRAMES
            self._anchor = face.landmarks.astype(np.float64).copy()
            # The lips' light on the neutral face (`shade_lips`): the picture of the first landmarks,
            # whose lips the settling reference keeps (`settled_reference`).
            self._neutral = (frame.image.copy(), face.landmarks[:, :2].astype(np.float32), float(face.size))
            self._reference = self._anchor
        elif self._settling > 0:
            # The tracker's first landmarks (a fresh detection) sit a little off the ones it
            # settles on over the next frames (about 1 % in scale, half a degree, 9 % in the eyes'
            # opening, measured on a still face): taken as the neutral face for good, that offset
            # would read as motion. While the driver stays near it, the reference follows.
            # "Near" the first landmarks, not the last reference: compared with the last one, a
            # brow raise over a few frames passed step by step and became the neutral face (d10:
            # her brows raised 8 px by frame 4; every later frame's brows were drawn 4 px low).
            # The brows do not settle at all (`settled_reference`): a raise started within what
            # passes as "near" the first landmarks still became neutral.
            anchor = self._anchor if self._anchor is not None else self._reference
            if near(face.landmarks, anchor):
                self._reference = settled_reference(anchor, face.landmarks)
                self._calibration = None
            self._settling -= 1  # last: `settled()` is read on another thread
        if self._calibration is None:
            self._calibration = calibrate(self._reference, portrait.landmarks, settings.motion_mode)
        time_s = frame.pts if frame.pts is not None else frame.capture_ns / 1e9
        landmarks = transfer(face.landmarks, portrait.landmarks, self._calibration,
                             settings.motion_strength, settings.moving_parts, self._lids, time_s)
        if settings.motion_smoothing > 0:
            if self._filter is None:
                self._filter = OneEuroFilter(*smoothing_parameters(settings.motion_smoothing))
            landmarks = self._filter(landmarks, time_s, scale=portrait.face_size).astype(np.float64)
        points = moved_points(portrait.mesh, landmarks)
        _keep_iris_inside(points)
        self._last_points = portrait.output_points(points)  # the mesh as drawn, in the output's pixels (tests and
        # benchmarks look at it)
        canvas = self._warp(portrait, points, landmarks[:, 2])
        pout = _pouting(portrait, points)
        lit = _lips_lit(portrait, points, pout)
        if self._neutral is not None and settings.moving_parts in ("all", "expression") and \
                settings.motion_strength * lit > 0:
            neutral, neutral_points, neutral_size = self._neutral
            # An open mouth's lips are only lifted, and not along their inner edge (`_lips_lit`).
            shade_lips(canvas, points[:ALL_POINTS], portrait.face_size, frame.image, face.landmarks[:, :2],
                       neutral, neutral_points, neutral_size, settings.motion_strength * lit, pout / lit)
        self._fill_mouth(canvas, frame, face, portrait, points)
        return canvas

    def _warp(self, portrait: Portrait, points: np.ndarray, face_depth: np.ndarray) -> np.ndarray:
        mesh = portrait.mesh
        tiles = portrait.tiles
        if np.abs(points - mesh.points).max() <= _STILL and not tiles.drawn.any():
            return portrait.image.copy()
        depth = np.full(len(points), portrait.depth_far, dtype=np.float64)
        depth[:ALL_POINTS] = face_depth
        depth[MOUTH_CENTRE] = face_depth[topology().inner_mouth].mean()
        closed_eyes = _eyes_closed(portrait, points)
        sources = _lid_sources(portrait, points, closed_eyes)
        # The turned iris is drawn from the portrait's own iris centre (only the outline must
        # meet the mesh's sources).
        iris_sources = sources
        if sources is not mesh.points:
            iris_sources = sources.copy()
            iris_sources[[RIGHT_IRIS_CENTRE, LEFT_IRIS_CENTRE]] = mesh.points[[RIGHT_IRIS_CENTRE, LEFT_IRIS_CENTRE]]
        eyes = _rigid_irises(portrait, points, iris_sources)
        boxes = [eye[4] for eye in eyes]

        def override(x0: int, y0: int, map_x: np.ndarray, map_y: np.ndarray) -> None:
            height, width = map_x.shape
            for xs, ys, sample_x, sample_y, (ex0, ey0, ex1, ey1), _iris in eyes:
                if ex1 <= x0 or ex0 >= x0 + width or ey1 <= y0 or ey0 >= y0 + height:
                    continue
                keep = (xs >= x0) & (xs < x0 + width) & (ys >= y0) & (ys < y0 + height)
                # The tiles' maps are in the doubled picture's pixels (`TileWarp.render`).
                map_x[ys[keep] - y0, xs[keep] - x0] = 2.0 * sample_x[keep]
                map_y[ys[keep] - y0, xs[keep] - x0] = 2.0 * sample_y[keep]

        # The eyes' tiles are redrawn while an iris is turned and on the frame after (its
        # override gone, the mesh's own fan may differ from the drawing by less than REUSE).
        warped = tiles.render(points, sources, mesh.triangles, depth, boxes + self._eye_boxes,
                              override)
        self._eye_boxes = boxes
        canvas = warped.copy()
        if IRISES_SLIDE:
            draw_irises(canvas, portrait, eyes)
        draw_shut_lids(canvas, portrait, points, closed_eyes)
        return canvas

    def _fill_mouth(self, canvas: np.ndarray, frame: Frame, face: Face, portrait: Portrait,
                    points: np.ndarray) -> None:
        top = topology()
        mouth = points[top.inner_mouth].astype(np.float32)
        if interior_share(mouth, portrait.face_size, portrait.mouth_opening) <= 0.0:
            return  # a closed mouth: nothing to draw, and the driver's colour is not needed
        if self._settings.mouth_interior == "driver":
            driver_mouth = face.landmarks[top.inner_mouth, :2].astype(np.float32)
            matrix = driver_to_portrait_colour(self._driver_skin(frame, face), portrait.colour)
            draw_mouth_interior(canvas, mouth, portrait.face_size, portrait.lips_colour,
                                portrait.mouth_opening, frame.image, driver_mouth, face.size, matrix,
                                skin_lab=portrait.colour[0], moustache=portrait.moustache)
        else:
            draw_mouth_interior(canvas, mouth, portrait.face_size, portrait.lips_colour,
                                portrait.mouth_opening)

    def _driver_skin(self, frame: Frame, face: Face) -> tuple[np.ndarray, np.ndarray]:
        """The driver's skin colour (`face_colour`: the mouth interior's colour transfer), measured again once
        DRIVER_COLOUR_AGE has passed since it last was (or the clock went back), else the last measure."""
        now = frame.pts if frame.pts is not None else frame.capture_ns / 1e9
        last = self._driver_colour
        if last is None or not 0.0 <= now - last[0] < DRIVER_COLOUR_AGE:
            last = (now, face_colour(frame.image, face.landmarks))
            self._driver_colour = last
        return last[1]

    def _compose(self, canvas: np.ndarray, driver: np.ndarray) -> np.ndarray:
        if not self._settings.side_by_side:
            return canvas
        height = canvas.shape[0]
        width = max(1, round(driver.shape[1] * height / driver.shape[0]))
        return np.hstack([cv2.resize(driver, (width, height), interpolation=cv2.INTER_AREA), canvas])

    def close(self) -> None:
        self._source = None
        self._portrait = None
        self._last = None
