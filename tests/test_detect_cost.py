"""What the detect stage costs per frame (issue 21): it does not look for new faces on every frame
of a calm scene, yet a person walking in is still found within half a second, and one leaving
gives the time back; the head pose is computed without numpy's per-call overhead."""

from __future__ import annotations

import pytest

from realtime.faces.mediapipe_mesh import CALM_LOOK_EVERY, DOWN_AFTER
from realtime.faces.stage import DetectStage
from realtime.frame import Frame
from realtime.settings import Settings
from tests.conftest import MEDIA, media


@pytest.fixture(scope="module")
def two_people():
    from benchmarks.faces_detection import compose

    media("d9.mp4"), media("d10.mp4")
    return compose("two", 60, MEDIA)  # two people side by side, faces about 250 px


def run(frames, **changes):
    """Found faces (not held ones) per frame, new-face looks so far per frame, and the detector,
    with the engine's defaults."""
    stage = DetectStage(Settings().replace(small_faces=False, **changes))
    found, looks = [], []
    try:
        for index, image in enumerate(frames):
            frame = Frame(index=index, image=image, capture_ns=index * 33_333_333, pts=index / 30)
            stage.process(frame)
            found.append([face for face in frame.faces if face.held == 0])
            looks.append(stage.detector.looks)
        return found, looks, stage.detector
    finally:
        stage.close()


def test_a_person_walking_into_a_calm_scene_is_found_within_half_a_second(two_people):
    enters = 30
    frames = [image.copy() for image in two_people.frames[:enters + CALM_LOOK_EVERY + 4]]
    for image in frames[:enters]:
        image[:, 640:] = 90  # the right half empty until the second person walks in
    found, looks, detector = run(frames)
    assert all(len(faces) == 1 for faces in found[:enters]), "one person in the calm part"
    # A calm scene is looked at a few times, then every CALM_LOOK_EVERY frames only (before:
    # MediaPipe's detector ran on every frame while fewer than max_faces (8) faces were tracked).
    calm_looks = looks[enters - 1]
    first = next(i for i, faces in enumerate(found) if len(faces) == 2)
    assert enters <= first <= enters + CALM_LOOK_EVERY, f"the second person found at frame {first}"
    right = [face for face in found[first] if face.box[0] > 640]
    assert right and all(len(faces) == 2 for faces in found[first:]), "then both are followed"
    assert calm_looks <= 6, f"{calm_looks} looks in the first {enters} frames"
    assert detector._capacity == 2


def test_the_graph_holds_fewer_faces_again_after_a_person_leaves(two_people):
    leaves = 10
    frames = [image.copy() for image in two_people.frames[:leaves + DOWN_AFTER + 10]]
    for image in frames[leaves:]:
        image[:, 640:] = 90
    found, _, detector = run(frames)
    assert len(found[0]) == 2, "both people found on the first frame"
    assert all(len(faces) == 1 for faces in found[leaves + 1:])
    # MediaPipe's graph re-runs its face detector on every frame while it holds more faces than
    # it finds: after DOWN_AFTER frames it holds one, as many as there are.
    assert detector._capacity == 1


def test_one_face_allowed_never_looks(two_people):
    found, _, detector = run(two_people.frames[:6], max_faces=1)
    assert all(len(faces) == 1 for faces in found) and detector.looks == 0


def test_head_pose_in_plain_floats_agrees_with_the_face_axes():
    """The pose the detector and tracker compute on every frame (now without numpy) is the
    pose of the face axes the relight uses, on a real face turned every way."""
    import math

    import cv2
    import numpy as np

    from realtime.faces.mediapipe_mesh import MediaPipeFaceMesh
    from realtime.faces.pose import face_axes, head_pose

    detector = MediaPipeFaceMesh(Settings().faces, static=True)
    try:
        face = detector.detect(cv2.imread(str(media("s42.jpg"))))[0]
    finally:
        detector.close()
    rotations = [np.eye(3, dtype=np.float32)] + [
        cv2.Rodrigues(np.array(angles, dtype=np.float64))[0].astype(np.float32)
        for angles in ((0, 0.6, 0), (0.4, 0, 0), (0, 0, 0.5), (0.3, -0.7, 0.2))]
    for rotation in rotations:
        landmarks = face.landmarks @ rotation.T
        axes = face_axes(landmarks)
        normal = -axes[:, 2]
        expected = (math.degrees(math.atan2(normal[0], -normal[2])),
                    math.degrees(math.atan2(-normal[1], math.hypot(normal[0], normal[2]))),
                    math.degrees(math.atan2(axes[1, 0], axes[0, 0])))
        assert np.allclose(head_pose(landmarks), expected, atol=1e-3)
