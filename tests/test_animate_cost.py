"""The animate stage's work per frame, counted (not timed: the machine is shared): what does not
change from frame to frame is not computed again, and the pictures stay the same to the bit."""

from __future__ import annotations

import numpy as np
import pytest


def _mesh(rng: np.random.Generator):
    centres = rng.uniform([20, 20], [240, 180], size=(120, 2))
    spread = rng.choice([6.0, 30.0], size=(120, 1, 1))
    dst = (centres[:, None] + spread * rng.normal(0, 1, size=(120, 3, 2))).reshape(-1, 2)
    return dst, np.arange(len(dst), dtype=np.int32).reshape(-1, 3)


def test_the_cells_outside_the_mesh_are_labelled_once_while_they_stay_the_same(monkeypatch):
    """The coarse grid's cells outside every triangle take their nearest covered cell's map (a
    distance transform over the whole grid, a quarter of a millisecond at 720p). Those cells are
    the same from frame to frame while the mesh's outline stays: over five frames of a moving
    mesh inside a fixed outline the transform runs once, and every frame's maps are those a fresh
    warp computes."""
    import cv2

    from realtime.animate import tiles

    rng = np.random.default_rng(23)
    dst, triangles = _mesh(rng)
    depth = np.round(rng.uniform(0, 3, size=len(dst)))
    calls = []
    original = cv2.distanceTransformWithLabels

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    warp = tiles.TileWarp(np.zeros((200, 260, 3), dtype=np.uint8))
    frames = [dst + rng.normal(0, 1.5, size=dst.shape) for _ in range(5)]  # the sources move
    expected = [tiles.TileWarp(np.zeros((200, 260, 3), dtype=np.uint8)).coarse_maps(dst, src, triangles, depth)
                for src in frames]
    monkeypatch.setattr(cv2, "distanceTransformWithLabels", counted)
    for src, (want_x, want_y) in zip(frames, expected, strict=True):
        map_x, map_y = warp.coarse_maps(dst, src, triangles, depth)
        np.testing.assert_array_equal(map_x, want_x)
        np.testing.assert_array_equal(map_y, want_y)
    assert len(calls) == 1
    warp.coarse_maps(dst, frames[0], triangles[:40], depth)  # another outline: labelled again
    assert len(calls) == 2


def _driver(seed: int, frames: int):
    """(reference, portrait, calibration, driver frames, their transfer measured afresh): a random
    face and its noisy frames; the fresh transfer takes a new copy of the reference each frame
    (nothing kept, everything measured again)."""
    from dataclasses import replace

    from realtime.animate import motion

    rng = np.random.default_rng(seed)
    reference = rng.normal(0, 1, size=(478, 3)) * [40, 50, 10] + [320, 240, 0]
    portrait = reference * 1.3 + [10, -5, 0]
    calibration = motion.calibrate(reference, portrait, "relative")
    drivers = [reference + rng.normal(0, 0.8, size=reference.shape) for _ in range(frames)]
    fresh = [motion.transfer(driver, portrait, replace(calibration, reference=calibration.reference.copy()),
                             lids=motion.LidWatch(), time_s=0.0) for driver in drivers]
    return portrait, calibration, drivers, fresh


def _count_reference_measures(monkeypatch, calibrations) -> list[int]:
    """Per calibration, how many times an eye of its reference is measured from now on."""
    from realtime.animate import motion

    counts = [0] * len(calibrations)
    original = motion._eye_frame

    def counted(points, corners):
        for index, calibration in enumerate(calibrations):
            counts[index] += points is calibration.reference
        return original(points, corners)

    monkeypatch.setattr(motion, "_eye_frame", counted)
    return counts


def test_the_driver_s_neutral_eyes_are_measured_once_not_every_frame(monkeypatch):
    """The motion transfer measures the driver's eyes (opening, gaze) on this frame and on its
    neutral reference; the reference's stay the same until the next calibration (start: eight
    measures of the reference per frame). Over ten frames of a driver the reference's eyes are
    measured on the first frame only, and the landmarks drawn are those of a transfer that
    measures everything afresh."""
    from realtime.animate import motion

    portrait, calibration, drivers, fresh = _driver(5, 10)
    measured = _count_reference_measures(monkeypatch, [calibration])
    for driver, want in zip(drivers, fresh, strict=True):
        np.testing.assert_array_equal(motion.transfer(driver, portrait, calibration, lids=motion.LidWatch(),
                                                      time_s=0.0), want)
    assert measured == [2]  # the reference's two eyes, on the first frame only


