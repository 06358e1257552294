"""Identity shape transfer (issue 13, realtime/swap/shape.py): the swapped face takes the source's
proportions (eye spacing, nose, mouth, jaw) while keeping the target's pose, expression and
steadiness, and nothing beyond the face's surroundings moves.

Real frames (d9, frame 0), a real photo (s42), MediaPipe measuring the output afresh.
"""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from realtime.blend.stage import BlendStage
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.mesh import MeshSwapper
from realtime.swap.shape import frontal_shape
from tests.conftest import media

# Distances between mesh points a person is recognised by, in the face's own frontal frame, over
# the distance between the outer eye corners: inner eye corners, nose bridge to tip, mouth
# corners, brow to eye corner (both sides), cheek width, jaw width. (Not the chin's height: the
# photo's mouth is a little open, which drops its chin.)
PROPORTIONS = ((133, 362), (168, 2), (61, 291), (105, 33), (334, 263), (234, 454), (172, 397))


def proportions(landmarks: np.ndarray) -> np.ndarray:
    shape = frontal_shape(landmarks)
    eyes = np.linalg.norm(shape[33, :2] - shape[263, :2])
    return np.array([np.linalg.norm(shape[a, :2] - shape[b, :2]) for a, b in PROPORTIONS]) / eyes


def measured_proportions(detector, image: np.ndarray) -> np.ndarray:
    """The proportions MediaPipe finds in a picture, averaged over the picture moved by 0-2 whole
    pixels each way: one detection's own jitter is as large as the bound. (d9 itself, moved so,
    reads up to 0.012 from its unmoved self; the output at face_shape=0 reads 0.022-0.038 from the
    target over the nine moves, 0.026 averaged, so a change of 249 pixels at a brow's end moved the
    one unmoved reading 0.030 -> 0.032 with the average 0.026 -> 0.026.)"""
    readings = []
    for dx in range(3):
        for dy in range(3):
            moved = cv2.warpAffine(image, np.float32([[1, 0, dx], [0, 1, dy]]), image.shape[1::-1],
                                   borderMode=cv2.BORDER_REPLICATE)
            found = detector.detect(moved)
            assert found, f"no face found in the output moved by {dx}, {dy}"
            readings.append(proportions(found[0].landmarks))
    return np.mean(readings, axis=0)


@pytest.fixture(scope="module")
def detector():
    from realtime.faces import create_detector

    detector = create_detector(FaceSettings(max_faces=1), static=True)
    yield detector
    detector.close()


@pytest.fixture(scope="module")
def d9(detector):
    with av.open(str(media("d9.mp4"))) as container:
        image = next(container.decode(video=0)).to_ndarray(format="bgr24")
    faces = detector.detect(image)
    assert faces
    return image, faces[0]


@pytest.fixture(scope="module")
def s42(library):
    return library.get(str(media("s42.jpg")))


def swap_frames(amount: float, source, image, face, count: int = 1) -> list[Frame]:
    settings = Settings().replace(face_shape=amount)
    swapper, blend = MeshSwapper(settings), BlendStage(settings)
    swapper.set_source(source)
    frames = []
    for index in range(count):
        frame = Frame(index=index, image=image, capture_ns=index * 33_000_000, pts=index / 30, faces=[face])
        frame.layers = swapper.swap(frame, [face])
        blend.process(frame)
        frames.append(frame)
    swapper.close()
    return frames


def test_output_takes_the_source_proportions(d9, s42, detector):
    image, face = d9
    source, target = proportions(s42.face.landmarks), proportions(face.landmarks)
    apart = np.linalg.norm(target - source)
    measured = {}
    for amount in (0.0, 1.0):
        measured[amount] = measured_proportions(detector, swap_frames(amount, s42, image, face)[0].output)
    # Off: the target's proportions, as before (only the measurement's own noise).
    assert np.linalg.norm(measured[0.0] - target) < 0.35 * apart
    # On: measurably nearer the source's, overall and for most single proportions.
    assert np.linalg.norm(measured[1.0] - source) < 0.7 * np.linalg.norm(measured[0.0] - source)
    nearer = np.abs(measured[1.0] - source) < np.abs(measured[0.0] - source)
    assert nearer.sum() >= 0.6 * len(PROPORTIONS), nearer


