"""The portrait's warp, resampled once per frame, by tiles, only where it changed.

A full-picture remap of a 1280x720 portrait costs about 8 ms on one core and the bicubic face
another 7: over the whole animate budget on its own. Two things make it cheap:

- The source is the portrait upsampled 2x once (bicubic, interpolating: every even sample is the
  portrait's own pixel), and each frame samples it bilinearly. A bilinear sample at a half-pixel
  offset of the portrait itself is a [0.5, 0.5] blur (it took half or more of a painting's fine
  detail off a moving face); at twice the resolution the same step costs a quarter pixel, close to
  a bicubic resample, at the price of a bilinear one, on the whole picture alike (no sharper box
  around the face).
- The picture is cut into tiles. The warp's coordinate maps are piecewise linear, evaluated on a
  coarse grid (one sample per 4 px) over the whole picture each frame — cheap — and a tile is
  resampled only when its part of that grid moved by more than REUSE px since the tile was last
  drawn: hair and background far from the face move by hundredths of a pixel per frame and keep
  their last drawing. A tile whose grid does not move at all (under STILL px) shows the portrait's
  own pixels, so a still driver leaves the portrait pixel-identical. Where the picture is smooth
  (a blurred backdrop), both thresholds grow to what keeps every pixel within LEVELS grey levels.

The triangle of each grid cell is found for all triangles at once (barycentric tests over the
cells of each triangle's bounding box, the nearest triangle wins where a turned head folds over
itself), not one fill call per triangle.
"""

from __future__ import annotations

import cv2
import numpy as np

TILE = 64  # px, a multiple of STEP
STEP = 4  # px per coarse grid cell
CELLS = TILE // STEP
STILL = 0.1  # px: a tile whose map moves less than this from the identity is the portrait's own
BIG_TRIANGLE = 32  # grid cells in a triangle: filled by a call of its own
SLIVER = 8.0  # a triangle whose map magnifies more than this (Frobenius norm) moves with its centre
REUSE = 0.08  # px: a tile whose map moved less than this since it was drawn keeps its drawing
# ... or less than LEVELS / its steepness, where the picture it samples is smooth: a drawing
# sampled up to d px off the exact map differs from the exact one by at most d x the picture's
# steepest change there (levels per px, `steepness`). A blurred backdrop (a square portrait fitted
# into 16:9), soft hair or a cheek change by a level or two per pixel: their tiles keep their
# drawing, or the portrait's own pixels, while the map moves by up to LEVELS / steepness (at most
# MOST_KEPT px); sharp tiles keep REUSE and STILL. Every pixel stays within LEVELS (and the
# drawing's own rounding) of a fresh drawing.
LEVELS = 2.0  # grey levels
MOST_KEPT = 1.0  # px
BLOCK = 8  # px: the steepness is kept per block of the portrait ...
REACH = (2, 4, 8, 16, 32, 64, 128, 256, 512)  # px: ... and per tile, for these distances around it
BAND = 16  # rows of the drawing resampled per remap call (`_draw`)


