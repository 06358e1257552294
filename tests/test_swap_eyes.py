"""The source's lash line drawn over a narrow-eyed target's eyes (issue 13, s14): heavy,
half-closed-looking lids with a second, blurred lash line, as blind judges saw on d20.

Real photo (s42 from ../shared/media), real frame (d20: a man with narrow eyes, not a tuning
video), MediaPipe for every face.
"""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from realtime.blend.stage import BlendStage
from realtime.faces.topology import UPPER_LIDS, topology
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper
from tests.conftest import media


def lightness(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)


def swapped(library, image: np.ndarray, source: str):
    """(the target's picture as the face-shape transfer moved it, its face there, the output):
    `image` under `source` (MediaPipe, the real mesh swapper and blend stage, default settings).
    The target's eyes are where the transfer (face_shape) moved them, in the moved picture: its
    lash lines move with its eyes and must stay its own there."""
    from realtime.faces import create_detector

    detector = create_detector(FaceSettings(max_faces=1), static=True)
    face = detector.detect(image)[0]
    detector.close()
    settings = Settings()
    swapper = MeshSwapper(settings)
    swapper.set_source(library.get(str(media(source))))
    frame = Frame(index=0, image=image, capture_ns=0, pts=0.0, faces=[face])
    frame.layers = swapper.swap(frame, [face])
    moved = frame.output.copy() if frame.output is not None else image
    face = frame.layers[0].face
    BlendStage(settings).process(frame)
    swapper.close()
    return moved, face, frame.output


@pytest.mark.parametrize("source", ["s42.jpg", "s9.jpg"])
def test_a_narrow_eyed_target_keeps_its_own_lash_line(library, source):
    with av.open(str(media("d20.mp4"))) as container:
        image = next(container.decode(video=0)).to_ndarray(format="bgr24")
    image, face, output = swapped(library, image, source)
    # The band just above each eye's contour (the upper lash line, 1 % of the face): the
    # target's own there, not the source's lashes squeezed onto it (a second, blurred line).
    band = np.zeros(image.shape[:2], np.uint8)
    for eye in (topology().right_eye, topology().left_eye):
        contour = face.landmarks[eye, :2]
        upper = contour[contour[:, 1] <= contour[:, 1].mean()]
        lifted = upper - (0.0, 0.01 * face.size)
        cv2.fillPoly(band, [np.round(np.concatenate([upper, lifted[::-1]])).astype(np.int32)], 1)
    change = np.abs(lightness(output) - lightness(image))[band > 0]
    assert band.sum() > 50
    assert np.median(change) < 6  # 19 levels when the source's lids were drawn there (e5b2a92); s9 10 levels before this branch


def test_a_closed_or_winking_eye_keeps_no_straight_edge(library):
    # d3 frame 50 (s42): one eye closed, the other nearly; the zone kept above a closed eye's flat
    # contour had a straight upper edge, the target's lid on one side, the source's on the other
    # (a 3.35-level step, e13ae22). A closing eye now keeps the target's lids over an ellipse
    # (swap/eyes.py, `closing`; tests/test_swap_blink.py), whose edge must be no seam either.
    from benchmarks import realism
    from realtime.faces import create_detector
    from realtime.swap.eyes import eye_keep

    with av.open(str(media("d3.mp4"))) as container:
        for number, picture in enumerate(container.decode(video=0)):
            if number == 50:
                image = picture.to_ndarray(format="bgr24")
                break
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    face = detector.detect(image)[0]
    detector.close()
    source = library.get(str(media("s42.jpg")))
    assert eye_keep(face.landmarks, face.box, face.size, source.face.landmarks) is not None
    settings = Settings()
    swapper = MeshSwapper(settings)
    swapper.set_source(source)
    frame = Frame(index=0, image=image, capture_ns=0, pts=0.0, faces=[face])
    frame.layers = swapper.swap(frame, [face])
    BlendStage(settings).process(frame)
    found = realism.frame_seam(frame.output.astype(np.float32), image.astype(np.float32), face.landmarks)
    assert found["levels"] <= 3.0, found


