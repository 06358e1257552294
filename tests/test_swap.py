"""The mesh swap: geometry, holes that show the target's eyes and mouth, face selection."""

import time
from dataclasses import replace

import cv2
import numpy as np
import pytest

from realtime.blend.stage import BlendStage
from realtime.faces.source import SourceFace
from realtime.faces.topology import topology
from realtime.frame import Face, Frame
from realtime.settings import Settings, SwapSettings
from realtime.swap.mesh import MeshSwapper
from realtime.swap.stage import select_faces
from tests.conftest import psnr


@pytest.fixture(scope="module")
def hopper():
    from realtime.faces.source import SourceLibrary

    library = SourceLibrary()
    source = library.get(None)
    library.close()
    return source


def swap_and_blend(settings, source, image, faces):
    swapper = MeshSwapper(settings)
    swapper.set_source(source)
    frame = Frame(index=0, image=image, capture_ns=0, pts=0.0, faces=faces)
    frame.layers = swapper.swap(frame, faces)
    BlendStage(settings).process(frame)
    return frame


def centre_of(landmarks, region):
    return np.round(landmarks[region, :2].mean(axis=0)).astype(int)


def test_swapping_a_face_onto_itself_reproduces_it(hopper, monkeypatch):
    from realtime.swap.texture import clean_texture_of

    # Her own glasses are taken out of the worn face on purpose (swap/source_glasses.py, its own
    # tests; a still target's rims are not all kept in front: 21 dB with them taken out): here
    # the swap of her face with only her small occluders (hair at the temples) to fill.
    monkeypatch.setattr("realtime.swap.texture.find_source_glasses", lambda *args: None)
    hopper = replace(hopper, memo={})
    frame = swap_and_blend(Settings(), hopper, hopper.image, [hopper.face])
    layer = frame.layers[0]
    x0, y0, x1, y1 = layer.box
    inside = layer.alpha > 0.5
    assert inside.sum() > 0.3 * inside.size  # the face is really replaced, not skipped
    # It reproduces her wherever the clean texture had nothing to fill: the fill fades into the
    # kept pixels over 4% of the face since s16 (main 30.2 dB over the whole layer with the fill's
    # 3-px fade, 29.5 with the soft one). Compared outside the filled pixels and that fade.
    texture = clean_texture_of(hopper)
    cleaned = np.zeros(hopper.image.shape[:2], np.uint8)
    ox, oy = texture.origin
    height, width = texture.occluders.shape
    cleaned[oy:oy + height, ox:ox + width] = texture.occluders
    size = int(0.08 * hopper.face.size) | 1
    cleaned = cv2.dilate(cleaned, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    inside &= cleaned[y0:y1, x0:x1] == 0
    assert inside.sum() > 0.2 * inside.size
    # Session 18: the clean texture evens the two sides' low frequencies against each other
    # (texture.balance_sides, beyond a 5% dead zone: s12's hand-tinted halves) and that moves her
    # own face a little too: 30.18 dB before the merge of s18-texture, 30.10 with it alone, 29.71
    # merged with the other session-18 work (the halved colour transfer, the luma detail chain,
    # the kept eyes and rims); 29 dB with the sides evened fully, which was left out.
    # Session 36: 31.04 dB before, 29.50 with swap/eyes.even_eyes (s36-s9eyes): with her glasses not
    # taken out (above), her lens rims beside her lids read as two upper rims at different heights and
    # evening them moves her lids; with the default glasses search she is byte-identical.
    # Session 38: the same code reads 29.5036 dB on session 37's machine and 29.4686 on an AMD EPYC
    # (AVX2, no AVX-512): OpenCV's and MediaPipe's SIMD paths differ in the last bits, and the
    # landmarks with them. The bound sits 0.2 dB under the lower reading: the changes this test is
    # here to catch moved her 0.4-1.5 dB.
    assert psnr(frame.output[y0:y1, x0:x1], hopper.image[y0:y1, x0:x1], inside) > 29.25


def open_mouth(face, amount):
    """The face with its jaw dropped by `amount` pixels: every point below the inner upper lip
    moves down, so the inner mouth opens."""
    landmarks = face.landmarks.copy()
    upper_inner_lip = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308]  # MediaPipe indices
    lip = landmarks[upper_inner_lip]
    order = np.argsort(lip[:, 0])
    below = landmarks[:, 1] > np.interp(landmarks[:, 0], lip[order, 0], lip[order, 1]) + 0.5
    below[[95, 88, 178, 87, 14, 317, 402, 318, 324]] = True  # the lower inner lip
    landmarks[below, 1] += amount
    x0, y0, x1, y1 = face.box
    return Face(landmarks=landmarks, box=(x0, y0, x1, int(y1 + amount + 1)))


