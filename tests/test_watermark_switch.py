"""The temporal key's switch (issue 20): a flat wall must not flicker when the pattern's sign
changes, and a video marked in parts (batch chunks) must carry one unbroken key."""

from __future__ import annotations

import numpy as np
import pytest

from realtime.provenance import watermark as wm
from tests.conftest import media

WALL = (5, 80, 90, 320)
"""d9's plain pink wall left of the head (x0, y0, x1, y1), as benchmarks/watermark.py's WALLS."""


@pytest.fixture(scope="module")
def d9_frames() -> list[np.ndarray]:
    from benchmarks.watermark import read_frames

    frames, _ = read_frames(media("d9.mp4"), 2 * wm.KEY_PERIOD + 2)
    return frames[:2 * wm.KEY_PERIOD + 2]


@pytest.mark.media
def test_a_flat_wall_steps_by_at_most_one_level_when_the_key_switches(d9_frames):
    """What the mark adds to d9's wall changes by at most one level from one frame to the next,
    across every key switch in two seconds. The key's hard switch from +pattern to -pattern
    stepped the wall's marked pixels by two levels twice a second (a flicker in motion)."""
    marker = wm.Watermarker(0x1234)
    x0, y0, x1, y1 = WALL
    added = [marker.embed(frame).astype(np.int16)[y0:y1, x0:x1] - frame[y0:y1, x0:x1] for frame in d9_frames]
    assert max(np.abs(a).max() for a in added) <= 1  # the wall is flat
    steps = [int(np.abs(b - a).max()) for a, b in zip(added, added[1:], strict=False)]
    assert max(steps) <= 1, steps
    # The wall still carries the mark between switches (about half its pixels at +-1).
    assert np.mean(added[5] != 0) > 0.3


def test_texture_keeps_its_mark_through_the_switch():
    """The switch is softened only where it would show (a flat area's one level): on texture the
    first frame after a switch carries the new sign's pattern one level weaker, so the detector
    and the encoder still see a step (a gradual fade lost a fifth of the strength after CRF 30)."""
    rng = np.random.default_rng(7)
    picture = np.full((480, 640, 3), 120, np.uint8)
    picture[:, 320:] = rng.integers(60, 190, (480, 320, 1), dtype=np.uint8)  # textured right half
    marker = wm.Watermarker(0x0BAD)
    added = [marker.embed(picture).astype(np.int16) - picture for _ in range(wm.KEY_HALF + 2)]
    full, switched = added[0], added[wm.KEY_HALF]
    textured = np.abs(full) >= 3
    assert textured.mean() > 0.05
    assert np.array_equal(switched[textured], -(full[textured] - np.sign(full[textured])))
    assert np.abs(switched[:, :300]).max() == 0  # the flat half: nothing on that frame
    assert np.array_equal(added[wm.KEY_HALF + 1], -full)


def test_a_chunk_marked_on_its_own_carries_the_key_of_its_place_in_the_video():
    """Batch chunks are marked by separate engines, each counting from its own first frame (the
    overlap's). Keyed by presentation time, the joined chunks carry exactly what one run over the
    whole video carries, frame for frame; counted per engine, the second chunk's key was shifted
    by its start (the sum over the file and a chunk straddling the cut lost the mark)."""
    from realtime.frame import Frame
    from realtime.provenance import Provenance
    from realtime.settings import Settings

    fps = 25.0
    rng = np.random.default_rng(3)
    picture = rng.integers(40, 200, (240, 320, 3), dtype=np.uint8)
    settings = Settings().replace(mode="passthrough")

    def marked(finisher: Provenance, number: int, index: int) -> np.ndarray:
        frame = Frame(index, picture, 0, pts=number / fps)
        return finisher(picture, frame).astype(np.int16) - picture

    whole = Provenance(lambda: settings, session=0x0777, key_fps=fps)
    reference = [marked(whole, n, n) for n in range(90)]
    # Chunk 0 writes frames 0-44; chunk 1 reads from frame 31 (the overlap), writes 45-89.
    first = Provenance(lambda: settings, session=0x0777, key_fps=fps)
    joined = [marked(first, n, n) for n in range(45)]
    second = Provenance(lambda: settings, session=0x0777, key_fps=fps)
    later = [marked(second, n, index) for index, n in enumerate(range(31, 90))]
    joined += later[45 - 31:]
    for number, (ours, theirs) in enumerate(zip(joined, reference, strict=True)):
        assert np.array_equal(ours, theirs), number
    # Without presentation times (a live camera) the finisher counts its own frames.
    counting = Provenance(lambda: settings, session=0x0777)
    ours = [counting(picture, Frame(n, picture, 0)).astype(np.int16) - picture for n in range(20)]
    assert np.array_equal(ours[16], -ours[0]) and np.array_equal(ours[3], ours[0])


def test_a_batch_chunk_is_marked_with_the_key_of_its_first_frame(tmp_path, monkeypatch):
    """A batch job's second chunk (a 5-s clip cut at 2 s, read from 1 s for the overlap) marks
    its first frame as frame 25 of the video, not as frame 0."""
    from realtime.batch.chunks import plan_chunks
    from realtime.batch.jobs import Job, chunk_jobs
    from realtime.batch.worker import process_job
    from realtime.settings import Settings
    from tests.test_batch import make_clip_with_sound

    clip = tmp_path / "long.mp4"
    make_clip_with_sound(clip, frames=125)
    chunks = plan_chunks(clip, 2.0, 1.0)
    assert len(chunks) == 2 and chunks[1].read_from == pytest.approx(1.0)
    whole = Job(input=str(clip), output=str(tmp_path / "long-swap.mp4"), partial="p", settings_key="k")
    part = chunk_jobs(whole, chunks)[1]
    keyed: list[int] = []
    embed = wm.Watermarker.embed

    def recording(self, picture, keep_out=(), index=None, faces=()):
        keyed.append(self._frame if index is None else index)
        return embed(self, picture, keep_out, index, faces)

    monkeypatch.setattr(wm.Watermarker, "embed", recording)
    settings = Settings().replace(mode="passthrough", label=False)
    result = process_job(part, settings.to_dict())
    assert result.status == "done", result.error
    assert keyed[:3] == [25, 26, 27], keyed[:5]
    assert keyed[-1] == 124