@pytest.mark.parametrize("video,index,source", [("d6.mp4", 27, "s12.jpg"), ("d3.mp4", 35, "s9.jpg")])
def test_an_open_eye_shows_all_of_its_opening(library, video, index, source):
    # Issue 13, s23: d6 widening her eyes under s12, d3 looking aside under s9. The eye holes' soft
    # edge was centred on the contour, so the source's lid lay half over the opening's rim: the
    # target's own lash line and liner greyed, the eye looked narrower than the target's (MediaPipe
    # on the written s12 -> d6: 0.06 less open on her left eye; s9 -> d3: Mona Lisa's pink lid over
    # the top of the iris).
    from tests.conftest import frame_of

    image, face, output = swapped(library, frame_of(video, index), source)
    # The opening's rim: the eye's contour to 1.2 % of the face inside it, the target's own there.
    rim = np.zeros(image.shape[:2], np.uint8)
    for eye in (topology().right_eye, topology().left_eye):
        cv2.fillPoly(rim, [np.round(face.landmarks[eye, :2] * 16).astype(np.int32)], 1, shift=4)
    reach = 2 * round(0.012 * face.size) + 1
    inside = cv2.erode(rim, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach)))
    rim -= inside
    change = np.abs(lightness(output) - lightness(image))[rim > 0]
    assert rim.sum() > 100
    # Main (the edge centred on the contour): d6 9.6, d3 6.2 grey levels; 0.7 and 1.4 with the edge outside.
    assert float(change.mean()) < 3.0, float(change.mean())


def lid_lines(image: np.ndarray, landmarks: np.ndarray) -> list[float]:
    """Per eye (right, left): how dark the thin horizontal lines in its upper lid band are, in grey
    levels: the mean vertical black top-hat (a closing 0.3 eye widths long, minus the picture) over
    the band from 0.1 eye widths above the upper lid (above the kept lash line) to 60% of the way up
    to the brow's lower edge, over the lid's middle. A second lid line or a crease there shows up;
    shading broader than the element does not."""
    light = lightness(image)
    depths = []
    for lid_ids, brow_ids in zip(UPPER_LIDS, ((46, 53, 52, 65, 55), (276, 283, 282, 295, 285)), strict=True):
        lid, brow = landmarks[list(lid_ids), :2], landmarks[list(brow_ids), :2]
        width = float(np.linalg.norm(lid[-1] - lid[0]))
        hat = cv2.morphologyEx(light, cv2.MORPH_BLACKHAT, np.ones((int(round(0.3 * width)) | 1, 1), np.uint8))
        order = np.argsort(brow[:, 0])
        brow_y = np.interp(lid[2:-2, 0], brow[order, 0], brow[order, 1])
        low, high = lid[2:-2].copy(), lid[2:-2].copy()
        low[:, 1] -= 0.1 * width
        high[:, 1] += 0.6 * (brow_y - high[:, 1])
        band = np.zeros(light.shape, np.uint8)
        cv2.fillPoly(band, [np.round(np.concatenate([low, high[::-1]])).astype(np.int32)], 1)
        depths.append(float(hat[band > 0].mean()))
    return depths


@pytest.mark.parametrize("index", [0, 45])
def test_a_narrow_eyed_target_shows_one_upper_lid_line(library, index):
    # Issue 13, s24: on d20 (narrow eyes, smooth lids) the source's lashes were drawn in the lid
    # band above d20's kept slit, a second, dotted lid line over it (the blind judge's "doubled
    # lid"; s12 the clearest). The band must carry little more thin dark line than the target's own
    # lid (moved by the face shape) does.
    from tests.conftest import frame_of

    image, face, output = swapped(library, frame_of("d20.mp4", index), "s12.jpg")
    excess = max(out - own for out, own in zip(lid_lines(output, face.landmarks), lid_lines(image, face.landmarks),
                                               strict=True))
    # Main: 4.3 (frame 0) and 3.7 (frame 45) grey levels over the target's, on the right eye; 0.3
    # and 1.0 with the source's lid band closed over a narrower eye (swap/eyes.py, plain_lids).
    assert excess < 2.0, excess


def iris_offsets(image: np.ndarray, detector) -> list[float]:
    """Per eye (right, left): where its iris sits between its corners as MediaPipe reads them on
    `image`, in eye widths along the image's x axis (test_animate_gaze_travel's dark centroid)."""
    from tests.test_animate_gaze_travel import _iris_along

    points = detector.detect(image)[0].landmarks
    return [_iris_along(image, points, eye) for eye in (0, 1)]


