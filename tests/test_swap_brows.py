"""The target's own brows and lash lines coming back through the camera detail (issue 13, s15):
a blind judge saw "a second, ghost eyebrow above each real one" on s9 -> d6 and "eyes smudged
and doubled" on s9 -> d20. The blend stage put the target's finest band (up to 18 grey levels)
back on the new face, the target's brow hairs and lash lines with it.

Real photo (s9 from ../shared/media), real frames (d6: thin, high, dark brows; d20: narrow eyes),
MediaPipe for every face, the real swapper and blend stage.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from realtime.blend.stage import BlendStage
from realtime.faces.brows import feature_zone
from realtime.faces.topology import topology
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper
from tests.conftest import frame_of, media


def fine(image: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return grey - cv2.GaussianBlur(grey, (0, 0), 1.5)


@pytest.fixture(scope="module")
def swapped(library):
    from realtime.faces import create_detector

    detector = create_detector(FaceSettings(max_faces=1), static=True)
    results = {}
    for video in ("d6.mp4", "d20.mp4"):
        image = frame_of(video, 0)
        face = detector.detect(image)[0]
        settings = Settings()
        swapper = MeshSwapper(settings)
        swapper.set_source(library.get(str(media("s9.jpg"))))
        frame = Frame(index=0, image=image, capture_ns=0, pts=0.0, faces=[face])
        frame.layers = swapper.swap(frame, [face])
        layer = frame.layers[0]
        # The target as the new face is drawn over it: with the face-shape transfer (face_shape)
        # its picture and features are moved to the source's proportions first, so its own brows
        # and lash lines are looked for where they now are (the layer's face), in that picture.
        image = frame.output.copy() if frame.output is not None else image
        face = layer.face
        rendered = image.copy()  # the new face before the blend: where it has features of its own
        x0, y0, x1, y1 = layer.box
        rendered[y0:y1, x0:x1] = layer.image
        alpha = np.zeros(image.shape[:2], np.float32)
        alpha[y0:y1, x0:x1] = layer.alpha
        results[video] = image, face, BlendStage(settings).process(frame).output, rendered, alpha
        swapper.close()
    detector.close()
    return results


def echo(image: np.ndarray, output: np.ndarray, where: np.ndarray) -> float:
    """How much of the target's own fine band over `where` is found again in the output (the
    regression slope of the output's band on the target's: 1 = all of it, 0 = none)."""
    theirs, ours = fine(image)[where], fine(output)[where]
    return float((theirs * ours).sum() / max(float((theirs * theirs).sum()), 1e-6))


def test_no_ghost_brow_of_the_target_above_the_new_one(swapped):
    image, face, output, rendered, alpha = swapped["d6.mp4"]
    zone = np.zeros(image.shape[:2], np.float32)
    x0, y0, x1, y1 = face.box
    zone[y0:y1, x0:x1] = feature_zone(face.landmarks, face.box, face.size)
    # The target's brow hairs' edges: strong fine band inside the brow zone, above the eyes.
    eyes_top = min(face.landmarks[topology().right_eye, 1].min(), face.landmarks[topology().left_eye, 1].min())
    rows = np.mgrid[0:image.shape[0], 0:image.shape[1]][0]
    # The target's brow hairs' edges where the new face has none of its own (above its brow).
    edges = (zone > 0.9) & (np.abs(fine(image)) > 6) & (np.abs(fine(rendered)) < 2) & \
        (rows < eyes_top - 0.04 * face.size)
    assert edges.sum() > 100
    assert echo(image, output, edges) < 0.55  # 0.62 before (0.47 after): the target's brow outline drawn again


def test_no_second_lash_line_on_a_narrow_eyed_target(swapped):
    image, face, output, rendered, alpha = swapped["d20.mp4"]
    zone = np.zeros(image.shape[:2], np.float32)
    x0, y0, x1, y1 = face.box
    zone[y0:y1, x0:x1] = feature_zone(face.landmarks, face.box, face.size)
    eyes_top = min(face.landmarks[topology().right_eye, 1].min(), face.landmarks[topology().left_eye, 1].min())
    rows = np.mgrid[0:image.shape[0], 0:image.shape[1]][0]
    # Where the new face is drawn (not where the target's own lash line is kept, swap/eyes.py).
    lids = (zone > 0.9) & (np.abs(fine(image)) > 4) & (np.abs(fine(rendered)) < 2) & (alpha > 0.95) & \
        (rows >= eyes_top - 0.04 * face.size)
    # Enough lid pixels to judge by (51 with the full-size zone, 50 with the half-size one; 40 at
    # the moved eyes with face_shape 0.75: s9's proportions give d20's lid line a shorter stretch
    # where the new face is drawn and the target's is not kept; 66 on 8188412, 30 with the open eye's
    # wider kept margin, swap/eyes.py EYE_MARGIN_UP_OPEN: more of d20's own lid line is kept, echo
    # 0.247 -> 0.269). The floor only guards against an empty zone: the echo below is a regression
    # slope, as meaningful over 20 lid pixels.
    assert lids.sum() > 20
    assert echo(image, output, lids) < 0.48  # 0.54 before (0.40 after): a second lash line


def darkness(image: np.ndarray, face_size: float) -> np.ndarray:
    """How much darker than its grey closing each pixel is (a thin dark line: a brow, a lid line)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(0.06 * face_size) | 1,) * 2)
    return cv2.subtract(cv2.morphologyEx(grey, cv2.MORPH_CLOSE, disc), grey).astype(np.float32)