def test_two_drivers_animated_in_turn_each_keep_their_reference_s_measures(monkeypatch):
    """Two animators in one process (two engines, or two portraits driven in turn) each hold a
    calibration. The reference's measures are kept on the calibration, not in one module-wide
    slot that the other driver's frame takes over (start: the slot swapped every frame, and each
    reference's eyes were measured again on every frame, 2 x 10 per driver here). Driven in turn
    over ten frames, each reference is measured once, and each driver's landmarks are those of a
    transfer that measures everything afresh."""
    from realtime.animate import motion

    first, second = _driver(5, 10), _driver(6, 10)
    measured = _count_reference_measures(monkeypatch, [first[1], second[1]])
    for frame in range(10):
        for portrait, calibration, drivers, fresh in (first, second):
            np.testing.assert_array_equal(motion.transfer(drivers[frame], portrait, calibration,
                                                          lids=motion.LidWatch(), time_s=0.0), fresh[frame])
    assert measured == [2, 2]
    assert not [name for name, value in vars(motion).items() if isinstance(value, motion.ReferenceMeasures)
                or (isinstance(value, dict) and name.startswith("_") and not name.startswith("__"))]  # none module-wide


def _grid_mesh(height: int, width: int, spacing: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(points, triangles): a regular triangulated grid over a height x width picture, its last
    row and column on the picture's edge."""
    ys, xs = np.mgrid[0:height + 1:spacing, 0:width + 1:spacing]
    points = np.stack([np.minimum(xs, width - 1), np.minimum(ys, height - 1)], axis=-1).reshape(-1, 2).astype(np.float64)
    rows, cols = xs.shape
    corner = (np.arange(rows - 1)[:, None] * cols + np.arange(cols - 1)[None, :]).ravel()
    triangles = np.concatenate([np.stack([corner, corner + 1, corner + cols], axis=1),
                                np.stack([corner + 1, corner + cols + 1, corner + cols], axis=1)]).astype(np.int32)
    return points, triangles


def no_boxes(*_args) -> None:
    """No eye box overrides the tile warp's maps."""
    return None


def test_a_smooth_backdrop_keeps_its_drawing_within_two_levels_of_a_fresh_one(monkeypatch):
    """A square portrait fitted into a 16:9 picture sits on a blurred backdrop, which the mesh's
    surroundings carry along with the head by fractions of a pixel per frame. Where the picture
    changes by a level or two per pixel, such a tile keeps its drawing until its map has moved
    by LEVELS / steepness (start: redrawn whenever it moved by REUSE, 0.08 px): over twelve
    frames of a 0.15 px per frame drift the smooth half's tiles are redrawn at most a third as
    often as the sharp half's, and every pixel of the smooth half stays within LEVELS + 1 grey
    levels of a fresh drawing of the same frame (+1: the drawing's own rounding)."""
    import cv2

    from realtime.animate import tiles

    height, width = 256, 512
    rng = np.random.default_rng(7)
    picture = np.empty((height, width, 3), dtype=np.uint8)
    ramp = np.linspace(60, 120, width // 2)[None, :, None] + np.linspace(0, 40, height)[:, None, None]
    picture[:, :width // 2] = np.clip(ramp + cv2.GaussianBlur(rng.normal(0, 20, (height, width // 2, 3)),
                                                              (0, 0), 12), 0, 255).astype(np.uint8)
    picture[:, width // 2:] = rng.integers(0, 256, size=(height, width // 2, 3), dtype=np.uint8)
    dst, triangles = _grid_mesh(height, width)
    inner = (dst[:, 0] > 0) & (dst[:, 0] < width - 1) & (dst[:, 1] > 0) & (dst[:, 1] < height - 1)
    depth = np.zeros(len(dst))
    frames = [dst + inner[:, None] * [0.15 * (index + 1) + 0.6, 0.1 * index] for index in range(12)]

    with monkeypatch.context() as fresh:  # every tile drawn anew from the exact maps
        fresh.setattr(tiles, "STILL", -1.0)
        fresh.setattr(tiles, "REUSE", -1.0)
        exact = [tiles.TileWarp(picture).render(dst, src, triangles, depth, [], no_boxes).copy() for src in frames]
    warp = tiles.TileWarp(picture)
    drawn = np.zeros((warp.tiles_y, warp.tiles_x), dtype=int)
    worst = 0
    for src, want in zip(frames, exact, strict=True):
        before = warp.warped.copy()
        out = warp.render(dst, src, triangles, depth, [], no_boxes)
        changed = np.abs(out.astype(int) - before).reshape(warp.tiles_y, tiles.TILE, warp.tiles_x, tiles.TILE, 3)
        drawn += changed.max(axis=(1, 3, 4)) > 0
        worst = max(worst, int(np.abs(out[:, :width // 2 - tiles.TILE].astype(int) - want[:, :width // 2 - tiles.TILE]).max()))
    half = warp.tiles_x // 2
    smooth, sharp = drawn[:, :half - 1].sum(), drawn[:, half:].sum()
    assert sharp >= 12 * (warp.tiles_x - half) * warp.tiles_y - warp.tiles_y, drawn  # redrawn every frame
    assert smooth * 3 <= sharp * (half - 1) / (warp.tiles_x - half), drawn
    assert worst <= tiles.LEVELS + 1, worst


def _talking_lips(d9_frame):
    """d9's frame 0 as the portrait and the neutral driver, and a driver whose mouth opened a little
    with its lips lit up (their light 1.3 times): what `mouth.shade_lips` lays on the portrait."""
    import cv2

    from realtime.animate.motion import LOWER_LIP_RINGS, UPPER_LIP_RINGS

    image, face = d9_frame
    points = face.landmarks[:, :2].astype(np.float32)
    driver_points = points.copy()
    driver_points[np.ravel(LOWER_LIP_RINGS)] += [0.0, 4.0]
    lips = np.zeros(image.shape[:2], dtype=np.uint8)
    outline = np.concatenate([points[list(UPPER_LIP_RINGS[-1])], points[list(LOWER_LIP_RINGS[-1])][::-1]])
    cv2.fillPoly(lips, [np.round(outline * 16).astype(np.int32)], 255, shift=4)
    lit = cv2.GaussianBlur(lips, (0, 0), 3).astype(np.float32)[..., None] / 255.0
    driver = np.clip(image * (1.0 + 0.3 * lit), 0, 255).astype(np.uint8)
    size = float(np.hypot(*(points.max(axis=0) - points.min(axis=0))))
    return image, points, driver, driver_points, size


def test_the_lips_shading_warps_both_faces_through_one_rasterised_mesh(d9_frame, monkeypatch):
    """The lips' light (`mouth.shade_lips`) warps the driver's lips now and on its neutral face
    through the same drawn mesh: its 160 triangles are rasterised once, not once per face (start:
    twice, a third of the function's time), and the lips drawn are those of two separate warps to
    the bit."""
    from realtime.animate import mouth
    from realtime.faces import warp

    image, points, driver, driver_points, size = _talking_lips(d9_frame)

    def separately(dst, sources, triangles, box, depth=None, grid_step=4):
        return [warp.piecewise_affine_maps(dst, src, triangles, box, depth, grid_step) for src in sources]

    with monkeypatch.context() as patch:
        patch.setattr(mouth, "piecewise_affine_maps_from", separately)
        want = image.copy()
        assert mouth.shade_lips(want, points, size, driver, driver_points, image, points, size)
    calls = []
    original = warp.rasterise_ids

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(warp, "rasterise_ids", counted)
    drawn = image.copy()
    assert mouth.shade_lips(drawn, points, size, driver, driver_points, image, points, size)
    assert len(calls) == 1
    np.testing.assert_array_equal(drawn, want)
    assert np.abs(drawn.astype(int) - image).max() > 10  # the lips were lit


def test_the_lips_light_ceiling_blurred_at_a_reduced_size_draws_what_the_full_blur_draws(d9_frame, monkeypatch):
    """The ceiling a lit lip may reach (the portrait's light round the mouth, a blur of 0.03 face
    sizes: 11 px on d9's 380 px face, 21 px on a 720p portrait's) is blurred at a reduced size
    (`kernels.wide_blur`): the lips drawn stay within a grey level of those the full-size blur
    draws, and the lifted lips are the same to within a level on 99.9 % of their pixels."""
    import cv2

    from realtime.animate import mouth

    image, points, driver, driver_points, size = _talking_lips(d9_frame)
    with monkeypatch.context() as patch:
        patch.setattr(mouth, "wide_blur", lambda picture, sigma: cv2.GaussianBlur(picture, (0, 0), sigma))
        want = image.copy()
        mouth.shade_lips(want, points, size, driver, driver_points, image, points, size)
    drawn = image.copy()
    mouth.shade_lips(drawn, points, size, driver, driver_points, image, points, size)
    difference = np.abs(drawn.astype(int) - want)
    assert np.abs(want.astype(int) - image).max() > 10
    assert difference.max() <= 2, difference.max()
    assert np.percentile(difference, 99.9) <= 1


def test_the_driver_s_skin_colour_from_a_whole_factor_shrink_is_the_fractional_one_s(d9_frame):
    """The driver's skin colour (`mouth.face_colour`: LAB mean and spread inside the face oval, on
    the face shrunk to at most 96 px) is taken on a whole-factor shrink, a box average (start: a
    fractional INTER_AREA to exactly 96 px, 0.45 of its 0.6 ms on a 720p face): on d9's face at
    its own size and enlarged to a 720p face's, the mean stays within half a level and the spread
    within a level of the fractional shrink's, so the mouth's colour match does not move."""
    import cv2

    from realtime.animate import mouth
    from realtime.blend.color import lab_statistics
    from realtime.faces.topology import topology

    image, face = d9_frame
    top = topology()
    for scale in (1.0, 1.27):
        picture = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        points = face.landmarks[:, :2] * scale
        x0, y0 = np.floor(points.min(axis=0)).astype(int)
        x1, y1 = np.ceil(points.max(axis=0)).astype(int) + 1
        factor = min(1.0, 96 / max(x1 - x0, y1 - y0))
        crop = cv2.resize(picture[y0:y1, x0:x1], None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        local = ((points - [x0, y0]) * factor * 16).astype(np.int32)
        region = np.zeros(crop.shape[:2], dtype=np.uint8)
        cv2.fillPoly(region, [local[top.face_oval]], 255, shift=4)
        cv2.fillPoly(region, [local[top.outer_lips], local[top.right_eye], local[top.left_eye]], 0, shift=4)
        want_mean, want_spread = lab_statistics(crop, region)
        mean, spread = mouth.face_colour(picture, face.landmarks * scale)
        assert np.abs(mean - want_mean).max() < 0.5, (scale, mean, want_mean)
        assert np.abs(spread - want_spread).max() < 1.0, (scale, spread, want_spread)


def test_the_driver_s_eyes_are_measured_once_per_frame(monkeypatch):
    """The lid watch, the lids, the gaze and the gaze's fade each measured the driver's eyes'
    opening on this frame again (start: 8 eye measures of the driver per frame, 2 distinct): now
    once per eye, and the landmarks are those of a transfer that measures everything afresh."""
    from realtime.animate import motion

    portrait, calibration, drivers, fresh = _driver(11, 4)
    motion.transfer(drivers[0], portrait, calibration, lids=motion.LidWatch(), time_s=0.0)  # the reference measured
    counts = []
    original = motion._openness

    def counted(points, loop, corners):
        counts[-1] += 1
        return original(points, loop, corners)

    monkeypatch.setattr(motion, "_openness", counted)
    for driver, want in zip(drivers, fresh, strict=True):
        counts.append(0)
        np.testing.assert_array_equal(motion.transfer(driver, portrait, calibration, lids=motion.LidWatch(),
                                                      time_s=0.0), want)
    assert counts == [2] * len(drivers), counts


def test_the_tiles_affines_take_each_triangle_onto_its_source():
    """The tile warp's per-triangle affines, computed coefficient by coefficient (`tiles.affine_columns`,
    half the time of the batched matrix form): each maps its triangle's corners onto the source's
    corners (within a thousandth of a pixel), and a flat triangle or a sliver (magnifying more than
    SLIVER) moves with its centre, unscaled."""
    from realtime.animate import tiles

    rng = np.random.default_rng(3)
    dst = rng.uniform(0, 400, size=(90, 2))
    src = dst + rng.normal(0, 3.0, size=dst.shape)
    triangles = rng.permutation(90).reshape(-1, 3).astype(np.int32)
    dst[triangles[0, 2]] = dst[triangles[0, 0]]  # flat
    dst[triangles[1, 2]] = dst[triangles[1, 0]] + dst[triangles[1, 1]] - dst[triangles[1, 0]] + 0.01  # a sliver
    columns = tiles.affine_columns(dst, src, triangles)
    assert columns.shape == (6, len(triangles)) and columns.dtype == np.float32
    linear = np.stack([columns[[0, 1]], columns[[3, 4]]], axis=1).transpose(2, 1, 0)  # (T, 2, 2): rows
    offset = columns[[2, 5]].T
    mapped = np.einsum("tij,tkj->tki", linear, dst[triangles]) + offset[:, None]
    gain = np.sqrt((linear.astype(np.float64) ** 2).sum(axis=(1, 2)))
    regular = np.ones(len(triangles), dtype=bool)
    regular[:2] = False
    assert gain[regular].max() <= tiles.SLIVER
    np.testing.assert_allclose(mapped[regular], src[triangles][regular], atol=1e-3)
    for index in (0, 1):
        np.testing.assert_allclose(linear[index], np.eye(2))
        np.testing.assert_allclose(offset[index], src[triangles[index]].mean(axis=0) - dst[triangles[index]].mean(axis=0),
                                   atol=1e-4)
    np.testing.assert_array_equal(tiles.triangle_affines(dst, src, triangles), columns.T.reshape(-1, 2, 3))


def test_only_the_tiles_the_motion_reaches_are_drawn_and_a_still_driver_leaves_the_portrait(monkeypatch):
    """The tile warp draws a tile anew only where its map moved; everywhere else the picture is
    the portrait's own pixels, to the bit, and a driver back at rest leaves the whole portrait as
    it was. A sharp picture whose height is no multiple of a tile (a last tile row of 8 rows, less
    than the rows resampled per call) and a mesh whose vertices move in one patch only (a wink:
    0.6 px more each frame), then back at rest: the tiles the patch's triangles do not reach are
    the portrait's own in every frame, every tile the motion moves is exactly what a warp that draws
    every tile afresh draws, the short last row included, and the last frame is the portrait."""
    from realtime.animate import tiles

    height, width = 200, 320
    picture = np.random.default_rng(11).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    dst, triangles = _grid_mesh(height, width, spacing=40)
    patch = (np.abs(dst[:, 0] - 160) <= 40) & (np.abs(dst[:, 1] - 150) <= 30)  # x 120-200, y 120-160
    depth = np.zeros(len(dst))
    frames = [dst + patch[:, None] * [0.6 * index, -0.4 * index] for index in range(1, 6)] + [dst.copy()]
    with monkeypatch.context() as fresh:  # every tile drawn anew from the exact maps
        fresh.setattr(tiles, "STILL", -1.0)
        fresh.setattr(tiles, "REUSE", -1.0)
        exact = [tiles.TileWarp(picture).render(dst, src, triangles, depth, [], no_boxes).copy() for src in frames]
    warp = tiles.TileWarp(picture)
    tile = tiles.TILE
    # The patch's triangles reach 40 px beyond its vertices (x 80-240, y 80 to the bottom edge):
    # the tiles from x 64 to 256, y 64 to the last row.
    far = np.ones((height, width), dtype=bool)
    far[64:, 64:256] = False
    drawn = []
    for src, want in zip(frames, exact, strict=True):
        out = warp.render(dst, src, triangles, depth, [], no_boxes)
        np.testing.assert_array_equal(out[far], picture[far])
        for ty in range(warp.tiles_y):
            for tx in range(warp.tiles_x):
                part = np.s_[ty * tile:(ty + 1) * tile, tx * tile:(tx + 1) * tile]
                # (0.6 px more per frame at the patch: every tile it moves is drawn every frame.)
                if not np.array_equal(want[part], picture[part]):
                    np.testing.assert_array_equal(out[part], want[part], err_msg=str((ty, tx)))
        drawn.append(warp.tiles_drawn)
        if warp.tiles_drawn:  # the short last row moves with the rest
            assert np.abs(out[192:, 64:256].astype(int) - picture[192:, 64:256]).max() > 0
    assert min(drawn[:-1]) >= 4, drawn  # the wink's tiles are drawn every frame ...
    assert drawn[-1] == 0  # ... and at rest none is
    np.testing.assert_array_equal(out, picture)


def _masked_to_output(portrait, canvas: np.ndarray) -> np.ndarray:
    """`Portrait.to_output` as session 36 wrote it (the reference): the largest difference per 8 px block (a dilation
    of the whole picture's differences read at the blocks' centres), one block around, that block mask enlarged to
    the output (INTER_NEAREST) and the enlarged frame copied through it onto the fitted portrait."""
    import cv2

    from realtime.animate.mesh import CHANGED_BLOCK, ENLARGE

    _factor, width, height, left, top = portrait.placement
    output = portrait.fitted.copy()
    block = CHANGED_BLOCK
    rows, cols = -(-canvas.shape[0] // block), -(-canvas.shape[1] // block)
    difference = cv2.absdiff(canvas, portrait.image)
    difference = cv2.copyMakeBorder(difference, 0, rows * block - canvas.shape[0], 0,
                                    cols * block - canvas.shape[1], cv2.BORDER_CONSTANT, value=0)
    channels = difference.shape[2]
    largest = cv2.dilate(difference.reshape(rows * block, cols * block * channels),
                         np.ones((block, block * channels), np.uint8))
    changed = largest[block // 2::block, block * channels // 2::block * channels]
    if not changed.any():
        return output
    changed = cv2.dilate((changed > 0).astype(np.uint8), np.ones((3, 3), np.uint8))
    mask = cv2.resize(changed, (width, height), interpolation=cv2.INTER_NEAREST)
    enlarged = cv2.resize(canvas, (width, height), interpolation=ENLARGE)
    cv2.copyTo(enlarged, mask, output[top:top + height, left:left + width])
    return output


def _changed_canvases(image: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """The portrait's own picture, then pictures changed as an animated frame changes it: a single value by one
    level (a block's corner, the last row and column: a block cut short where the side is not a multiple of 8), a
    few pixels, patches of a moved face."""
    height, width = image.shape[:2]
    canvases = [image.copy()]
    for y, x, channel in ((0, 0, 0), (7, 7, 2), (8, 15, 1), (height - 1, width - 1, 2), (height - 1, 0, 0),
                          (height // 2, width - 1, 1)):
        canvas = image.copy()
        canvas[y, x, channel] = canvas[y, x, channel] ^ 1
        canvases.append(canvas)
    for _ in range(6):
        canvas = image.copy()
        for _ in range(int(rng.integers(1, 6))):
            y, x = int(rng.integers(0, height)), int(rng.integers(0, width))
            h, w = int(rng.integers(1, 90)), int(rng.integers(1, 90))
            patch = canvas[y:y + h, x:x + w]
            patch[:] = np.clip(patch.astype(int) + rng.integers(-3, 4, size=patch.shape), 0, 255).astype(np.uint8)
        canvases.append(canvas)
    return canvases


@pytest.mark.media
@pytest.mark.parametrize("name", ["s42.jpg", "s12.jpg"])
def test_the_enlarged_frame_is_pieced_together_without_a_mask_of_the_output_s_size(library, monkeypatch, name):
    """A portrait the output enlarges (s42, 512 px, and s12, 375x500, in 1280x720) is animated at its own size and
    what moved is enlarged over the fitted portrait (`Portrait.to_output`). The blocks that moved were found by
    dilating the whole picture's differences, and copied through a block mask enlarged to the output: three
    passes over full-size pictures (with the padding, four) beside the enlargement itself, about 1 ms of the
    frame on s42 (start). Now the blocks come from the picture's comparison halved down to one value per block,
    and the enlarged blocks are copied as rectangles: no dilation or masked copy of a full-size picture. Every
    frame, unchanged, changed by a single level anywhere or by patches, is the masked composition to the bit."""
    import cv2

    from realtime.animate.mesh import Portrait
    from tests.conftest import media

    portrait = Portrait(library.get(str(media(name))), (1280, 720))
    assert portrait.placement is not None  # animated at its own size, enlarged once
    canvases = _changed_canvases(portrait.image, np.random.default_rng(11))
    expected = [_masked_to_output(portrait, canvas) for canvas in canvases]
    full = portrait.image.shape[0] * portrait.image.shape[1]
    passes = []
    for function in ("dilate", "copyTo", "absdiff"):
        original = getattr(cv2, function)

        def counted(picture, *args, _original=original, _name=function, **kwargs):
            if picture.size >= full:
                passes.append(_name)
            return _original(picture, *args, **kwargs)

        monkeypatch.setattr(cv2, function, counted)
    for canvas, want in zip(canvases, expected, strict=True):
        np.testing.assert_array_equal(portrait.to_output(canvas), want)
    assert passes == []


def test_the_portrait_s_eyes_and_mouth_are_measured_once_per_calibration(monkeypatch):
    """The motion transfer reads the portrait's own landmarks every frame: its eyes' frames and their lids'
    offsets, its irises' axes, its mouth's direction and its lips' gaps at rest (and the reference's, for the
    opening's gain). None of it changes until the next calibration or portrait (start: measured again every frame,
    two eyes' frames of the portrait per frame, sixty small numpy calls). Over ten frames of a driver the portrait's
    eyes are measured on the first frame only, for a second portrait once more, and the landmarks drawn are those
    of a transfer that measures everything afresh."""
    from realtime.animate import motion

    portrait, calibration, drivers, fresh = _driver(5, 10)
    counts = [0]
    original = motion._eye_frame

    def counted(points, corners):
        counts[0] += bool(np.array_equal(points, portrait))
        return original(points, corners)

    monkeypatch.setattr(motion, "_eye_frame", counted)
    for driver, want in zip(drivers, fresh, strict=True):
        np.testing.assert_array_equal(motion.transfer(driver, portrait, calibration, lids=motion.LidWatch(),
                                                      time_s=0.0), want)
    assert counts == [2]  # the portrait's two eyes, on the first frame only
    other = portrait.copy()  # another portrait's landmarks with the same calibration: measured for it
    motion.transfer(drivers[0], other, calibration, lids=motion.LidWatch(), time_s=0.0)
    assert counts == [4]


def _opened_mouth(face, opening: float):
    """The face's landmarks with its mouth opened by `opening` px (the lower lip's rings moved down)."""
    from realtime.animate.motion import LOWER_LIP_RINGS

    landmarks = face.landmarks.astype(np.float32).copy()
    landmarks[np.ravel(LOWER_LIP_RINGS), 1] += opening
    return landmarks


def test_the_driver_s_skin_colour_is_measured_again_only_once_it_is_a_tenth_of_a_second_old(d9_frame, monkeypatch):
    """The mouth interior's colour transfer reads the driver's skin colour (`mouth.face_colour`, 0.3 ms of a 720p
    frame, start: on every frame with an open mouth). It moves by a fraction of a LAB level from frame to frame, so
    a measure is kept for DRIVER_COLOUR_AGE (every 3rd frame at 30 fps): a light change shows in the mouth within
    0.1 s. Measured afresh after a recalibration and when the clock goes back (another clip)."""
    from dataclasses import replace

    from realtime.animate import mesh
    from realtime.faces.source import SourceFace
    from realtime.frame import Frame
    from realtime.settings import Settings

    image, face = d9_frame
    animator = mesh.MeshAnimator(Settings())
    animator.set_source(SourceFace(path="d9", image=image, face=face, faces=(face,)))
    measured = []
    original = mesh.face_colour

    def counted(picture, landmarks):
        measured.append(float(picture[0, 0, 0]))  # which frame's picture (its first value tells them apart)
        return original(picture, landmarks)

    monkeypatch.setattr(mesh, "face_colour", counted)
    opened = replace(face, landmarks=_opened_mouth(face, 0.12 * face.size))

    def frame(index: int, time_s: float, driver, brightness: int = 0):
        picture = image.copy()
        picture[0, 0, 0] = index  # tells the frames apart
        if brightness:
            picture = cv2.add(picture, np.full_like(picture, brightness))
            picture[0, 0, 0] = index
        return animator.animate(Frame(index=index, image=picture, capture_ns=0, pts=time_s, faces=[driver]),
                                [driver])

    import cv2

    frame(0, 0.0, face)  # the neutral reference: a closed mouth, nothing measured
    assert measured == []
    for index in range(1, 11):
        frame(index, index / 30, opened)
    assert measured == [1, 4, 7, 10], measured  # start: every frame, 1 .. 10
    # A light change: the next measure is at most DRIVER_COLOUR_AGE later, of the brighter picture.
    frame(11, 11 / 30, opened, brightness=40)
    frame(12, 12 / 30, opened, brightness=40)
    assert measured[-1] == 10
    frame(13, 13 / 30, opened, brightness=40)
    assert measured[-1] == 13
    # The clock goes back (another clip): measured at once; so after a recalibration.
    frame(14, 0.5 / 30, opened)
    assert measured[-1] == 14
    animator.recalibrate()
    frame(15, 1.0 / 30, face)
    frame(16, 1.5 / 30, opened)
    assert measured[-1] == 16, measured


@pytest.mark.media
@pytest.mark.parametrize("name", ["s42.jpg", "s12.jpg"])
def test_a_frame_that_mostly_moved_is_enlarged_straight_into_the_output(library, monkeypatch, name):
    """A talking head moves most of the portrait (0.94 of s42's blocks by d3): `Portrait.to_output` then enlarges the
    frame straight into the output picture (cv2.resize writing into its view) and copies the fitted portrait back
    over the blocks that did not change and around the picture, instead of enlarging into a picture of its own and
    copying most of it over a copy of the fitted portrait (start). Every frame, mostly or a little changed, is the
    masked composition of session 36 to the bit."""
    import cv2

    from realtime.animate.mesh import Portrait
    from tests.conftest import media

    portrait = Portrait(library.get(str(media(name))), (1280, 720))
    assert portrait.placement is not None
    rng = np.random.default_rng(5)
    image = portrait.image
    height, width = image.shape[:2]
    canvases = []
    for keep in ((0, 0, 40, 40), (height // 2, width // 3, 70, 90), (height - 30, width - 50, 30, 50)):
        canvas = np.clip(image.astype(int) + rng.integers(-2, 3, size=image.shape), 0, 255).astype(np.uint8)
        y, x, h, w = keep
        canvas[y:y + h, x:x + w] = image[y:y + h, x:x + w]  # a still patch inside a moved picture
        canvases.append(canvas)
    canvases += _changed_canvases(image, np.random.default_rng(11))[1:4]  # a single value changed: a little moved
    expected = [_masked_to_output(portrait, canvas) for canvas in canvases]
    enlarged = portrait.placement[1:3]
    into = []
    original = cv2.resize

    def spied(picture, size, *args, dst=None, **kwargs):
        if tuple(size) == enlarged:  # the enlargement (not the halvings that find the changed blocks)
            into.append(dst is not None)
        if dst is None:
            return original(picture, size, *args, **kwargs)
        return original(picture, size, *args, dst=dst, **kwargs)

    monkeypatch.setattr(cv2, "resize", spied)
    for canvas, want in zip(canvases, expected, strict=True):
        np.testing.assert_array_equal(portrait.to_output(canvas), want)
    assert into == [True, True, True, False, False, False], into