def test_still_target_gives_a_still_transfer(d9, s42):
    """The same face in every frame: the moved landmarks and the warped surroundings are identical
    from frame to frame (the transfer adds no jitter)."""
    image, face = d9
    frames = swap_frames(1.0, s42, image, face, count=4)
    first = frames[0].layers[0].face.landmarks
    assert np.abs(first[:, :2] - face.landmarks[:, :2]).max() > 2.0  # it did move the face
    for frame in frames[1:]:
        assert np.array_equal(frame.layers[0].face.landmarks, first)
        assert frame.layers[0].box == frames[0].layers[0].box


def test_nothing_moves_on_or_beyond_the_outline(d9, s42):
    """Only the inner face takes the source's shape: the outline's points (jaw, chin, cheeks,
    forehead edge) stay where the target has them, and every pixel outside the outline -- hair,
    glasses temples, the background's straight edges -- is what it is with the transfer off (a
    field that moved the outline bent d13's light tubes and d3's wall edge into seams)."""
    from realtime.faces.topology import topology

    image, face = d9
    off, on = swap_frames(0.0, s42, image, face)[0], swap_frames(1.0, s42, image, face)[0]
    oval = topology().face_oval
    moved = on.layers[0].face.landmarks
    assert np.abs(moved[oval, :2] - face.landmarks[oval, :2]).max() < 0.05
    assert np.abs(moved[:468, :2] - face.landmarks[:468, :2]).max() > 3.0  # the inner face moved
    inside = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round(face.landmarks[oval, :2]).astype(np.int32)], 1)
    beyond = cv2.dilate(inside, np.ones((5, 5), np.uint8)) == 0
    assert np.array_equal(on.output[beyond], off.output[beyond])


def test_off_changes_nothing(d9, s42):
    image, face = d9
    frame = swap_frames(0.0, s42, image, face)[0]
    assert np.array_equal(frame.layers[0].face.landmarks, face.landmarks)


def test_an_open_source_mouth_does_not_open_the_target_mouth(d9, library, detector):
    """The photo's parted lips are expression, not shape: with the transfer at full strength the
    target's closed mouth stays closed (its inner-lip gap, measured afresh, no wider)."""
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "assets" / "source_open_mouth.jpg"
    if not path.exists():
        pytest.skip(f"needs {path}")
    image, face = d9
    output = swap_frames(1.0, library.get(str(path)), image, face)[0].output
    found = detector.detect(output)
    assert found

    def gap(landmarks):
        eyes = np.linalg.norm(landmarks[33, :2] - landmarks[263, :2])
        return float(np.linalg.norm(landmarks[13, :2] - landmarks[14, :2])) / eyes

    assert gap(found[0].landmarks) <= gap(face.landmarks) + 0.02


def test_the_warped_region_ends_without_a_step(d9, s42):
    """The target's pixels are moved inside a box; on the box's border the field has faded to
    nothing, so no straight edge shows where the warped patch meets the untouched picture."""
    from realtime.swap.shape import ShapeTransfer, apply

    image, face = d9
    transfer = ShapeTransfer()
    transfer.set_source(s42.face.landmarks)
    field = transfer.field(face.landmarks, 1.0, 0, 0.0)
    patch, (x0, y0, x1, y1), moved = apply(image, field, face.landmarks)
    original = image[y0:y1, x0:x1].astype(int)
    change = np.abs(patch.astype(int) - original).max(axis=2)
    height, width = image.shape[:2]
    edges = [edge for edge, inside in ((change[0], y0 > 0), (change[-1], y1 < height),
                                       (change[:, 0], x0 > 0), (change[:, -1], x1 < width)) if inside]
    assert edges and max(int(edge.max()) for edge in edges) <= 3
    assert change.max() > 40  # ... while inside, the face's surroundings did move
    assert np.abs(moved[:, :2] - face.landmarks[:, :2]).max() > 3


