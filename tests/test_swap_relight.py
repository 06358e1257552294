"""The target's light on the worn face (realtime/swap/mesh.py MeshSwapper._relight, issue 13).

d3 is lit from above (its fitted top term is about 0.42 of its even light): the worn face should
be lit that way too (forehead and cheekbones lighter, the sockets and the skin under the nose a
little darker), but not with the thin dark bands the mesh's folds at the lids and brow ridge drew
when the light was evaluated at the raw interpolated normals: they read as the target's own deep
sockets worn by the source, on top of the source photo's own socket shade (s22: dlib distance of
s42 on d3 0.516 in process; 0.468 with the light put back at the smoothed normals, which a light
as strong as d3's now gets: swap/mesh.py, relight_weight).
Real frames of ../shared/media, MediaPipe, the real swapper.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper
from tests.conftest import frame_of, media
from tests.test_swap_shadows import socket_to_cheek


@pytest.fixture(scope="module")
def worn(library):
    """worn(video, index, source, shading) -> (the swapper's layer drawn over the target as it
    leaves the swapper, before the blend stage, the layer's face)."""
    from realtime.faces import create_detector

    detector = create_detector(FaceSettings(max_faces=1), static=True)

    def make(video: str, index: int, source: str, shading: float):
        image = frame_of(video, index)
        faces = detector.detect(image)
        assert faces
        swapper = MeshSwapper(Settings().replace(shading=shading))
        swapper.set_source(library.get(str(media(source))))
        frame = Frame(index=0, image=image, capture_ns=0, pts=0.0, faces=faces)
        layer = swapper.swap(frame, faces)[0]
        swapper.close()
        picture = (frame.output if frame.output is not None else image).copy()
        x0, y0, x1, y1 = layer.box
        size = (x1 - x0, y1 - y0)
        alpha = cv2.resize(layer.alpha, size)[..., None]
        picture[y0:y1, x0:x1] = (picture[y0:y1, x0:x1] * (1 - alpha) +
                                 cv2.resize(layer.image, size) * alpha).astype(np.uint8)
        return picture, layer.face

    yield make
    detector.close()


def test_a_light_from_above_shades_the_worn_sockets_without_the_targets_deep_set_look(worn):
    lit, face = worn("d3.mp4", 0, "s9.jpg", 0.8)
    flat, _ = worn("d3.mp4", 0, "s9.jpg", 0.0)
    # Per eye, how much the relight darkens the socket (between brow and lid) against the cheek.
    darkening = np.array(socket_to_cheek(lit, face.landmarks, face.size)) / \
        np.array(socket_to_cheek(flat, face.landmarks, face.size))
    # Main: 0.78 and 0.84 (the socket 16-22% darker than the light on the cheek leaves it: a
    # hollow-eyed look s9's photo does not have); now 0.88 and 0.89.
    assert np.all(darkening > 0.85), darkening
    # Still lit by the room: under a light from above the socket stays darker than the cheek.
    assert np.all(darkening < 0.95), darkening


def _band_over_forehead(image: np.ndarray, landmarks: np.ndarray) -> list[float]:
    """Per eye (the face's right, then left): the mean lightness (8-bit L) of the band between the
    brow's middle and the upper lid's (a third of the way down from the brow to four fifths),
    minus the forehead's above it (a small patch at the mesh's forehead point)."""
    lightness = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    out = []
    for brow, lid, forehead in (((53, 52, 65), (160, 159, 158), 69), ((283, 282, 295), (387, 386, 385), 299)):
        a, b = landmarks[list(brow), :2], landmarks[list(lid), :2]
        polygon = np.concatenate([a + 0.35 * (b - a), (a + 0.8 * (b - a))[::-1]])
        band = np.zeros(lightness.shape, np.uint8)
        cv2.fillPoly(band, [np.round(polygon).astype(np.int32)], 1)
        x, y = np.round(landmarks[forehead, :2]).astype(int)
        out.append(float(lightness[band > 0].mean() - lightness[y - 3:y + 4, x - 3:x + 4].mean()))
    return out


def test_a_bright_lid_under_a_hard_top_light_is_not_worn_as_a_dark_band(swap_one):
    # d20 (a dark, grainy film) is lit hard from above; its brow bone and upper lids are about as
    # bright as its forehead. The first-order light fitted on its skin (the eyes left out) calls a
    # surface facing down as the socket's does a fifth darker, and the relight drew that on s42's
    # sockets (its gain 0.90 there, 1.05 on the forehead): a band over the eye 15-30 levels too
    # dark against the forehead (relight.brow_band_floor).
    under, face, output = swap_one("d20.mp4", 100, "s42.jpg", moved=True)
    camera = np.array(_band_over_forehead(under, face.landmarks))
    worn = np.array(_band_over_forehead(output, face.landmarks))
    # d20's own: -6 (its right eye) and +3 (its left). 60bac94: -14 and -16 (8.4 and 18.9 off);
    # now -9 and -4 (2.8 and 6.9 off).
    assert np.all(np.abs(worn - camera) <= 8.0), (worn, camera)


def _cheekbones_over_forehead(image: np.ndarray, landmarks: np.ndarray, size: float) -> np.ndarray:
    """Per side (the face's left, then its right): the mean lightness (8-bit L) of the cheekbone
    under the eye (patches 4% of the face wide at three mesh points there) minus the forehead's."""
    lightness = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    r = max(2, int(0.02 * size))

    def at(points):
        return float(np.mean([lightness[y - r:y + r + 1, x - r:x + r + 1].mean()
                              for x, y in np.round(landmarks[list(points), :2]).astype(int)]))

    forehead = at((299, 69, 151))
    return np.array([at((346, 347, 330)) - forehead, at((117, 118, 101)) - forehead])


def test_a_cheekbone_lit_by_a_hard_light_is_worn_lit(swap_one):
    # d20 is lit hard from above and from its right: under its left eye the cheekbone catches the
    # light (about as bright as its forehead) while the cheek below and the temple beside it fall
    # into shade. The first-order light fitted on its skin cannot draw a lit spot inside a shaded
    # side (it calls the cheekbone 0.97 of the forehead), and the colour transfer, matching d20's
    # wide spread, stretched what was left: s42's cheekbone there came out 15-18 levels too dark
    # against her forehead, a flat dull side (relight.brow_band_floor, _CHEEKBONES).
    under, face, output = swap_one("d20.mp4", 40, "s42.jpg", moved=True)
    camera = _cheekbones_over_forehead(under, face.landmarks, face.size)
    worn = _cheekbones_over_forehead(output, face.landmarks, face.size)
    # d20's own: -5 (its left) and +14 (its right). c7ea804: -22 (17.1 off); now -17 (11.7 off).
    assert worn[0] - camera[0] >= -14.0, (worn, camera)
    # The lit side (its right) is left as it was (9 over the camera's, on both), not lifted further.
    assert worn[1] - camera[1] <= 10.0, (worn, camera)


def _temple_line(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The lightness (8-bit L, 3x3 mean) along the face's left temple, per pixel: from above the eye's
    outer corner (mesh point 342) out through the oval's temple point (389), from 0.3 of that
    distance inside it to 0.3 beyond, across the mask's edge."""
    lightness = cv2.blur(cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32), (3, 3))
    a, b = landmarks[342, :2].astype(np.float32), landmarks[389, :2].astype(np.float32)
    t = np.linspace(-0.3, 1.3, int(np.linalg.norm(b - a) * 1.6) + 1, dtype=np.float32)
    points = a[None] + t[:, None] * (b - a)[None]
    return cv2.remap(lightness, points[:, :1], points[:, 1:], cv2.INTER_LINEAR)[:, 0]


@pytest.mark.parametrize("index", [25, 55])
def test_the_temple_in_a_hard_lights_shade_does_not_step_at_the_masks_edge(swap_one, index):
    # d20's left temple (the image's right) falls into the hard light's shade from 51 to 28 levels
    # within 0.05 of the face of the eye's outer corner; the mask is cut in that fall (a side too
    # dark to be read as skin is left to the target). The relight's gain there is 0.87 (its light,
    # linear in the mesh's smooth normals, draws no terminator; SIDE_LIMITS' 0.6 is not reached),
    # and the cut's membrane met the new face to the target below the eyes only: s42 stayed a flat
    # 80 to the cut and stepped about 40 levels over 8 pixels into d20's shade there.
    under, face, output = swap_one("d20.mp4", index, "s42.jpg", moved=True)
    camera, worn = _temple_line(under, face.landmarks), _temple_line(output, face.landmarks)
    k = 8
    drop = worn[:-k] - worn[k:]
    at = int(np.argmax(drop))
    step = drop[at] - (camera[at] - camera[at + k])
    # 2f65cc0: 48 and 47 levels over the camera's own fall; now 12 and 9.
    assert step <= 24.0, (index, step, worn[::4].round(), camera[::4].round())
    # Taken down to the target's shade, not below it.
    inner = slice(0, len(worn) // 2)
    assert float((worn - camera)[inner].mean()) >= -4.0, (index, worn[::4].round(), camera[::4].round())