def test_eyes_and_open_mouth_show_the_target(hopper):
    top = topology()
    face = open_mouth(hopper.face, 0.06 * hopper.face.size)
    target = hopper.image.copy()
    # Paint the target's eye openings and open inner mouth green: they must come through
    # unchanged, while the source (the unpainted picture) supplies the rest of the face.
    polygons = [np.round(face.landmarks[region, :2]).astype(np.int32)
                for region in (top.right_eye, top.left_eye, top.inner_mouth)]
    cv2.fillPoly(target, polygons, (0, 255, 0))
    output = swap_and_blend(Settings(), hopper, target, [face]).output
    for region in (top.right_eye, top.left_eye, top.inner_mouth):
        x, y = centre_of(face.landmarks, region)
        assert np.abs(output[y, x].astype(int) - (0, 255, 0)).max() <= 3
    cheek_x, cheek_y = np.round(face.landmarks[50, :2]).astype(int)
    assert np.abs(output[cheek_y, cheek_x].astype(int) - hopper.image[cheek_y, cheek_x]).max() < 25


def test_mouth_mask_keeps_the_whole_real_mouth(hopper):
    top = topology()
    face = hopper.face
    target = hopper.image.copy()
    lips = np.round(face.landmarks[top.outer_lips, :2]).astype(np.int32)
    cv2.fillPoly(target, [lips], (0, 255, 0))
    # A lip point half way between the outer and inner contours: from the source by default...
    lip = np.round((face.landmarks[0, :2] + face.landmarks[13, :2]) / 2).astype(int)
    plain = swap_and_blend(Settings(), hopper, target, [face]).output
    assert tuple(plain[lip[1], lip[0]]) != (0, 255, 0)
    # ...from the target (the real mouth) with the mouth mask.
    masked = swap_and_blend(Settings().replace(mouth_mask=True), hopper, target, [face]).output
    assert np.abs(masked[lip[1], lip[0]].astype(int) - (0, 255, 0)).max() < 10


def test_another_face_is_really_worn(hopper):
    # The source face flipped left-right is a different picture on the same geometry class:
    # inside the face the output must follow the source, not the target.
    flipped_image = cv2.flip(hopper.image, 1)
    width = hopper.image.shape[1]
    landmarks = hopper.face.landmarks.copy()
    landmarks[:, 0] = width - 1 - landmarks[:, 0]
    flipped = SourceFace(path="flipped", image=flipped_image,
                         face=Face(landmarks=landmarks, box=hopper.face.box), faces=())
    target = np.full_like(hopper.image, 90)  # a flat grey "face" at the same landmarks
    output = swap_and_blend(Settings().replace(color_transfer=0.0, shading=0.0), flipped, target,
                            [hopper.face]).output
    x0, y0, x1, y1 = hopper.face.box
    crop = output[y0:y1, x0:x1]
    assert crop.std() > 20  # texture came from the source


def fake_face(cx, cy, size=100):
    landmarks = np.zeros((478, 3), dtype=np.float32)
    landmarks[:, 0] = cx
    landmarks[:, 1] = cy
    half = size // 2
    return Face(landmarks=landmarks, box=(cx - half, cy - half, cx + half, cy + half))


def test_faces_setting_picks_all_largest_or_nearest():
    faces = [fake_face(100, 100, 80), fake_face(500, 300, 160), fake_face(900, 600, 100)]
    assert select_faces(faces, SwapSettings(faces="all"), 1000, 700) == faces
    assert select_faces(faces, SwapSettings(faces="largest"), 1000, 700) == [faces[1]]
    nearest = SwapSettings(faces="nearest", face_position=(0.9, 0.9))
    assert select_faces(faces, nearest, 1000, 700) == [faces[2]]
    nearest = SwapSettings(faces="nearest", face_position=(0.0, 0.0))
    assert select_faces(faces, nearest, 1000, 700) == [faces[0]]