def rasterise_ids(points: np.ndarray, triangles: np.ndarray, rank: np.ndarray,
                  shape: tuple[int, int]) -> np.ndarray:
    """int32 map (shape) of the triangle covering each cell centre (cell (i, j) at point (j, i)),
    -1 where none; where several cover a cell, the one of highest `rank` (T,: a permutation of
    0 .. T - 1) wins."""
    height, width = shape
    corners = points[triangles].astype(np.float64)  # (T, 3, 2)
    # Element-wise over the three corners: a reduction along a length-3 axis costs more.
    least = np.minimum(np.minimum(corners[:, 0], corners[:, 1]), corners[:, 2])
    most = np.maximum(np.maximum(corners[:, 0], corners[:, 1]), corners[:, 2])
    low = np.maximum(np.ceil(least - 1e-3), 0).astype(np.int64)
    high = np.minimum(np.floor(most + 1e-3), [width - 1, height - 1]).astype(np.int64)
    spans = np.maximum(high - low + 1, 0)
    counts = spans[:, 0] * spans[:, 1]
    ids = np.full(shape, -1, dtype=np.int32)
    # The few big triangles of the surroundings (a quarter of the picture between the last ring
    # and the border) are filled one call each, in rank order; the many small ones of the face
    # all at once below, over their bounding boxes.
    # Big by area, not by bounding box: a sliver (the far cheek squeezed on a turn) filled by
    # OpenCV gets every cell its outline touches, cells outside it where its map extrapolates
    # far; the test below keeps only the cells inside.
    twice_area = np.abs((corners[:, 1, 0] - corners[:, 0, 0]) * (corners[:, 2, 1] - corners[:, 0, 1])
                        - (corners[:, 1, 1] - corners[:, 0, 1]) * (corners[:, 2, 0] - corners[:, 0, 0]))
    big = np.nonzero(twice_area > 2 * BIG_TRIANGLE)[0]
    fixed = np.round(corners * 16).astype(np.int32)
    order = big[np.argsort(rank[big], kind="stable")]
    fill = cv2.fillConvexPoly  # positional arguments, one gather: a fifth less per call
    for polygon, index in zip(fixed[order], order.tolist(), strict=True):
        fill(ids, polygon, index, cv2.LINE_8, 4)
    counts[big] = 0
    total = int(counts.sum())
    if total == 0:
        return ids
    # Gathers by np.take, here and below: the same values as fancy indexing at a third of its cost
    # on these flat integer indices (numpy's general indexing path costs more than the copy).
    # The cells of each box row by row (triangle, then row, then column: the order a division of
    # each cell's running index by its box's width gives, without the division): the rows first,
    # then each row's cells.
    # ... taken in ascending rank (a permutation's inverse, by a scatter), so that every cell's
    # candidates come in rank order and the last one written to it is the highest-ranked (below).
    by_rank = np.empty_like(rank)
    by_rank[rank] = np.arange(len(rank))
    rows_of = np.take(np.where(counts > 0, spans[:, 1], 0), by_rank)
    row_owner = np.repeat(by_rank, rows_of)
    row_y = np.arange(len(row_owner)) - np.repeat(np.cumsum(rows_of) - rows_of, rows_of)
    row_y += np.take(low[:, 1], row_owner)
    row_width = np.take(spans[:, 0], row_owner)
    owner = np.repeat(row_owner, row_width)
    y = np.repeat(row_y, row_width)
    x = np.arange(total) - np.repeat(np.cumsum(row_width) - row_width, row_width)
    x += np.take(low[:, 0], owner)
    # Edge functions, signed so the inside is positive whatever the triangle's winding; a little
    # slack so cells on a shared edge belong to one side or the other, never to neither.
    # Each edge's normalised line equation (value = ax * x + ay * y + c) is set up once per
    # triangle, a cell gathers its three coefficients: the same values as the per-cell form
    # (e x (cell - p)) / |e| up to rounding far below the slack, at half the cost.
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    sign = np.where(area < 0, -1.0, 1.0)
    x_cell, y_cell = x.astype(np.float64), y.astype(np.float64)
    inside = np.ones(total, dtype=bool)
    for p, q in ((a, b), (b, c), (c, a)):
        ex = (q[:, 0] - p[:, 0]) * sign
        ey = (q[:, 1] - p[:, 1]) * sign
        length = np.maximum(np.hypot(ex, ey), 1e-9)
        value = np.take(-ey / length, owner) * x_cell
        value += np.take(ex / length, owner) * y_cell
        value += np.take((ey * p[:, 0] - ex * p[:, 1]) / length, owner)
        inside &= value >= -1e-3
    owner, cell = owner[inside], (y * width + x)[inside]
    if len(cell) == 0:
        return ids
    # The candidates that beat the big triangle under them (if any) written in ascending rank: where
    # several cover a cell, the highest-ranked is written last and stays (an integer-indexed
    # assignment writes in index order). No sort of the cells (a combined-key argsort and a pass
    # keeping each group's last: 0.2 ms on s42's 18 k candidate cells).
    flat = ids.reshape(-1)
    under = np.take(flat, cell)
    wins = (under < 0) | (np.take(rank, owner) > np.take(rank, np.maximum(under, 0)))
    flat[cell[wins]] = owner[wins]
    return ids