def test_one_brow_the_new_faces(swapped):
    # s9's low soft brow over d6's thin, high, arched one: the output showed both ("doubled-looking
    # brows", issue 13's blind judge, session 18). The target's brow came through the layer's soft
    # edge at the temples and as a coherent line of the camera detail over the new face. Where the
    # target has its brow and the new face has none, the output must have none either.
    image, face, output, rendered, alpha = swapped["d6.mp4"]
    zone = np.zeros(image.shape[:2], np.uint8)
    for brow in (topology().right_eyebrow, topology().left_eyebrow):
        cv2.fillConvexPoly(zone, cv2.convexHull(face.landmarks[brow, :2].astype(np.int32)), 1)
    zone = cv2.dilate(zone, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(0.05 * face.size) | 1,) * 2))
    theirs, new = darkness(image, face.size), darkness(rendered, face.size)
    ghost = (zone > 0) & (theirs > 20) & (new < 6)
    assert ghost.sum() > 300  # 864 px of d6's brows lie off s9's
    assert float(darkness(output, face.size)[ghost].mean()) < 7.0  # 11.7 on main (6.2 after)



def test_the_new_faces_brow_keeps_its_own_hairs():
    # Where the target's brow band is limited to grain, the new face's own finest band was
    # exchanged for that grain: its brow hairs' edges were lost and the brow came out washed out
    # camera_detail's `keep` holds it (as much as the zone lacks of the camera's sharpness:
    # blend/detail.py edge_gain, 0 for s12's bushy brows on the soft d20).
    from realtime.blend.detail import camera_detail

    rng = np.random.default_rng(5)
    hairs = np.full((64, 64), 120, np.uint8)
    hairs[:, ::4] = 60  # a brow's hairs: a line every 4 px
    grain = np.clip(128 + rng.normal(0, 2, (64, 64)), 0, 255).astype(np.uint8)
    keep = (np.full((64, 64), 0.5, np.float32), (0, 64, 0, 64))
    kept, exchanged = camera_detail(hairs, grain, 3.0, keep=keep), camera_detail(hairs, grain, 3.0)

    def contrast(picture: np.ndarray) -> float:
        return float(picture[:, 1::4].mean() - picture[:, ::4].mean())

    assert contrast(kept) >= contrast(exchanged) + 0.25 * (contrast(hairs) - contrast(exchanged))