@pytest.mark.parametrize("video", ["d9.mp4", "d13.mp4"])
def test_glasses_frames_stay_where_the_camera_has_them(video, detector, library):
    """A glasses frame is not part of the face's shape: with the transfer at full strength the
    target's frames keep their edges (the eyes behind the lenses move). Moved with the eyes they
    bent (d13's bridge kinked) and lost 10-12% of their edges on s12, d9's lower rims doubled
    (issue 13's glasses goal: 80% kept)."""
    from benchmarks.realism import glasses_kept

    with av.open(str(media(video))) as container:
        image = next(container.decode(video=0)).to_ndarray(format="bgr24")
    faces = detector.detect(image)
    assert faces
    source = library.get(str(media("s12.jpg")))
    kept = {amount: glasses_kept(swap_frames(amount, source, image, faces[0])[0].output, image,
                                 faces[0].landmarks) for amount in (0.0, 1.0)}
    # The goal's 80%, and at most a little below the transfer off (the eyes' own edges in the
    # ring move by design). Session 17: the skin tone map and the edge membrane's balance
    # (s17-tone: the face coloured and lit like the person's own skin) took the rims' contrast
    # down on d9's frame 0: 0.889 -> 0.80 with the transfer off, 0.810 -> 0.79 at full strength
    # (written s12 -> d9, 40 frames: 0.85 -> 0.81). Session 18 (realtime/blend/kept.py): the kept
    # rims take the new face's low-frequency difference from the person, so they keep the camera's
    # contrast against the skin beside them: d9 0.919 off, 0.907 at full strength (d13 0.904,
    # 0.890, as before); the floor is back above the 0.85 of before the skin-tone merge.
    assert kept[0.0] >= 0.88 and kept[1.0] >= 0.86 and kept[1.0] >= kept[0.0] - 0.09, kept


def test_the_rastered_window_stays_zero_where_the_exact_one_is(d9, s42):
    """The field's window on its grid comes from a distance transform (cheap), not the exact
    polygon distance per grid point: it must never move a point the exact window keeps still (the
    outline and everything beyond it stay the target's, pixel for pixel), and follow it inside."""
    from realtime.swap.shape import ShapeTransfer, grid_step

    image, face = d9
    transfer = ShapeTransfer()
    transfer.set_source(s42.face.landmarks)
    field = transfer.field(face.landmarks, 1.0, 0, 0.0)
    x0, y0, x1, y1 = field.bounds()
    step = grid_step(x1 - x0, y1 - y0)
    xs = x0 - step + (np.arange(int((x1 - x0) / step) + 4) + 0.5) * step - 0.5
    ys = y0 - step + (np.arange(int((y1 - y0) / step) + 4) + 0.5) * step - 0.5
    fast = field._window_grid(xs, ys)
    exact = field._window(np.stack(np.meshgrid(xs, ys), axis=-1))
    assert not np.any((fast > 0) & (exact == 0))
    assert np.abs(fast - exact).max() <= 0.2 and abs(fast.mean() - exact.mean()) <= 0.02


def test_a_chunk_read_from_the_window_before_its_cut_gets_one_runs_shape(detector, s42):
    """The target's neutral shape is the mean of its last NEUTRAL_WINDOW_S seconds: a batch chunk
    whose engine starts that long before its cut moves the face exactly as one run over the whole
    video does at the cut. (The exponential mean it replaced still carried 37% of the chunk's
    first frame after a 2-s overlap: the face's shape stepped at every cut, tests/test_batch.py.)"""
    from realtime.swap.shape import NEUTRAL_WINDOW_S, ShapeTransfer

    shapes = []
    with av.open(str(media("d3.mp4"))) as container:
        for frame in container.decode(video=0):
            if frame.time > NEUTRAL_WINDOW_S + 2.0:
                break
            faces = detector.detect(frame.to_ndarray(format="bgr24"))
            if faces:
                shapes.append((float(frame.time), faces[0].landmarks))
    cut = shapes[-1][0]

    def field_at_cut(read_from: float):
        transfer = ShapeTransfer()
        transfer.set_source(s42.face.landmarks)
        field = None
        for moment, landmarks in shapes:
            if moment >= read_from:
                field = transfer.field(landmarks, 1.0, 0, moment)
        assert field is not None
        return field.coeffs

    one_run = field_at_cut(-1.0)
    assert np.allclose(field_at_cut(cut - NEUTRAL_WINDOW_S - 0.05), one_run, atol=1e-6)
    # ... and the window is what it takes: a chunk read from 1 s before its cut moves the face
    # differently (its mean is of that second only).
    assert np.abs(field_at_cut(cut - 1.0) - one_run).max() > 1e3 * 1e-6
