"""A mirrored recording (a call app's or an editor's horizontal flip) keeps its mark: the
detector flips the working maps back, which restores the nominal sync."""

from __future__ import annotations

import numpy as np
import pytest

from realtime.provenance import watermark as wm
from tests.test_watermark import real_footage, webcam_scene  # noqa: F401 (a fixture)


def test_a_mirrored_picture_is_found_with_its_session():
    photo = webcam_scene()
    marked = wm.Watermarker(0x0A5C).embed(photo)
    detection = wm.detect(np.ascontiguousarray(marked[:, ::-1]))
    assert detection.found and detection.mirrored, detection.z
    assert detection.payload == (wm.VERSION, 0x0A5C)
    assert not wm.detect(np.ascontiguousarray(photo[:, ::-1])).found


@pytest.mark.media
def test_two_seconds_of_real_footage_mirrored_and_reencoded_are_found(real_footage, tmp_path):  # noqa: F811
    """d9 marked by the engine's finisher (faces kept out), flipped left to right and encoded at
    CRF 23: main read 4.8 at the nominal sync and 6.9 anywhere (found from 7.9 and 9.4), a miss;
    flipped back it reads ~20. The same frames never marked, flipped, stay unfound."""
    from benchmarks.watermark import encode, flip
    from realtime.provenance.verify import Verdict, verify_pictures

    clip, marked, fps = real_footage
    changed = encode(flip(marked), tmp_path / "clip.mp4", crf=23, fps=fps)
    verdict = verify_pictures(iter(changed), Verdict("clip", "video"), chunk=len(changed))
    assert verdict.found and verdict.mirrored and verdict.session == "1234", verdict
    assert verdict.frames_marked > 0
    plain = encode(flip(clip), tmp_path / "plain.mp4", crf=23, fps=fps)
    unmarked = verify_pictures(iter(plain), Verdict("plain", "video"), chunk=len(plain))
    assert not unmarked.found, (unmarked.nominal_strength, unmarked.mirrored_strength, unmarked.strength)
