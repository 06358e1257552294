"""The mesh animator on real portraits and real driving frames: a still driver leaves the portrait
as it is, a moved driver moves the portrait (checked by detecting the face again on the output),
an open mouth opens the portrait's mouth onto a dark interior, and calibration resets the neutral
face. Plus the command line: a portrait with no face is a clear error (exit 2)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from realtime.animate.mesh import MeshAnimator
from realtime.animate.surround import fit_similarity_2d
from realtime.faces.topology import topology
from realtime.frame import Face, Frame
from realtime.settings import FaceSettings, Settings
from tests.conftest import detect_one, head_moved, media, psnr, read_video, run_cli

pytestmark = pytest.mark.media

OPEN_MOUTH_FRAME = 70  # d9.mp4: the widest open mouth of the clip (closed at frame 0)


@pytest.fixture(scope="module")
def detector():
    from realtime.faces import create_detector

    detector = create_detector(FaceSettings(min_confidence=0.3), static=True)
    yield detector
    detector.close()


@pytest.fixture(scope="module")
def driver_frames():
    frames = read_video(media("d9.mp4"))
    return frames[0], frames[OPEN_MOUTH_FRAME]


def animator_for(library, portrait: str, **changes) -> MeshAnimator:
    settings = Settings(mode="animate").replace(**changes)
    animator = MeshAnimator(settings)
    animator.set_source(library.get(str(media(portrait))))
    return animator


def drive(animator: MeshAnimator, image: np.ndarray, face: Face, index: int = 0) -> np.ndarray:
    return animator.animate(Frame(index=index, image=image, capture_ns=0, pts=index / 30, faces=[face]),
                            [face])


def similarity_parts(source: np.ndarray, target: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(angle in degrees, scale, shift of the centre) of the similarity source -> target (2-D)."""
    matrix = fit_similarity_2d(source, target)
    angle = math.degrees(math.atan2(matrix[1, 0], matrix[0, 0]))
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    centre = source.mean(axis=0)
    return angle, scale, matrix[:, :2] @ centre + matrix[:, 2] - centre


def test_still_driver_reproduces_the_portrait(library, driver_frames):
    """Driving = one frame repeated, through the video tracker like a real run: the portrait
    stays as it is (PSNR >= 40 dB on every frame)."""
    from realtime.faces import create_detector

    animator = animator_for(library, "s42.jpg")
    portrait = animator._portrait.image
    video_detector = create_detector(FaceSettings(), static=False)
    try:
        for index in range(4):
            face = detect_one(video_detector, driver_frames[0])
            out = drive(animator, driver_frames[0], face, index)
            assert out.shape == portrait.shape
            assert psnr(out, portrait) >= 40.0
    finally:
        video_detector.close()


def test_moved_driver_moves_the_portrait_in_its_own_frame(library, detector, driver_frames):
    """The driver tilts by 12 degrees, grows by 10 % and moves right by a tenth of its face:
    the portrait's face, detected again on the output, does the same at its own scale."""
    still = driver_frames[0]
    reference = detect_one(detector, still)
    moved = head_moved(still, reference, 12.0, 1.1, 0.1)
    moved_face = detect_one(detector, moved)
    rigid = np.array([33, 133, 263, 362, 1, 6, 168, 10, 234, 454])
    driver_angle, driver_scale, driver_shift = similarity_parts(reference.points[rigid], moved_face.points[rigid])

    animator = animator_for(library, "s42.jpg")
    portrait = animator._portrait
    drive(animator, still, reference)
    out = drive(animator, moved, moved_face, 1)
    out_face = detect_one(detector, out)
    angle, scale, shift = similarity_parts(portrait.landmarks[rigid, :2], out_face.points[rigid])
    assert angle == pytest.approx(driver_angle, abs=2.0)
    assert scale == pytest.approx(driver_scale, rel=0.04)
    # the shift, in face sizes, is the driver's (the faces have different sizes in pixels)
    np.testing.assert_allclose(shift / portrait.face_size, driver_shift / reference.size, atol=0.03)
    # the picture's edge stays where it was
    for edge in (np.s_[:1], np.s_[-1:], np.s_[:, :1], np.s_[:, -1:]):
        assert psnr(out[edge], portrait.image[edge]) > 40