def test_every_face_gets_the_source_with_faces_all(hopper):
    image = np.concatenate([hopper.image, hopper.image], axis=1)
    width = hopper.image.shape[1]
    second = hopper.face.landmarks.copy()
    second[:, 0] += width
    x0, y0, x1, y1 = hopper.face.box
    faces = [hopper.face, Face(landmarks=second, box=(x0 + width, y0, x1 + width, y1))]
    swapper = MeshSwapper(Settings())
    swapper.set_source(hopper)
    frame = Frame(index=0, image=image, capture_ns=0, faces=faces)
    assert len(swapper.swap(frame, faces)) == 2


def test_swap_and_blend_are_fast_enough_per_face(hopper):
    # Not the benchmark (benchmarks/quality.py measures on real video): a guard against an
    # accidental per-triangle or full-frame path. Generous: the machine may be shared.
    settings = Settings()
    swapper = MeshSwapper(settings)
    swapper.set_source(hopper)
    blend = BlendStage(settings)
    times = []
    for index in range(8):
        frame = Frame(index=index, image=hopper.image, capture_ns=0, pts=index / 30,
                      faces=[hopper.face])
        start = time.perf_counter()
        frame.layers = swapper.swap(frame, frame.faces)
        blend.process(frame)
        times.append(time.perf_counter() - start)
    assert np.median(times) < 0.1


def test_a_profile_source_is_named_as_such(hopper, caplog):
    from dataclasses import replace

    from realtime.swap.mesh import profile_warning

    assert profile_warning(hopper) is None  # frontal
    turned = SourceFace(path="side.jpg", image=hopper.image,
                        face=replace(hopper.face, pose=(62.0, 0.0, 0.0)), faces=())
    message = profile_warning(turned)
    assert message and "side.jpg" in message and "62°" in message
    with caplog.at_level("WARNING"):
        MeshSwapper(Settings()).set_source(turned)
    assert "turned 62°" in caplog.text


def test_a_turned_source_lends_its_near_half_to_the_far_half(hopper):
    from dataclasses import replace

    # A source turned away: its far half (picture right of the nose) is squeezed, and painted
    # blue so that any pixel taken from it shows.
    landmarks = hopper.face.landmarks.copy()
    midline_x = float(landmarks[[1, 4, 6, 168, 152], 0].mean())
    far = landmarks[:, 0] > midline_x
    landmarks[far, 0] = midline_x + (landmarks[far, 0] - midline_x) * 0.45
    image = hopper.image.copy()
    image[:, int(midline_x) + 2:] = (255, 0, 0)
    blue_ratio = {}
    for yaw in (0.0, 40.0):  # the same picture, told frontal (no mirroring) or turned
        face = replace(hopper.face, landmarks=landmarks, pose=(yaw, 0.0, 0.0))
        turned = SourceFace(path="turned.jpg", image=image, face=face, faces=())
        # The raw photo (clean_source off): the clean texture would fill the blue half as "not skin".
        output = swap_and_blend(Settings().replace(color_transfer=0.0, shading=0.0, clean_source=False), turned,
                                hopper.image, [hopper.face]).output
        x0, y0, x1, y1 = hopper.face.box
        crop = output[y0:y1, x0:x1].astype(int)
        blue = (crop[..., 0] > 200) & (crop[..., 1] < 60) & (crop[..., 2] < 60)
        blue_ratio[yaw] = blue.mean()
    assert blue_ratio[0.0] > 0.1  # without mirroring, the hidden half shows
    assert blue_ratio[40.0] < 0.01  # mirrored from the near half


def test_a_collapsed_triangle_keeps_the_maps_finite_and_local():
    from realtime.faces.warp import triangle_affines

    dst = np.array([[10, 10], [20, 10], [30, 10], [0, 0], [40, 0], [0, 40]], dtype=np.float32)
    src = dst + np.float32(5)
    affines = triangle_affines(dst, src, np.array([[0, 1, 2], [3, 4, 5]]))  # 0-1-2: a line
    assert np.isfinite(affines).all()
    # The flat triangle moves its pixels with its centre: (20, 10) -> (25, 15).
    assert np.allclose(affines[0] @ np.array([20, 10, 1.0]), (25, 15), atol=1e-3)
    assert np.allclose(affines[1] @ np.array([10, 10, 1.0]), (15, 15), atol=1e-3)