def triangle_affines(dst: np.ndarray, src: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """(T, 2, 3) affine maps taking each triangle's dst corners to its src corners (a flat
    triangle moves with its centre)."""
    return affine_columns(dst, src, triangles).T.reshape(-1, 2, 3)


def affine_columns(dst: np.ndarray, src: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """`triangle_affines` as six contiguous float32 rows (a00, a01, a02, a10, a11, a12; one column
    per triangle), the layout the per-cell gathers read.

    Element-wise on each coefficient (the inverse of [d1 d2] in closed form): the same numbers as
    the batched stack, matmul and einsum it replaced (bit for bit on s42's 1152 triangles), in
    about half the time (0.28 -> 0.16 ms)."""
    d = dst[triangles].astype(np.float64)
    s = src[triangles].astype(np.float64)
    d0x, d0y = d[:, 0, 0], d[:, 0, 1]
    d1x, d1y = d[:, 1, 0] - d0x, d[:, 1, 1] - d0y
    d2x, d2y = d[:, 2, 0] - d0x, d[:, 2, 1] - d0y
    s1x, s1y = s[:, 1, 0] - s[:, 0, 0], s[:, 1, 1] - s[:, 0, 1]
    s2x, s2y = s[:, 2, 0] - s[:, 0, 0], s[:, 2, 1] - s[:, 0, 1]
    det = d1x * d2y - d1y * d2x
    flat = np.abs(det) < 1e-3
    det = np.where(flat, 1.0, det)
    # Rows of the inverse of [d1 d2] (columns), then [s1 s2] times it.
    i00, i01, i10, i11 = d2y / det, -d2x / det, -d1y / det, d1x / det
    a00, a01 = s1x * i00 + s2x * i10, s1x * i01 + s2x * i11
    a10, a11 = s1y * i00 + s2y * i10, s1y * i01 + s2y * i11
    # A triangle squeezed to a sliver (the far cheek on a turn) has an affine that magnifies
    # tenfold and more: the grid cells its outline touches just outside it sampled the dark
    # background beyond the cheek (round black dots along the jaw). It moves with its centre.
    flat |= np.sqrt(a00 * a00 + a01 * a01 + a10 * a10 + a11 * a11) > SLIVER
    a00, a01 = np.where(flat, 1.0, a00), np.where(flat, 0.0, a01)
    a10, a11 = np.where(flat, 0.0, a10), np.where(flat, 1.0, a11)
    columns = np.empty((6, len(triangles)), dtype=np.float32)
    columns[0], columns[1], columns[3], columns[4] = a00, a01, a10, a11
    columns[2] = s[:, 0, 0] - (a00 * d0x + a01 * d0y)
    columns[5] = s[:, 0, 1] - (a10 * d0x + a11 * d0y)
    if flat.any():
        columns[2, flat] = s[flat, :, 0].mean(axis=1) - d[flat, :, 0].mean(axis=1)
        columns[5, flat] = s[flat, :, 1].mean(axis=1) - d[flat, :, 1].mean(axis=1)
    return columns


class TileWarp:
    """The portrait warped by a mesh, drawn tile by tile, keeping what did not change."""

    def __init__(self, image: np.ndarray) -> None:
        self.image = image
        height, width = image.shape[:2]
        self.height, self.width = height, width
        ys, xs = np.mgrid[0:2 * height, 0:2 * width].astype(np.float32) / 2.0
        self.double = cv2.remap(image, xs, ys, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101)
        self.tiles_y, self.tiles_x = -(-height // TILE), -(-width // TILE)
        # Coarse grid: cell j sits at x = -STEP + (j + 0.5) * STEP - 0.5, read back exactly by a
        # STEP x upsampling (cv2.resize, half-pixel centres); one extra cell around each tile.
        self.grid_w, self.grid_h = self.tiles_x * CELLS + 2, self.tiles_y * CELLS + 2
        self.grid_x = (-STEP + (np.arange(self.grid_w, dtype=np.float32) + 0.5) * STEP - 0.5)
        self.grid_y = (-STEP + (np.arange(self.grid_h, dtype=np.float32) + 0.5) * STEP - 0.5)
        self.warped = image.copy()
        self.drawn = np.zeros((self.tiles_y, self.tiles_x), dtype=bool)  # False: the portrait's own
        self.drawn_x = np.zeros((self.tiles_y, self.tiles_x, CELLS + 2, CELLS + 2), dtype=np.float32)
        self.drawn_y = np.zeros_like(self.drawn_x)
        self.tiles_drawn = 0  # in the last frame (benchmarks look at it)
        self._covered: np.ndarray | None = None  # the coarse cells inside a triangle, last computed
        self._nearest = np.zeros((0, 0), dtype=np.intp)  # ... and each cell's nearest covered one
        self.steep = self.steepness()

    def steepness(self) -> np.ndarray:
        """(len(REACH) + 1, tiles_y, tiles_x): how steep the doubled picture is within REACH[k] px
        of each tile (the last: anywhere), in levels per portrait px: twice the largest step
        between neighbours along x plus the largest along y, of any channel. A bilinear sample
        moved by d px (either axis) changes by at most this x d."""
        double = self.double
        step_x = cv2.absdiff(double[:, 1:], double[:, :-1])  # (uint8, per channel)
        step_y = cv2.absdiff(double[1:], double[:-1])
        side = 2 * BLOCK  # doubled pixels per block
        blocks_y, blocks_x = self.tiles_y * (TILE // BLOCK), self.tiles_x * (TILE // BLOCK)

        def most(step: np.ndarray) -> np.ndarray:
            # Each block's largest step (a step across a block's edge counts in the block above
            # or left of it: every reach covers the blocks beside the tile's).
            whole = np.zeros((blocks_y * side, blocks_x * side, 3), dtype=np.uint8)
            whole[:step.shape[0], :step.shape[1]] = step
            return whole.reshape(blocks_y, side, blocks_x, side * 3).max(axis=(1, 3)).astype(np.float32)

        most_x, most_y = most(step_x), most(step_y)
        block = (2.0 * (most_x + most_y)).astype(np.float32)
        per_tile = TILE // BLOCK
        steep = np.empty((len(REACH) + 1, self.tiles_y, self.tiles_x), dtype=np.float32)
        for index, reach in enumerate(REACH):
            around = -(-reach // BLOCK)
            grown = cv2.dilate(block, np.ones((2 * around + 1, 2 * around + 1), np.uint8),
                               borderType=cv2.BORDER_REPLICATE)
            steep[index] = grown.reshape(self.tiles_y, per_tile, self.tiles_x, per_tile).max(axis=(1, 3))
        steep[-1] = block.max()
        return steep

    def _tolerance(self, shift: np.ndarray) -> np.ndarray:
        """(tiles_y, tiles_x) px: how far each tile's map may be from the one it is drawn with
        (LEVELS / steepness, at most MOST_KEPT), for tiles whose map is at most `shift` px from
        the identity: it samples the picture within shift + MOST_KEPT + 1 px of itself."""
        index = np.searchsorted(REACH, shift + (MOST_KEPT + 1.0))
        steep = np.take_along_axis(self.steep, index[None], axis=0)[0]
        return np.minimum(LEVELS / np.maximum(steep, 1e-6), MOST_KEPT)

    def coarse_maps(self, dst: np.ndarray, src: np.ndarray, triangles: np.ndarray,
                    depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        local = (dst[:, :2] - [self.grid_x[0], self.grid_y[0]]) / STEP
        # Each triangle's rank in the back-to-front order: the inverse of the sorting permutation,
        # written by a scatter (a second argsort gave the same); the mean depth of the corners
        # summed in the order numpy's mean adds a length-3 axis (the same values, the same ties).
        corner_depth = depth[triangles]
        mean_depth = (corner_depth[:, 0] + corner_depth[:, 1] + corner_depth[:, 2]) / 3.0
        order = np.argsort(-mean_depth, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        ids = rasterise_ids(local, triangles, rank, (self.grid_h, self.grid_w))
        covered = ids >= 0
        if not covered.all():
            if not covered.any():
                ids = np.zeros_like(ids)
            else:
                # Cells outside every triangle (around the border) take the nearest triangle's map.
                # The labels depend on the covered cells alone, which stay the same from frame to
                # frame (the fixed border's ring): computed again only when they change.
                if self._covered is None or not np.array_equal(self._covered, covered):
                    _, labels = cv2.distanceTransformWithLabels(
                        (~covered).astype(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL)
                    # The labels number the covered cells in row order: each cell's nearest one
                    # as a flat index (no boolean gather of the covered cells every frame).
                    self._nearest = np.take(np.flatnonzero(covered), labels - 1)
                    self._covered = covered
                ids = np.take(ids, self._nearest)
        # Each coefficient gathered on its own from a contiguous column: the strided views of one
        # (H, W, 2, 3) gather cost twice as much.
        affines = affine_columns(dst[:, :2], src[:, :2], triangles)
        gx, gy = self.grid_x[None, :], self.grid_y[:, None]
        map_x = np.take(affines[0], ids) * gx
        map_x += np.take(affines[1], ids) * gy
        map_x += np.take(affines[2], ids)
        map_y = np.take(affines[3], ids) * gx
        map_y += np.take(affines[4], ids) * gy
        map_y += np.take(affines[5], ids)
        return map_x, map_y

    def _window_max(self, grid: np.ndarray) -> np.ndarray:
        """(tiles_y, tiles_x): the maximum of `grid` over each tile's cells and the one extra cell
        around it (rows/columns CELLS*t .. CELLS*t + CELLS + 1), as `_windows(grid).max(axis=(2, 3))`
        but by blocks: a reduction over the strided 4-D windows cost more than the rest of the
        frame's bookkeeping."""
        ty, tx = self.tiles_y, self.tiles_x
        rows = grid[:ty * CELLS].reshape(ty, CELLS, -1).max(axis=1)
        rows = np.maximum(rows, np.maximum(grid[CELLS::CELLS][:ty], grid[CELLS + 1::CELLS][:ty]))
        cols = rows[:, :tx * CELLS].reshape(ty, tx, CELLS).max(axis=2)
        return np.maximum(cols, np.maximum(rows[:, CELLS::CELLS][:, :tx], rows[:, CELLS + 1::CELLS][:, :tx]))

    def _windows(self, grid: np.ndarray) -> np.ndarray:
        return np.lib.stride_tricks.sliding_window_view(grid, (CELLS + 2, CELLS + 2))[::CELLS, ::CELLS]

    def strip_maps(self, ty: int, tx0: int, tx1: int, map_x: np.ndarray,
                   map_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The full-resolution maps of tiles tx0..tx1-1 of row ty (in the coarse maps' units), cut to the
        picture (the same values tile by tile: each pixel reads only its neighbouring cells)."""
        rows = slice(ty * CELLS, ty * CELLS + CELLS + 2)
        cols = slice(tx0 * CELLS, tx1 * CELLS + 2)
        size = ((tx1 - tx0) * CELLS * STEP + 2 * STEP, (CELLS + 2) * STEP)
        h = min(TILE, self.height - ty * TILE)
        w = min((tx1 - tx0) * TILE, self.width - tx0 * TILE)
        fine_x = cv2.resize(map_x[rows, cols], size, interpolation=cv2.INTER_LINEAR)[STEP:STEP + h, STEP:STEP + w]
        fine_y = cv2.resize(map_y[rows, cols], size, interpolation=cv2.INTER_LINEAR)[STEP:STEP + h, STEP:STEP + w]
        return fine_x, fine_y

    def render(self, dst: np.ndarray, src: np.ndarray, triangles: np.ndarray, depth: np.ndarray,
               always: list[tuple[int, int, int, int]], override) -> np.ndarray:
        """The warped portrait (the same array every frame: copy it before drawing on it).

        always: picture boxes (x0, y0, x1, y1) whose tiles are redrawn whenever they moved at all
        (the eyes, whose maps `override(x0, y0, map_x, map_y)` rewrites in place beyond the mesh;
        those maps are in the doubled picture's pixels: twice the portrait's coordinates).
        """
        # The boxes' tiles (the eyes: their irises turn beyond the mesh) keep STILL and are
        # redrawn whenever they moved; the others are kept within their tolerance.
        eyes = np.zeros((self.tiles_y, self.tiles_x), dtype=bool)
        for x0, y0, x1, y1 in always:
            eyes[max(0, y0 // TILE):max(0, (y1 - 1) // TILE) + 1, max(0, x0 // TILE):max(0, (x1 - 1) // TILE) + 1] = True
        map_x, map_y = self.coarse_maps(dst, src, triangles, depth)
        # The doubled picture's coordinates (x -> 2x) on the coarse grid, not per pixel: the
        # linear upsampling commutes with the exact doubling, the same maps at 1/16 of the cost.
        double_x, double_y = map_x * 2.0, map_y * 2.0
        off = np.subtract(map_x, self.grid_x[None, :])
        np.abs(off, out=off)
        off_y = np.subtract(map_y, self.grid_y[:, None])
        np.abs(off_y, out=off_y)
        shift = self._window_max(np.maximum(off, off_y, out=off))
        tolerance = np.maximum(self._tolerance(shift), REUSE)
        moved = shift >= np.where(eyes, STILL, np.maximum(tolerance, STILL))
        win_x, win_y = self._windows(map_x), self._windows(map_y)
        # How far a drawn tile's map moved since its drawing matters only for the tiles that moved
        # at all: taken over those alone (a still background costs nothing).
        redraw = (moved & ~self.drawn) | eyes
        ty, tx = np.nonzero(moved & self.drawn & ~eyes)
        if len(ty):
            # In place on the gathered windows (no temporaries of their size).
            off = win_x[ty, tx]
            off -= self.drawn_x[ty, tx]
            np.abs(off, out=off)
            other = win_y[ty, tx]
            other -= self.drawn_y[ty, tx]
            np.abs(other, out=other)
            np.maximum(off, other, out=off)
            changed = off.reshape(len(ty), -1).max(axis=1) >= tolerance[ty, tx]
            redraw[ty[changed], tx[changed]] = True
        redraw &= moved
        restore = self.drawn & ~moved
        for ty, tx in zip(*np.nonzero(restore), strict=True):
            part = np.s_[ty * TILE:(ty + 1) * TILE, tx * TILE:(tx + 1) * TILE]
            self.warped[part] = self.image[part]
        self.drawn &= moved
        # Neighbouring tiles of a row to redraw are drawn in one call (a call per tile cost more
        # in overhead than in pixels). The runs of every row found at once, in row order (a
        # np.r_ per row cost more than all the rest of the bookkeeping).
        padded = np.zeros((self.tiles_y, self.tiles_x + 2), dtype=np.int8)
        padded[:, 1:-1] = redraw
        step = np.diff(padded, axis=1)
        starts_y, starts_x = np.nonzero(step == 1)
        ends_x = np.nonzero(step == -1)[1]
        for ty, tx0, tx1 in zip(starts_y.tolist(), starts_x.tolist(), ends_x.tolist(), strict=True):
            self._draw(ty, tx0, tx1, double_x, double_y, override)
        # The drawn tiles' windows kept in one gather each (a slice assignment per run cost more).
        ty, tx = np.nonzero(redraw)
        self.drawn_x[ty, tx] = win_x[ty, tx]
        self.drawn_y[ty, tx] = win_y[ty, tx]
        self.drawn |= redraw
        self.tiles_drawn = len(ty)
        return self.warped

    def _draw(self, ty: int, tx0: int, tx1: int, map_x: np.ndarray, map_y: np.ndarray, override) -> None:
        """Tiles tx0..tx1-1 of row ty resampled; map_x, map_y: the coarse maps in the doubled
        picture's pixels."""
        fine_x, fine_y = self.strip_maps(ty, tx0, tx1, map_x, map_y)
        y0, x0 = ty * TILE, tx0 * TILE
        override(x0, y0, fine_x, fine_y)
        # The picture's outermost rows and columns are pinned (the mesh's border does not move;
        # the coarse grid only approximates that within its cells).
        h, w = fine_x.shape
        # (In the doubled picture's pixels: even samples are the portrait's pixels, x -> 2x.)
        if y0 == 0:
            fine_x[0], fine_y[0] = np.arange(2 * x0, 2 * (x0 + w), 2, dtype=np.float32), 0.0
        if y0 + h == self.height:
            fine_x[-1], fine_y[-1] = np.arange(2 * x0, 2 * (x0 + w), 2, dtype=np.float32), 2.0 * (self.height - 1)
        if x0 == 0:
            fine_x[:, 0], fine_y[:, 0] = 0.0, np.arange(2 * y0, 2 * (y0 + h), 2, dtype=np.float32)
        if x0 + w == self.width:
            fine_x[:, -1], fine_y[:, -1] = 2.0 * (self.width - 1), np.arange(2 * y0, 2 * (y0 + h), 2, dtype=np.float32)
        # Written in place (a view of the drawing: no temporary picture and copy), BAND rows a call:
        # the same pixels (each one reads only its own map entry), in 12 % less time than the
        # tiles' 64 rows in one call (32 rows: 7 %, 8 rows: 10 %; s42 by d3, replayed strips).
        # OpenCV remaps a call by blocks of up to 128 rows and 16 k pixels: 64 rows are read as
        # blocks of 64 x 256 pixels, each sampling 128 rows of the doubled picture 7.5 kB apart,
        # 16 rows as blocks of 16 x up to 1024, each sampling 32 rows four times as long.
        for top in range(0, h, BAND):
            bottom = min(h, top + BAND)
            cv2.remap(self.double, fine_x[top:bottom], fine_y[top:bottom], cv2.INTER_LINEAR,
                      dst=self.warped[y0 + top:y0 + bottom, x0:x0 + w], borderMode=cv2.BORDER_REFLECT101)