@pytest.mark.parametrize("interior", ["driver", "cavity"])
def test_open_mouth_opens_the_portrait_mouth(library, detector, driver_frames, interior):
    still, talking = driver_frames
    animator = animator_for(library, "s42.jpg", mouth_interior=interior)
    portrait = animator._portrait
    drive(animator, still, detect_one(detector, still))
    out = drive(animator, talking, detect_one(detector, talking), 1)
    top = topology()
    # Where the portrait's lips were, between the mouth corners: darker now (an interior).
    lips = np.zeros(out.shape[:2], dtype=np.uint8)
    cv2.fillPoly(lips, [np.round(portrait.landmarks[top.outer_lips, :2]).astype(np.int32)], 255)
    before = cv2.mean(cv2.cvtColor(portrait.image, cv2.COLOR_BGR2GRAY), mask=lips)[0]
    after = cv2.mean(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), mask=lips)[0]
    assert after < before - 15
    # ... and the face found on the output has its mouth open.
    out_face = detect_one(detector, out)
    gap = abs(cv2.contourArea(out_face.points[top.inner_mouth].astype(np.float32))) / out_face.size ** 2
    still_gap = abs(cv2.contourArea(portrait.landmarks[top.inner_mouth, :2].astype(np.float32))) / \
        portrait.face_size ** 2
    assert gap > still_gap + 0.002


def test_calibration_takes_the_next_face_as_neutral(library, detector, driver_frames):
    still = driver_frames[0]
    reference = detect_one(detector, still)
    tilted = head_moved(still, reference, -10.0)
    tilted_face = detect_one(detector, tilted)
    settings = Settings(mode="animate")
    animator = animator_for(library, "s42.jpg")
    portrait = animator._portrait.image
    drive(animator, still, reference)
    assert psnr(drive(animator, tilted, tilted_face, 1), portrait) < 30  # moved
    animator.configure(settings.replace(calibration=1))  # what Engine.update(calibrate=True) does
    assert psnr(drive(animator, tilted, tilted_face, 2), portrait) >= 40  # the new neutral face
    assert psnr(drive(animator, still, reference, 3), portrait) < 30  # moved from it


def test_side_by_side_and_portrait_size(library, detector, driver_frames):
    still = driver_frames[0]
    face = detect_one(detector, still)
    animator = animator_for(library, "s42.jpg", side_by_side=True, portrait_size=(300, 400))
    out = drive(animator, still, face)
    driver_width = round(still.shape[1] * 400 / still.shape[0])
    assert out.shape == (400, driver_width + 300, 3)


def test_portrait_without_a_face_exits_2(tmp_path):
    blank = tmp_path / "wall.png"
    gradient = np.tile(np.linspace(40, 200, 320, dtype=np.uint8), (240, 1))
    cv2.imwrite(str(blank), cv2.merge([gradient, gradient, gradient]))
    result = run_cli("run", "--mode", "animate", "--source", str(blank), "--input", "demo",
                     "--output", "null", "--max-frames", "2", timeout=120)
    assert result.returncode == 2, result.stderr
    assert "no face found" in result.stderr and "wall.png" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_animates_a_painting_from_a_video(tmp_path):
    import av

    out = tmp_path / "mona.mp4"
    result = run_cli("run", "--mode", "animate", "--source", str(media("s9.jpg")), "--input",
                     str(media("d9.mp4")), "--output", str(out), "--max-frames", "6", "--strength", "1.2",
                     timeout=180)
    assert result.returncode == 0, result.stderr
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (720, 1280)  # the portrait's size, not the driver's
        assert sum(1 for _ in container.decode(video=0)) == 6


def test_portrait_size_of_another_shape_is_fitted_not_distorted(library, detector, driver_frames):
    still = driver_frames[0]
    face = detect_one(detector, still)
    animator = animator_for(library, "s9.jpg", portrait_size=(1280, 720))  # a tall painting, 16:9
    out = drive(animator, still, face)
    assert out.shape == (720, 1280, 3)
    source = library.get(str(media("s9.jpg")))  # 720 x 1280: fitted at 405 x 720 in the middle
    middle = out[:, 437:437 + 405]
    assert psnr(middle, cv2.resize(source.image, (405, 720), interpolation=cv2.INTER_AREA)) > 35
    assert out[:, :400].mean() < 0.75 * middle.mean()  # the sides: a darker, blurred backdrop
    landmarks = animator._portrait.landmarks
    expected = source.face.landmarks[:, :2] * (720 / 1280) + [437.5, 0.0]
    np.testing.assert_allclose(landmarks[:, :2], expected, atol=1.0)


def test_calibrate_through_the_stage_drops_the_reference(library, detector, driver_frames):
    from realtime.animate.stage import AnimateStage

    settings = Settings(mode="animate", source=str(media("s42.jpg")))
    stage = AnimateStage(settings, library)
    still = driver_frames[0]
    face = detect_one(detector, still)
    stage.process(Frame(index=0, image=still, capture_ns=0, faces=[face]))
    assert stage.animator._reference is not None
    stage.configure(settings.replace(calibration=settings.animate.calibration + 1))  # Engine.update(calibrate=True)
    assert stage.animator._reference is None
    stage.close()
