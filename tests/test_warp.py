import cv2
import numpy as np

from realtime.faces.topology import topology
from realtime.faces.warp import piecewise_affine_maps, piecewise_affine_maps_from, triangle_affines


def grid_mesh(width, height, step):
    xs, ys = np.meshgrid(np.arange(0, width + 1, step), np.arange(0, height + 1, step))
    points = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)
    columns = width // step + 1
    triangles = []
    for row in range(height // step):
        for col in range(width // step):
            a = row * columns + col
            triangles += [(a, a + 1, a + columns), (a + 1, a + columns + 1, a + columns)]
    return points, np.array(triangles, dtype=np.int32)


def test_affines_map_corners_exactly():
    rng = np.random.default_rng(1)
    dst = rng.uniform(0, 100, (30, 2)).astype(np.float32)
    src = rng.uniform(0, 100, (30, 2)).astype(np.float32)
    triangles = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    affines = triangle_affines(dst, src, triangles)
    for index, tri in enumerate(triangles):
        corners = np.concatenate([dst[tri], np.ones((3, 1))], axis=1)
        assert np.allclose(corners @ affines[index].T, src[tri], atol=1e-3)


def test_identity_warp_reproduces_the_picture():
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8), (0, 0), 2)
    points, triangles = grid_mesh(159, 119, 20)
    maps = piecewise_affine_maps(points, points, triangles, (0, 0, 160, 120))
    out = maps.remap(image)
    assert np.abs(out.astype(int) - image.astype(int)).max() <= 1


def test_translation_warp_moves_the_picture():
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8), (0, 0), 2)
    points, triangles = grid_mesh(100, 80, 20)
    dst = points + np.array([30, 20], dtype=np.float32)
    maps = piecewise_affine_maps(dst, points, triangles, (30, 20, 130, 100))
    out = maps.remap(image)
    assert np.abs(out.astype(int) - image[0:80, 0:100].astype(int)).max() <= 2


def test_nearer_triangles_win_when_the_mesh_folds():
    # Two triangles over the same spot: the one with smaller depth must be drawn last.
    points = np.array([[0, 0], [40, 0], [0, 40], [0, 0], [40, 0], [0, 40]], dtype=np.float32)
    triangles = np.array([[0, 1, 2], [3, 4, 5]], dtype=np.int32)
    for near in (0, 1):
        depth = np.ones(6, dtype=np.float32)
        depth[triangles[near]] = -1
        maps = piecewise_affine_maps(points, points, triangles, (0, 0, 40, 40), depth=depth)
        ids = maps.triangle_ids
        assert (ids[ids >= 0] == near).all()


def test_face_mesh_maps_cover_the_face_box():
    top = topology()
    rng = np.random.default_rng(3)
    # A plausible face: the canonical grid of landmarks of a real face is not needed, only a
    # non-degenerate mesh: jitter a scaled copy of itself.
    base = rng.uniform(100, 300, (468, 2)).astype(np.float32)
    maps = piecewise_affine_maps(base, base + 5, top.triangles, (100, 100, 300, 300))
    assert maps.map_x.shape == (200, 200)
    assert np.isfinite(maps.map_x).all() and np.isfinite(maps.map_y).all()


def test_a_sliver_triangle_does_not_sample_from_far_away():
    # A triangle squeezed to a twentieth of a pixel (landmark jitter at a nostril) lies on top of
    # an even mesh. The cells its outline touches must still sample near where the mesh around
    # them does: before, its huge affine gain sent them hundreds of pixels across the source,
    # which drew a dark ring or speck on the demo face's nose.
    points, triangles = grid_mesh(200, 160, 20)
    src = points * 1.5 + 10
    sliver_dst = np.array([[52.3, 61.1], [93.7, 61.15], [71.4, 61.2]], dtype=np.float32)
    sliver_src = np.array([[88.0, 101.0], [150.0, 101.0], [117.0, 130.0]], dtype=np.float32)
    dst_all = np.concatenate([points, sliver_dst])
    src_all = np.concatenate([src, sliver_src])
    n = len(points)
    triangles_all = np.concatenate([triangles, np.array([[n, n + 1, n + 2]], dtype=np.int32)])
    depth = np.zeros(len(dst_all), np.float32)
    depth[n:] = -1  # drawn last, on top
    maps = piecewise_affine_maps(dst_all, src_all, triangles_all, (0, 0, 200, 160), depth=depth)
    expected_x = np.arange(200, dtype=np.float32)[None, :] * 1.5 + 10
    expected_y = np.arange(160, dtype=np.float32)[:, None] * 1.5 + 10
    error = np.hypot(maps.map_x - expected_x, maps.map_y - expected_y)
    assert (maps.triangle_ids == len(triangles)).any()  # the sliver was drawn
    # Near the sliver its own (different) source triangle is sampled; nothing goes far.
    assert error.max() < 60, error.max()


