"""The swapped face must be the SOURCE person (issue 13): on a written file (facecam's own command
line, its mark and the H.264 encoder), an identity model independent of facecam -- dlib's 128-d
ResNet, the benchmark's (benchmarks/identity.py) -- must find the output nearer the source photo
than the target's own face, and within reach of the goal's distance.

s42 on d13 is the benchmark's worst photo pair after d10 (session 19: retrieval 33%, distance
0.54 over 30 frames): the output read as d13's own person, because the mesh draws the source's
skin on the target's proportions (eye spacing, nose length, mouth width). The face-shape transfer
(face_shape, realtime/swap/shape.py) gives the face the source's proportions.

Real media (../shared/media), the real CLI; skipped without the `eval` extra (dlib).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import media

FRAMES = 10
EVERY = 3  # frames 0, 3, 6, 9: d13 turns its head a little and talks in these


def distances(tmp_path, source: str, target: str, config=None,
              picked: tuple[int, ...] = tuple(range(0, FRAMES, EVERY))) -> tuple[list[float], list[float]]:
    """Per measured frame (`picked`) of the written swap: (dlib distance to the source photo, to the
    target's own face in the same frame of a passthrough written the same way)."""
    pytest.importorskip("dlib", reason="the identity model needs the eval extra")
    from benchmarks.identity import IdentityModel
    from benchmarks.quality_swap import embed_face
    from benchmarks.quality_written import landmarks_of, read, write
    from realtime.faces.source import SourceLibrary

    target_path, source_path = media(target), media(source)
    frames = max(picked) + 1
    swapped = write(source_path, target_path, tmp_path / "swap.mp4", frames, config, False)
    passthrough = write(None, target_path, tmp_path / "passthrough.mp4", frames, config, False)
    output = read(tmp_path / "swap.mp4", frames, swapped).frames
    own = read(tmp_path / "passthrough.mp4", frames, passthrough).frames
    model = IdentityModel()
    library = SourceLibrary()
    try:
        photo = model.embed(library.get(str(source_path)).image)
    finally:
        library.close()
    found = landmarks_of([output[i] for i in picked])
    reference = landmarks_of([own[i] for i in picked])
    to_source, to_target = [], []
    for index, points, ref in zip(picked, found, reference, strict=True):
        ours = embed_face(model, output[index], points if points is not None else ref)
        theirs = embed_face(model, own[index], ref)
        assert ours is not None and theirs is not None, index
        to_source.append(model.distance(ours, photo))
        to_target.append(model.distance(ours, theirs))
    return to_source, to_target


def test_the_swapped_face_is_the_source_person_on_a_written_file(tmp_path):
    to_source, to_target = distances(tmp_path, "s42.jpg", "d13.mp4")
    # Main (face_shape 0): 0.509 (0.499-0.515), the same as to d13's own face (0.499-0.517);
    # with the source's proportions (face_shape 0.75): 0.464 (0.454-0.474); 1: 0.467.
    assert float(np.mean(to_source)) < 0.49, to_source
    # Nearer the source than the target's own face in most frames (main: 1 of 4; 0.75: 4 of 4,
    # by 0.04-0.06).
    assert sum(s < t for s, t in zip(to_source, to_target, strict=True)) >= 3, (to_source, to_target)


def test_a_wink_is_still_the_source_person(tmp_path):
    # s42 on d3 winking (frames 40 and 45: her right eye shut; 50: both): a closing eye kept the
    # target's own lid up to the crease, and with it her heavy lid and eye socket, which dlib reads
    # as d3 (issue 13, s29: the benchmark's 2 of 6 frames nearer d3 than s42). Now its lash line only,
    # the source's lid worn above it without its lashes and crease (realtime/swap/eyes.py).
    to_source, to_target = distances(tmp_path, "s42.jpg", "d3.mp4", picked=(40, 45, 50))
    # 2f65cc0: 0.592 / 0.611 / 0.597 to s42 against 0.557 / 0.534 / 0.566 to d3 (nearer d3 in all three);
    # here 0.514 / 0.510 / 0.496 against 0.618 / 0.614 / 0.641.
    assert all(s < t for s, t in zip(to_source, to_target, strict=True)), (to_source, to_target)