def test_both_irises_keep_the_targets_gaze(library):
    # Issue 13, s25: the blind judge's "diverging gaze" on s9 -> d6. The irises are the target's own
    # (the eye holes), but the outer eye corners -- d6's liner wing and lash ends, just past
    # MediaPipe's corner point -- were the source's skin: each eye read shorter on its outer side,
    # its iris further out in it, the right eye's one way, the left eye's the other. Read on the
    # output the way a viewer sees it: each iris between the corners MediaPipe finds there.
    from realtime.faces import create_detector
    from tests.conftest import frame_of

    detector = create_detector(FaceSettings(max_faces=1), static=True)
    apart = []
    for index in (15, 35, 55):
        image, _, output = swapped(library, frame_of("d6.mp4", index), "s9.jpg")
        out, own = iris_offsets(output, detector), iris_offsets(image, detector)
        # The two irises' shifts apart, in eye widths (a gaze drawn apart > 0, together < 0).
        apart.append((out[1] - own[1]) - (out[0] - own[0]))
    detector.close()
    # Main: 0.066, 0.083, 0.075 (mean 0.075); with the outer corners the target's 0.036, 0.065, 0.033
    # (mean 0.045).
    assert abs(float(np.mean(apart))) < 0.055, apart


def lid_edges(image: np.ndarray, landmarks: np.ndarray) -> list[float]:
    """Per eye (right, left): how sharp its upper lid's edge into the slit is, in grey levels per
    pixel: on nine vertical profiles over the eye's middle 60%, from 0.35 eye widths above its upper
    contour down to its corners' line, the strongest darkening step, averaged."""
    grey = cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32), (0, 0), 0.7)
    edges = []
    for contour_ids, (outer, inner) in zip((topology().right_eye, topology().left_eye), ((33, 133), (263, 362)),
                                           strict=True):
        a, b = landmarks[outer, :2].astype(np.float64), landmarks[inner, :2].astype(np.float64)
        width = float(np.linalg.norm(b - a))
        along = (b - a) / width
        down = np.array([-along[1], along[0]])
        down = down if down[1] > 0 else -down
        centre = 0.5 * (a + b)
        contour = landmarks[contour_ids, :2].astype(np.float64)
        upper = contour[(contour - centre) @ down < 0]
        position, height = (upper - centre) @ along / width, (upper - centre) @ down / width
        order = np.argsort(position)
        steps = []
        for column in np.linspace(-0.3, 0.3, 9):
            ts = np.linspace(float(np.interp(column, position[order], height[order])) - 0.35, 0.0, 64)
            line = (centre + column * width * along + ts[:, None] * width * down).astype(np.float32)
            values = cv2.remap(grey, line[None, :, 0], line[None, :, 1], cv2.INTER_LINEAR)[0]
            steps.append(float(np.max(-np.diff(values) / ((ts[1] - ts[0]) * width))))
        edges.append(float(np.mean(steps)))
    return edges


@pytest.mark.parametrize("source", ["s42.jpg", "s9.jpg"])
def test_a_narrow_eyed_targets_lids_are_as_sharp_as_its_own(library, source):
    # Issue 13, s25/s26: on d20's narrow, open eyes the source's lash band stayed over the slit's upper
    # edge past the kept lash line, softening one lid more than the other: s42's left lid 0.56 of the
    # target's sharpness on the written file against 0.95 for its right (lopsided lids), s9's right 0.84.
    from tests.conftest import frame_of

    image, face, output = swapped(library, frame_of("d20.mp4", 0), source)
    ratios = [out / own for out, own in zip(lid_edges(output, face.landmarks), lid_edges(image, face.landmarks),
                                            strict=True)]
    # 8188412: s42 1.13 / 0.85, s9 0.78 / 0.91; the open eye's wider margin (EYE_MARGIN_UP_OPEN):
    # s42 1.06 / 0.96, s9 0.98 / 0.99.
    assert min(ratios) > 0.9, ratios


