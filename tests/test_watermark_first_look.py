"""The tracker's first look: MediaPipe's face mesh finds a face with its short-range detector on
the whole frame (on whatever frame a viewer's tracker starts, and again whenever it loses the
face), and every later frame's landmarks keep whatever that look found. The detector resamples
the frame to 128x128 without prefiltering, reading a sparse lattice of pixels; the mark leaves
that lattice alone (`wm.detector_lattice`), so the look is the unmarked frame's, bit for bit
(benchmarks/results/s20-mark/)."""

from __future__ import annotations

import numpy as np
import pytest

from realtime.provenance import watermark as wm
from tests.conftest import media


def finished(clip: list[np.ndarray]) -> tuple[list[np.ndarray], list[list]]:
    """`clip` marked by the engine's finisher without the visible label (a corner the detector
    also reads: the label is meant to be seen), each frame with its faces (static mode)."""
    from benchmarks.watermark import track_faces
    from realtime.frame import Frame
    from realtime.provenance import Provenance
    from realtime.settings import Settings

    settings = Settings().replace(label=False)
    finisher = Provenance(lambda: settings, session=0x0A5C)
    faces = track_faces(clip, static=True)
    marked = []
    for index, (picture, found) in enumerate(zip(clip, faces, strict=True)):
        frame = Frame(index, picture, 0)
        frame.faces = found
        marked.append(finisher(picture, frame))
    return marked, faces


def test_the_lattice_is_every_tenth_pixel_of_720p_and_left_unmarked():
    rows, columns = wm.detector_lattice(1280, 720)
    assert list(columns[:3]) == [0, 10, 20] and len(columns) == 128
    # 720 rows letterboxed into the 1280-px square: the sampled rows keep the 10-px step.
    assert list(rows[:3]) == [0, 10, 20] and len(rows) == 72
    portrait_rows, portrait_columns = wm.detector_lattice(720, 1280)
    assert (portrait_rows == columns).all() and (portrait_columns == rows).all()
    # A 480x480 frame's step (3.75 px) reads about half its columns: too much to leave unmarked.
    assert wm.detector_lattice(480, 480) is None
    grey = np.full((720, 1280, 3), 87, np.uint8)
    marked = wm.Watermarker(0x0A5C).embed(grey)
    changed = (marked != grey).any(axis=2)
    assert not changed[np.ix_(rows, columns)].any()
    assert changed.mean() > 0.5  # the rest is marked as before (~65% of a flat frame's pixels)


def _detector():
    from realtime.faces.mediapipe_mesh import import_mediapipe

    mp = import_mediapipe()
    return mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5)


def _looks(detector, pictures: list[np.ndarray]) -> np.ndarray:
    """The detector's face boxes and key points (relative floats), one row per picture."""
    rows = []
    for picture in pictures:
        found = detector.process(np.ascontiguousarray(picture[:, :, ::-1])).detections
        data = found[0].location_data
        box = data.relative_bounding_box
        rows.append([box.xmin, box.ymin, box.width, box.height, found[0].score[0],
                     *(value for point in data.relative_keypoints for value in (point.x, point.y))])
    return np.array(rows)


@pytest.mark.media
def test_a_tracker_starting_on_any_marked_frame_sees_the_unmarked_face():
    """d13 (720x1280; frames 90-150, every 10th) marked by the engine's finisher: MediaPipe's face
    detector finds exactly the unmarked frames' boxes, and the face mesh started afresh on each
    frame (static mode: detector, then landmarks in its crop, which the 1.6x keep-out spares)
    gives exactly the unmarked frames' landmarks. Main's mark moved the detector on every frame,
    and through it the landmarks by 0.0005 of the eye distance (0.0011 through tracking)."""
    from benchmarks.watermark import read_frames

    frames, _ = read_frames(media("d13.mp4"))
    clip = frames[90:150:10]
    marked, faces = finished(clip)
    assert all(faces) and all((m != c).any() for m, c in zip(marked, clip, strict=True))
    detector = _detector()
    try:
        moved = np.abs(_looks(detector, marked) - _looks(detector, clip)).max()
    finally:
        detector.close()
    assert moved == 0.0, moved
    from benchmarks.watermark import track_faces

    again = track_faces(marked, static=True)
    for before, after in zip(faces, again, strict=True):
        assert len(after) == len(before)
        assert np.array_equal(after[0].landmarks, before[0].landmarks)
