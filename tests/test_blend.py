"""Blend: colour and light transfer, temporal smoothing of colour, compositing."""

import cv2
import numpy as np
import pytest

from realtime.blend.color import ColourSmoother, lab_statistics, recolour
from realtime.blend.composite import composite, poisson_composite
from realtime.blend.mask import face_mask, skin_mask
from realtime.blend.stage import BlendStage
from realtime.faces.topology import topology
from realtime.frame import FaceLayer, Frame
from realtime.settings import Settings


@pytest.fixture(scope="module")
def hopper():
    """The built-in face (always installed) and its landmarks."""
    from realtime.faces.source import SourceLibrary

    library = SourceLibrary()
    source = library.get(None)
    library.close()
    return source


def noisy(colour, shape=(120, 120), seed=0):
    rng = np.random.default_rng(seed)
    image = np.empty(shape + (3,), dtype=np.float32)
    image[:] = colour
    image += rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def test_colour_transfer_moves_the_mean_lab_to_the_target():
    patch = noisy((200, 170, 150))   # bluish-pale skin (BGR)
    target = noisy((90, 120, 190))   # warm, darker skin
    region = np.ones(patch.shape[:2], dtype=np.uint8)
    before = lab_statistics(patch, region)[0]
    goal = lab_statistics(target, region)[0]
    after = lab_statistics(recolour(patch, target, region, 1.0), region)[0]
    assert np.abs(after - goal).max() < 2.0
    assert np.abs(before - goal).max() > 20
    half = lab_statistics(recolour(patch, target, region, 0.5), region)[0]
    assert np.allclose(half, (before + goal) / 2, atol=2.5)  # strength is proportional


def test_colour_statistics_ignore_what_is_outside_the_region():
    patch = noisy((200, 170, 150))
    target = noisy((90, 120, 190))
    target[:, 60:] = (0, 0, 255)  # pure red outside the skin region (say, lipstick)
    region = np.zeros(patch.shape[:2], dtype=np.uint8)
    region[:, :60] = 1
    after = lab_statistics(recolour(patch, target, region, 1.0), region)[0]
    goal = lab_statistics(target, region)[0]
    assert np.abs(after - goal).max() < 2.0


def test_shading_gives_a_flat_face_the_target_side_light():
    patch = noisy((150, 160, 180), shape=(200, 200))
    ramp = np.linspace(0.45, 1.25, 200, dtype=np.float32)[None, :, None]  # lit from the right
    target = np.clip(noisy((150, 160, 180), shape=(200, 200)) * ramp, 0, 255).astype(np.uint8)
    region = np.ones((200, 200), dtype=np.uint8)
    flat = recolour(patch, target, region, 1.0, shading=0.0, face_size=280)
    lit = recolour(patch, target, region, 1.0, shading=1.0, face_size=280)

    def left_right(image):
        lum = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[:, :, 0].astype(float)
        return lum[:, 20:60].mean(), lum[:, 140:180].mean()

    target_left, target_right = left_right(target)
    flat_left, flat_right = left_right(flat)
    lit_left, lit_right = left_right(lit)
    assert abs(flat_right - flat_left) < 5  # colour statistics alone keep the face flat
    assert lit_right - lit_left > 0.7 * (target_right - target_left)


def test_colour_smoothing_removes_flicker_but_follows_a_change_of_light():
    smoother = ColourSmoother(time_constant_s=0.25)
    dark = (np.array([100.0, 128, 128]), np.array([10.0, 5, 5]))
    bright = (np.array([110.0, 128, 128]), np.array([10.0, 5, 5]))
    means = []
    for frame in range(60):  # per-frame statistics that flicker by 10 L units
        stats = dark if frame % 2 else bright
        means.append(smoother.update(0, (stats, stats), frame / 30)[1][0][0])
    assert np.ptp(means[30:]) < 2.0  # flicker of 10 -> under 2
    for frame in range(60, 90):  # the light really changes: followed within a second
        means.append(smoother.update(0, ((bright[0] + 40, bright[1]),) * 2, frame / 30)[1][0][0])
    assert means[-1] > 145
    unsmoothed = ColourSmoother(time_constant_s=0.0)
    assert unsmoothed.update(0, (dark, dark), 0.0)[0][0][0] == 100.0


