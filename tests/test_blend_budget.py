"""The blend stage's cheaper per-pixel paths (issue 13's budget) give the picture the full-size
ones gave, where a viewer looks:

- the detail chain (source detail boost, the target's brow/lid band, the camera's grain) runs on
  the luma alone and must leave the face's colour (its chroma) exactly as the colour transfer
  made it, while still bringing the face to the camera's sharpness;
- the colour transfer's change is worked out at half size: the face's colours and its fine
  contrast must stay those of the full-size transfer.

Real frames of ../shared/media (d13 with s42, d14 with the painting s10), MediaPipe, the real
swapper and blend stage.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks import realism
from realtime.blend.color import recolour, recolour_halved
from realtime.blend.mask import skin_mask
from realtime.blend.stage import detail_on_luma
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper
from tests.conftest import frame_of, media


@pytest.fixture(scope="module")
def layer_of(library):
    """layer_of(video, index, source) -> (target picture, the swapper's layer), rendered at the
    box's full size (these are the blend's full-size paths; d13's face is otherwise rendered at
    s42's working size, tests/test_swap_work_size.py)."""
    from realtime.faces import create_detector
    from realtime.swap import mesh

    detector = create_detector(FaceSettings(max_faces=1), static=True)

    def make(video: str, index: int, source: str):
        image = frame_of(video, index)
        faces = detector.detect(image)
        assert faces
        swapper = MeshSwapper(Settings())
        swapper.set_source(library.get(str(media(source))))
        frame = Frame(index=0, image=image, capture_ns=0, pts=0.0)
        frame.faces = faces
        saved = mesh.work_face_px
        mesh.work_face_px = lambda source_face_px: mesh.WORK_FACE_PX
        try:
            layers = swapper.swap(frame, faces)
        finally:
            mesh.work_face_px = saved
        swapper.close()
        assert layers
        return image, layers[0]

    yield make
    detector.close()


def _chroma(picture: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(picture, cv2.COLOR_BGR2YCrCb)[:, :, 1:].astype(np.int16)


def test_the_detail_chain_changes_the_lightness_and_leaves_the_colour(layer_of):
    image, layer = layer_of("d13.mp4", 0, "s42.jpg")
    x0, y0, x1, y1 = layer.box
    target = image[y0:y1, x0:x1]
    detailed = detail_on_luma(layer.image, target, layer, 1.0)
    # The chain did its work: the face's fine band changed ...
    assert np.abs(detailed.astype(np.int16) - layer.image).mean() > 1.0
    # ... and its chroma did not (within the 8-bit rounding of the conversion, save where a
    # channel saturated).
    unsaturated = (detailed > 0).all(axis=2) & (detailed < 255).all(axis=2)
    change = np.abs(_chroma(detailed) - _chroma(layer.image)).max(axis=2)[unsaturated]
    assert np.percentile(change, 99.9) <= 1, np.percentile(change, 99.9)


@pytest.mark.parametrize("video,index,source", [("d13.mp4", 0, "s42.jpg"), ("d14.mp4", 20, "s10.jpg")])
def test_the_halved_colour_transfer_gives_the_full_size_colours(layer_of, video, index, source):
    image, layer = layer_of(video, index, source)
    x0, y0, x1, y1 = layer.box
    target = image[y0:y1, x0:x1]
    settings = Settings().blend
    region = skin_mask(layer.face.landmarks, layer.box, layer.face.size, layer.alpha, step=4)
    edge = (layer.alpha, layer.face.landmarks, layer.box, settings.feather)
    arguments = (layer.image, target, region, settings.color_transfer, 0.0, layer.face.size)
    full = recolour(*arguments, edge=edge, tone=settings.skin_tone)
    halved = recolour_halved(*arguments, None, edge, settings.skin_tone, None)
    face = layer.alpha > 0.5
    difference = np.abs(full.astype(np.int16) - halved)[face]
    assert difference.mean() < 1.0, difference.mean()
    assert np.percentile(difference, 99) <= 8, np.percentile(difference, 99)
    # The fine contrast (what a painting's transfer lowers) is the full-size transfer's.
    def fine_energy(picture: np.ndarray) -> float:
        grey = realism.grey(picture)
        return float(np.mean((grey - cv2.GaussianBlur(grey, (0, 0), 1.5))[face] ** 2))

    ratio = fine_energy(halved) / fine_energy(full)
    assert 0.9 <= ratio <= 1.1, ratio


def test_a_face_blended_onto_itself_is_left_alone():
    # The detail chain's change is the luma's: none for the target blended onto itself.
    image = frame_of("d13.mp4", 0)
    from realtime.faces import create_detector

    detector = create_detector(FaceSettings(max_faces=1), static=True)
    faces = detector.detect(image)
    detector.close()
    from realtime.frame import FaceLayer

    face = faces[0]
    x0, y0, x1, y1 = face.box
    alpha = np.ones((y1 - y0, x1 - x0), np.float32)
    layer = FaceLayer(box=face.box, image=image[y0:y1, x0:x1].copy(), alpha=alpha, face=face, scale=1.0)
    assert np.array_equal(detail_on_luma(layer.image, image[y0:y1, x0:x1], layer, 1.0), layer.image)


def test_the_halved_transfer_is_enlarged_once_for_the_same_picture(layer_of, monkeypatch):
    """recolour_halved's result, formed as g patch + enlarged(changed - g small) (one enlargement,
    one full-size pass), is the sum enlarged(changed) + g (patch - enlarged(small)) it stands for
    (formed so before: two enlargements, two full-size passes) to within the 8-bit rounding."""
    from realtime.blend import color

    image, layer = layer_of("d13.mp4", 0, "s42.jpg")
    x0, y0, x1, y1 = layer.box
    target = image[y0:y1, x0:x1]
    settings = Settings().blend
    region = skin_mask(layer.face.landmarks, layer.box, layer.face.size, layer.alpha, step=4)
    edge = (layer.alpha, layer.face.landmarks, layer.box, settings.feather)
    calls = []
    original = color.recolour

    def kept(*args, **kwargs):
        calls.append((args[0], original(*args, **kwargs), kwargs["report"].get("lightness_gain", 1.0)))
        kwargs["report"]["lightness_gain"] = calls[-1][2]
        return calls[-1][1]

    monkeypatch.setattr(color, "recolour", kept)
    ours = recolour_halved(layer.image, target, region, settings.color_transfer, settings.shading, layer.face.size,
                           None, edge, settings.skin_tone, None)
    small, changed, gain = calls[0]
    size = (layer.image.shape[1], layer.image.shape[0])
    def enlarged(picture: np.ndarray) -> np.ndarray:
        return cv2.resize(picture.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)

    exact = np.clip(enlarged(changed) + gain * (layer.image - enlarged(small)), 0, 255)
    assert gain != 1.0
    # Within the final rounding (a level) of the exact sum; closer than the sum formed as before,
    # whose two 8-bit enlargements added half a level each.
    before = cv2.addWeighted(cv2.subtract(layer.image, cv2.resize(small, size, interpolation=cv2.INTER_LINEAR),
                                          dtype=cv2.CV_16S), gain,
                             cv2.resize(changed, size, interpolation=cv2.INTER_LINEAR), 1.0, 0.0, dtype=cv2.CV_8U)
    error, error_before = np.abs(ours - exact), np.abs(before - exact)
    assert error.max() <= 0.51, error.max()
    assert error.mean() <= error_before.mean(), (error.mean(), error_before.mean())