def test_a_triangle_turned_away_from_the_camera_is_not_drawn():
    # A fold: one small triangle tilted away from the camera (its outward side faces right and
    # into the picture) sits in front of an even frontal mesh by mean depth. It is hidden on a
    # real face; before, drawing by depth alone let it win the cells it covers, so they sampled
    # its (elsewhere) source triangle for that frame: a pale notch under the demo face's nose.
    points, triangles = grid_mesh(100, 100, 20)
    flat = np.concatenate([points, np.zeros((len(points), 1), np.float32)], axis=1)
    fold = np.array([[85, 40, -10], [85, 60, -10], [88, 50, -20]], dtype=np.float32)
    dst = np.concatenate([flat, fold])
    src = np.concatenate([points * 2 + 5, np.array([[10, 150], [30, 150], [20, 170]], np.float32)])
    n = len(points)
    triangles_all = np.concatenate([triangles, np.array([[n, n + 1, n + 2]], dtype=np.int32)])
    maps = piecewise_affine_maps(dst, src, triangles_all, (0, 0, 100, 100), depth=dst[:, 2])
    assert not (maps.triangle_ids == len(triangles)).any()
    expected_x = np.arange(100, dtype=np.float32)[None, :] * 2 + 5
    expected_y = np.arange(100, dtype=np.float32)[:, None] * 2 + 5
    assert np.hypot(maps.map_x - expected_x, maps.map_y - expected_y).max() < 0.5
    # The same triangle tilted the other way (facing the camera) is drawn on top as before.
    towards = np.array([[85, 40, -10], [85, 60, -10], [82, 50, -20]], dtype=np.float32)
    dst_towards = np.concatenate([flat, towards])
    maps = piecewise_affine_maps(dst_towards, src, triangles_all, (0, 0, 100, 100), depth=dst_towards[:, 2])
    assert (maps.triangle_ids == len(triangles)).any()


def test_a_magnifying_triangle_is_read_beyond_its_edge_only_where_asked():
    # A small triangle whose map magnifies 10 times the even mesh's (a nose wing's fold squeezed by
    # the shape transfer) wins the grid cells its outline touches, also cells whose point lies
    # outside it. Read there, its map goes on magnifying: the sample lands beyond anything the
    # triangle itself shows (the speck beside the nostril, benchmarks/results/s38-flicker). With
    # tame_outside (the swap's per-frame warp) such a cell reads the triangle's map at its nearest
    # point and the mesh's overall map from there: no further off than the triangle's own corners.
    # Without it (the still warps that build the source texture) the maps stay the plain ones: the
    # texture changed by 1-2 levels everywhere and MediaPipe's lips jittered more (s39-nosewing).
    points, triangles = grid_mesh(200, 160, 20)

    def even(xy):
        return xy * 1.5 + 10

    small = np.array([[50.3, 50.2], [53.1, 50.4], [51.2, 52.6]], dtype=np.float32)
    centre = small.mean(axis=0)
    small_src = even(centre) + 15.0 * (small - centre)  # 10x the mesh's 1.5
    n = len(points)
    dst = np.concatenate([points, small])
    src = np.concatenate([even(points), small_src])
    triangles_all = np.concatenate([triangles, np.array([[n, n + 1, n + 2]], dtype=np.int32)])
    depth = np.zeros(len(dst), np.float32)
    depth[n:] = -1  # drawn last, on top
    own = float(np.hypot(*(small_src - even(small)).T).max())  # the triangle's own corners' reach
    expected_x = np.arange(200, dtype=np.float32)[None, :] * 1.5 + 10
    expected_y = np.arange(160, dtype=np.float32)[:, None] * 1.5 + 10
    errors = {}
    for tame in (False, True):
        maps = piecewise_affine_maps_from(dst, [src], triangles_all, (0, 0, 200, 160), depth=depth,
                                          tame_outside=tame)[0]
        assert (maps.triangle_ids == len(triangles)).any()  # the small triangle was drawn
        errors[tame] = float(np.hypot(maps.map_x - expected_x, maps.map_y - expected_y).max())
    assert errors[True] <= own + 0.5, (errors, own)
    assert errors[False] > own + 2.0, (errors, own)  # as before (33 px against 23): the plain maps
    # The default (piecewise_affine_maps, as the texture's mirror image uses it) is the plain one.
    plain = piecewise_affine_maps(dst, src, triangles_all, (0, 0, 200, 160), depth=depth)
    assert float(np.hypot(plain.map_x - expected_x, plain.map_y - expected_y).max()) == errors[False]