def test_skin_mask_leaves_out_eyes_and_lips(hopper):
    landmarks = hopper.face.landmarks
    box = hopper.face.box
    skin = skin_mask(landmarks, box, hopper.face.size)
    top = topology()
    local = landmarks[:, :2] - np.array(box[:2])
    for region in (top.outer_lips, top.right_eye, top.left_eye):
        cx, cy = np.round(local[region].mean(axis=0)).astype(int)
        assert skin[cy, cx] == 0
    cheek = np.round(local[[50, 280]]).astype(int)  # MediaPipe cheek points
    assert all(skin[y, x] == 1 for x, y in cheek)


def layer_from(image, face, patch=None):
    x0, y0, x1, y1 = face.box
    alpha = face_mask(face.landmarks, face.box, face.size, Settings().blend)
    return FaceLayer(box=face.box, image=image[y0:y1, x0:x1].copy() if patch is None else patch,
                     alpha=alpha, face=face)


def test_blending_the_target_onto_itself_changes_nothing(hopper):
    image = hopper.image
    for poisson in (False, True):
        stage = BlendStage(Settings().replace(poisson=poisson))
        frame = Frame(index=0, image=image, capture_ns=0, pts=0.0)
        frame.layers = [layer_from(image, hopper.face)]
        stage.process(frame)
        diff = np.abs(frame.output.astype(int) - image.astype(int))
        assert diff.mean() < 1.0 and np.percentile(diff, 99.9) <= 8


def test_composite_touches_only_the_face_box(hopper):
    image = hopper.image
    x0, y0, x1, y1 = hopper.face.box
    patch = np.full((y1 - y0, x1 - x0, 3), 255, dtype=np.uint8)
    for blend in (composite, poisson_composite):
        canvas = image.copy()
        blend(canvas, layer_from(image, hopper.face, patch), patch)
        outside = np.ones(image.shape[:2], dtype=bool)
        outside[max(0, y0 - 4):y1 + 4, max(0, x0 - 4):x1 + 4] = False
        assert (canvas[outside] == image[outside]).all()
        assert (canvas[y0:y1, x0:x1] != image[y0:y1, x0:x1]).any()


def test_blend_settings_change_on_the_next_frame(hopper):
    image = hopper.image
    x0, y0, x1, y1 = hopper.face.box
    patch = np.full((y1 - y0, x1 - x0, 3), 200, dtype=np.uint8)
    stage = BlendStage(Settings())

    def blended():
        frame = Frame(index=0, image=image, capture_ns=0, pts=0.0)
        frame.layers = [layer_from(image, hopper.face, patch)]
        return stage.process(frame).output

    assert (blended() != image).any()
    stage.configure(Settings().replace(opacity=0.0))  # what Engine.update(opacity=0) does
    assert (blended() == image).all()


def test_poisson_blending_hides_the_seam_of_a_mismatched_face(hopper):
    image = hopper.image
    x0, y0, x1, y1 = hopper.face.box
    # A face far brighter than the target: plain alpha blending leaves a bright edge.
    patch = np.clip(image[y0:y1, x0:x1].astype(int) + 70, 0, 255).astype(np.uint8)
    layer = layer_from(image, hopper.face, patch)
    edge = (layer.alpha > 0.3) & (layer.alpha < 0.95)

    def seam(blend):
        canvas = image.copy()
        blend(canvas, layer, patch)
        return np.abs(canvas[y0:y1, x0:x1].astype(int) - image[y0:y1, x0:x1]).mean(axis=2)[edge].mean()

    assert seam(poisson_composite) < 0.5 * seam(composite)