def wing_darkness(image: np.ndarray, landmarks: np.ndarray) -> float:
    """How dark the darkest tenth of the outer-corner wings are (a liner's wing: from each eye's
    outer corner to 0.4 eye widths past it, 0.15 eye widths either side of the eye's line), in
    lightness levels below the skin there (its 75th percentile)."""
    grey, darkness = lightness(image), []
    for outer, inner in ((33, 133), (263, 362)):
        corner, other = landmarks[outer, :2], landmarks[inner, :2]
        width = float(np.linalg.norm(corner - other))
        out = (corner - other) / width
        side = np.array([-out[1], out[0]])
        quad = np.array([corner + s * 0.15 * width * side + t * 0.4 * width * out
                         for t, s in ((0.1, -1), (1, -1), (1, 1), (0.1, 1))])
        zone = np.zeros(grey.shape, np.uint8)
        cv2.fillPoly(zone, [np.round(quad).astype(np.int32)], 1)
        values = grey[zone > 0]
        darkness.append(float(np.percentile(values, 75) - np.percentile(values, 10)))
    return float(np.mean(darkness))


@pytest.mark.parametrize("index", [25, 45])
def test_a_faint_lashed_source_does_not_wear_the_targets_winged_liner(library, index):
    # Issue 13, s29: s9 (the Mona Lisa: no lash line of her own) on d10 (black winged liner, heavy
    # lashes) read as d10: the outer-corner zone kept d10's wings (swap/eyes.py, `_outer_corner`).
    # The zone stays (the target's corners: no diverging gaze), its dark lines lifted as far as the
    # source has none of its own; s42 (real lashes) keeps them.
    from tests.conftest import frame_of

    picture = frame_of("d10.mp4", index)
    worn = {}
    for source in ("s9.jpg", "s42.jpg"):
        _, face, output = swapped(library, picture, source)
        worn[source] = wing_darkness(output, face.landmarks) / wing_darkness(picture, face.landmarks)
    # Of d10's own wings' darkness: s9 1.22 and 1.20 before this change (frames 25, 45), 0.99 and
    # 0.98 with it; s42 1.27 and 1.15 (its lashes real: unchanged).
    assert worn["s9.jpg"] < 1.1, worn
    assert worn["s42.jpg"] > 1.1, worn


@pytest.mark.parametrize("index", [0, 30])
def test_a_faint_lashed_source_leaves_the_targets_glasses_rim_dark(library, index):
    # Issue 13, s30: the target's lash lines lightened for s9 (above) lightened d13's thin dark
    # glasses rim too, where it crosses the outer part of each eye's band: the top rim broke into
    # a whitish streak (the written sharpness match of s9 and s10 on d13 0.905 -> 0.75; reverted in
    # s29). A face wearing glasses (frames found) keeps its eyes' bands as the camera has them.
    from realtime.faces import create_detector
    from realtime.faces.occluders import glasses_mask
    from tests.conftest import frame_of

    picture = frame_of("d13.mp4", index)
    detector = create_detector(FaceSettings(max_faces=1), static=True)
    face = detector.detect(picture)[0]
    detector.close()
    keep, (gx, gy) = glasses_mask(picture, face.landmarks, face.box, face.size)
    rim = np.zeros(picture.shape[:2], bool)
    rim[face.box[1] + gy:face.box[1] + gy + keep.shape[0], face.box[0] + gx:face.box[0] + gx + keep.shape[1]] = keep > 0.5
    # The rim near each eye's outer corner (within 0.6 eye widths), where the lightened band reaches.
    near = np.zeros(picture.shape[:2], np.uint8)
    for outer, inner in ((33, 133), (263, 362)):
        width = float(np.linalg.norm(face.landmarks[outer, :2] - face.landmarks[inner, :2]))
        cv2.circle(near, tuple(int(round(v)) for v in face.landmarks[outer, :2]), int(0.6 * width), 1, -1)
    rim &= near > 0
    assert rim.sum() > 200, rim.sum()
    _, _, output = swapped(library, picture, "s9.jpg")
    lighter = float((lightness(output)[rim] - lightness(picture)[rim]).mean())
    # Lightness levels the rim gained (frames 0, 30): without the lash lightening -3.2 / -4.3 (the
    # new face's colour); lightened with it +26.4 / +24.7 (s29, reverted); the frames' pixels spared
    # -3.3 / -4.1 (but the ring's lid edges still went: not kept); a face with glasses left alone
    # -3.2 / -4.3.
    assert lighter < 2.0, lighter


