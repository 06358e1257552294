"""The face-shape transfer (face_shape, realtime/swap/shape.py) must not make the new face jitter
(issue 13): on d9 (a talking man with metal glasses, his head nearly still) s9's swap with the
shape at 0.75 moves its features about as steadily as with the shape off.

The camera's grain was taken from the target's unmoved pixels under the whole face, its own lip
line included: a faint second lip line 2-4 px from the moved lips, on which MediaPipe's mouth
points flickered (the output's landmark jitter +48% over the input's against +22% with the shape
off; realtime/swap/mesh.py, _mouth_grain; benchmarks/results/s20-jitter).

Measured as quality_swap measures it (static MediaPipe on the output frames, the mean normalised
second difference of the 68 points), on the swap and blend stages in-process with video-mode
landmarks (as the app runs): deterministic. The mouth's 20 points are bounded on their own: the
doubled lip line shows there (with the s20 fix taken out, on 2f65cc0: the mouth 1.56x the
shape-off output's, the whole face only 1.11x), while the whole face's ratio over these 40 frames
swings 1.11-1.17 with changes that do not touch the shape (80 frames read 1.04: the eyes and jaw
points of a few frames make the difference; benchmarks/results/s29-lead).
"""

from __future__ import annotations

import av
import cv2
import numpy as np

from benchmarks.quality_swap import MOUTH_68, jitter
from realtime.blend.stage import BlendStage
from realtime.frame import Frame
from realtime.settings import FaceSettings, Settings
from realtime.swap.stage import SwapStage
from tests.conftest import media

FRAMES = 40


def _pictures(video: str) -> list[np.ndarray]:
    pictures = []
    with av.open(str(media(video))) as container:
        for picture in container.decode(video=0):
            pictures.append(picture.to_ndarray(format="bgr24"))
            if len(pictures) >= FRAMES:
                break
    return pictures


def _output_track(library, pictures: list[np.ndarray], faces: list, face_shape: float) -> list[np.ndarray | None]:
    from realtime.faces import create_detector

    settings = Settings().replace(source=str(media("s9.jpg")), face_shape=face_shape)
    swap, blend = SwapStage(settings, library), BlendStage(settings)
    static = create_detector(FaceSettings(max_faces=1), static=True)
    try:
        track = []
        for index, (picture, found) in enumerate(zip(pictures, faces, strict=True)):
            frame = Frame(index=index, image=picture, capture_ns=0, pts=index / 30.0, faces=list(found))
            swap.process(frame)
            blend.process(frame)
            assert frame.output is not None
            seen = static.detect(frame.output)
            track.append(seen[0].landmarks if seen else None)
    finally:
        swap.close()
        static.close()
    assert sum(landmarks is not None for landmarks in track) >= FRAMES - 2
    return track


def test_the_face_shape_adds_no_jitter_on_a_still_head_with_glasses(library):
    from realtime.faces import create_detector

    cv2.setNumThreads(1)  # the same output on any machine load
    pictures = _pictures("d9.mp4")
    video = create_detector(FaceSettings(max_faces=1), static=False)
    try:
        faces = [video.detect(picture) for picture in pictures]
    finally:
        video.close()
    assert all(faces)
    off = _output_track(library, pictures, faces, 0.0)
    on = _output_track(library, pictures, faces, 0.75)
    # The mouth: 2f65cc0 1.057x (4.36e-3 -> 4.61e-3); without _mouth_grain's fix 1.559x.
    mouth_off, mouth_on = jitter(off, MOUTH_68), jitter(on, MOUTH_68)
    assert mouth_on <= 1.25 * mouth_off, (
        f"the shape transfer made the lips jitter: {mouth_on:.5f} against {mouth_off:.5f} without")
    # The whole face: main 0.00794 against 0.00657 (1.21x) before the s20 fix; 60bac94 1.159x;
    # 2f65cc0 0.00738 against 0.00645 (1.143x). The bound sits above this probe's swing (1.11-1.17
    # with changes that do not touch the shape); the mouth's bound above is the sharp one.
    # s36-s9eyes (s9's eye and lip surrounds mixed with their mirror, swap/eyes.py even_surrounds):
    # 0.00799 against 0.00657 (1.216x; main 2582950 0.00781 against 0.00712, 1.097x). The default
    # output (face_shape on) is as steady as main's (+2%; its mouth 0.00529, main's 0.00584): the
    # ratio rose because the face without the shape transfer became steadier. Hence 1.25.
    whole_off, whole_on = jitter(off), jitter(on)
    assert whole_on <= 1.25 * whole_off, (
        f"the shape transfer made the face jitter: {whole_on:.5f} against {whole_off:.5f} without")
