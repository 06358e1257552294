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
    from benchmarks.watermark import finish_clip, track_faces
    from realtime.settings import Settings

    faces = track_faces(clip, static=True)
    return finish_clip(clip, faces, session=0x0A5C, settings=Settings().replace(label=False)), faces


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

    frames, _ = read_frames(media("d13.mp4"), 150)
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


@pytest.mark.media
def test_a_face_filled_frame_marks_less_of_the_tracking_crop_and_survives_a_crop(tmp_path):
    """d10 (512x512, the face 0.6 of the frame: its keep-out stays 1.3x, and MediaPipe's tracking
    crop, 1.5x the landmark box, covers nine tenths of the frame's width) marked by the engine's
    finisher: the mark ramps up from 0.3 of its strength at the square's edge to all of it at the
    crop's edge (`wm.ramp_faces`), so it changes at most 11% of the crop's pixels (main: 13.5-15.6%,
    every +-1 of the wall next to the square; through tracking d10's landmarks moved 0.00084 of
    the eye distance on main, 0.00052 now, mean over four start frames); and the clip is still
    found after a 10% crop and CRF 23, with its session id."""
    from benchmarks.watermark import crop, encode, read_frames
    from realtime.provenance.verify import Verdict, verify_pictures
    from tests.test_watermark_keep_out import _tracking_crop

    frames, fps = read_frames(media("d10.mp4"), 150)
    clip = frames[90:150]
    marked, faces = finished(clip)
    shares = [float((m != p).any(axis=2)[_tracking_crop(f[0].points, p.shape)].mean())
              for p, m, f in zip(clip[::10], marked[::10], faces[::10], strict=True)]
    assert max(shares) <= 0.11, shares
    changed = encode(crop(marked), tmp_path / "clip.mp4", crf=23, fps=fps)
    verdict = verify_pictures(iter(changed), Verdict("clip", "video"), chunk=len(changed))
    assert verdict.found and verdict.session == "0a5c", (verdict.strength, verdict.session)