# A lid's middle points and the mesh ring above them (right eye, left eye): the lid band runs from
# the contour to the ring.
_LID_MIDDLE = ((161, 160, 159, 158, 157), (388, 387, 386, 385, 384))
_LID_RING = ((30, 29, 27, 28, 56), (260, 259, 257, 258, 286))


def _lid_bands(image: np.ndarray, points: np.ndarray) -> list[float]:
    """Each upper lid band's mean grey (right, left): 0.1 to 0.7 of the way from the eye's contour
    to the mesh ring above it."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    bands = []
    for lid, ring in zip(_LID_MIDDLE, _LID_RING, strict=True):
        low, high = points[list(lid), :2].astype(np.float32), points[list(ring), :2].astype(np.float32)
        share = np.linspace(0.1, 0.7, 7, dtype=np.float32)
        at = low[:, None, :] + share[None, :, None] * (high - low)[:, None, :]
        bands.append(float(cv2.remap(grey, at[..., 0], at[..., 1], cv2.INTER_LINEAR).mean()))
    return bands


def _lip_line_halves(image: np.ndarray, points: np.ndarray) -> tuple[float, float]:
    """How dark the line between the lips is (grey levels under the lips' median, 0.24 mouth widths
    across it) over its left and its right half in the picture (0.1-0.45 mouth widths from the middle)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    upper = points[[78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308], :2]
    lower = points[[78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308], :2]
    line = 0.5 * (upper + lower)
    width = float(np.linalg.norm(points[291, :2] - points[61, :2]))
    middle = 0.5 * float(points[61, 0] + points[291, 0])
    halves = []
    for side in (-1.0, 1.0):
        depths = []
        for x in middle + side * np.linspace(0.1, 0.45, 8) * width:
            y = float(np.interp(x, line[:, 0], line[:, 1]))
            ys = np.arange(y - 0.12 * width, y + 0.12 * width, 0.5, dtype=np.float32)
            column = cv2.remap(grey, np.full((len(ys), 1), x, np.float32), ys[:, None], cv2.INTER_LINEAR).ravel()
            depths.append(float(np.median(column) - column.min()))
        halves.append(float(np.mean(depths)))
    return halves[0], halves[1]


def test_a_painting_drawn_unevenly_wears_alike_lids_and_an_even_lip_line(swap_one, tmp_path):
    """s9 (the Mona Lisa) on d6 (issue 13, s36; the blind judge: "eyes of different shapes; blurred
    mouth shifted sideways"). Her painted left lid carries a pale highlight down to its contour that
    the right lacks, and her lip line, turned with her face, is darker on its left half; worn
    frontal, one eye sat under a pale pink band, the other did not, and the mouth leaned left. On
    the written frames 45 and 20 (H.264, crf 18), measured where the new face draws its features:
    the two upper lid bands differ by 9.8 / 12.7 grey levels on main 2582950 (the left the paler),
    7.1 / 4.8 with the lids evened (bound: mean 8.5); the lip line's left-right darkness differs
    from the camera's by 10.1 / 9.7 levels on main, 1.9 / 4.3 here (bound 7)."""
    from tests.conftest import frame_of, still_faces, through_the_recorder

    shots = [swap_one("d6.mp4", index, "s9.jpg", moved=True) for index in (45, 20)]
    written = through_the_recorder([output for _, _, output in shots], tmp_path / "s9_d6.mp4")
    lids, lips = [], []
    for index, (_, face, _), output in zip((45, 20), shots, written, strict=True):
        right, left = _lid_bands(output, face.landmarks)
        lids.append(abs(right - left))
        camera = still_faces("d6.mp4", index, FaceSettings(max_faces=1))[0]
        drawn, own = _lip_line_halves(output, face.landmarks), _lip_line_halves(frame_of("d6.mp4", index), camera.landmarks)
        lips.append(abs((drawn[0] - drawn[1]) - (own[0] - own[1])))
    assert float(np.mean(lids)) < 8.5, lids
    assert max(lips) < 7.0, lips
