"""The tracker's smoothing keeps expressions (issue 22): a blink, an opening mouth or a glance
moves a few dozen of a face's 478 points, and the One Euro filter's speed (the median point's)
stayed at rest, so the face was filtered at its still cutoff through the expression."""

from __future__ import annotations

import numpy as np
import pytest

from realtime.faces.one_euro import OneEuroFilter
from realtime.faces.tracking import EXPRESSION_PARTS, smoothing_parameters


def _blink(parts: tuple[np.ndarray, ...]) -> float:
    """Share of a sudden lid drop (5 % of the face) the filter passes on the second frame."""
    rng = np.random.default_rng(0)
    face = rng.uniform(0, 300, (478, 2)).astype(np.float32)
    filt = OneEuroFilter(*smoothing_parameters(0.5), parts=parts)
    for index in range(30):  # a still face with MediaPipe-like jitter (0.2 % of its size)
        filt(face + rng.normal(0, 0.6, face.shape), index / 30, scale=300)
    lid = EXPRESSION_PARTS[0]
    shut = face.copy()
    shut[lid, 1] += 15.0
    for index in range(30, 32):
        out = filt(shut + rng.normal(0, 0.6, face.shape), index / 30, scale=300)
    return float((out[lid, 1] - face[lid, 1]).mean() / 15.0)


def test_a_blink_passes_the_filter_within_two_frames():
    assert _blink(()) < 0.6  # the median point's speed alone: the filter at its still cutoff
    assert _blink(EXPRESSION_PARTS) > 0.8


@pytest.mark.media
def test_tracked_eyes_and_mouth_follow_the_detections_on_a_real_video():
    """d9 (a talking head that barely moves): the eyes' and the mouth's opening as tracked and
    smoothed follow MediaPipe's own (unsmoothed) readings (main: 0.92 and 0.89 correlation)."""
    from benchmarks.quality_animate import eye_openness
    from realtime.animate.mouth import mouth_opening
    from realtime.faces import create_detector
    from realtime.faces.topology import topology
    from realtime.faces.tracking import FaceTracker
    from realtime.settings import FaceSettings
    from tests.conftest import media, read_video

    frames = read_video(media("d9.mp4"))[:150]
    settings = FaceSettings(max_faces=1)
    detector = create_detector(settings, static=False)
    tracker = FaceTracker(settings, expressions=True)  # animate mode's
    inner = topology().inner_mouth
    raw, tracked = [], []
    try:
        for index, image in enumerate(frames):
            faces = detector.detect(image)
            smoothed = tracker.update(faces, index / 30, image.shape[1], image.shape[0])
            if faces and smoothed:
                for out, face in ((raw, faces[0]), (tracked, smoothed[0])):
                    out.append((eye_openness(face.landmarks),
                                mouth_opening(face.landmarks[inner, :2], face.size)))
    finally:
        detector.close()
    raw_arr, tracked_arr = np.array(raw), np.array(tracked)
    assert len(raw_arr) > 140
    eyes = np.corrcoef(raw_arr[:, 0], tracked_arr[:, 0])[0, 1]
    mouth = np.corrcoef(raw_arr[:, 1], tracked_arr[:, 1])[0, 1]
    assert eyes > 0.95 and mouth > 0.95, (eyes, mouth)


def test_animate_mode_tracks_expressions_and_swap_mode_does_not():
    from realtime.faces.stage import DetectStage
    from realtime.settings import Settings

    stage = DetectStage.__new__(DetectStage)  # the tracker only: no MediaPipe graph
    from realtime.faces.tracking import FaceTracker

    stage.tracker = FaceTracker(Settings().faces, expressions=False)
    stage.detector = type("NoDetector", (), {"configure": lambda self, settings: None})()
    stage.configure(Settings(mode="animate"))
    assert stage.tracker.expressions
    stage.configure(Settings(mode="swap"))
    assert not stage.tracker.expressions
