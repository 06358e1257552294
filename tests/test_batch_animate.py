"""`facecam batch --mode animate`: a long driving video in chunks must give the file one run gives.

The mesh animator takes the first driving face of its run as the neutral reference (and lets it
settle over the next frames): a chunk's engine that started at its overlap took another frame as
neutral, and the portrait's pose and expression jumped at every cut (17-23 dB against one run
after the cuts of a 6-s clip). A chunk now reads the video's start until its reference is final
(realtime/batch/chunks.py ChunkSource), then its overlap."""

from __future__ import annotations

import numpy as np

from tests.conftest import media, psnr, run_cli
from tests.test_batch import decode, make_clip_with_sound

PORTRAIT = "s12.jpg"  # the smallest portrait (375x500): the test stays short


def test_animate_in_chunks_equals_one_run(tmp_path):
    clip = tmp_path / "long.mp4"
    make_clip_with_sound(clip)
    portrait = str(media(PORTRAIT))
    out = tmp_path / "out"
    done = run_cli("batch", str(clip), "-o", str(out), "--workers", "2", "--chunk-seconds", "2",
                   "--overlap-seconds", "1", "--mode", "animate", "--source", portrait, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "into 3 chunks" in done.stderr
    single = tmp_path / "single.mp4"
    assert run_cli("run", "--input", str(clip), "-o", str(single), "--quiet", "--mode", "animate",
                   "--source", portrait).returncode == 0
    ours, theirs = decode(out / "long-animate.mp4"), decode(single)
    assert len(ours) == len(theirs) == 150
    scores = np.array([psnr(a, b) for a, b in zip(ours, theirs, strict=True)])
    # The two files differ by their mark's session and the encoder's restart at each cut: 37.5-40
    # dB after the cuts (a second single run: 38.2-41, chunk 0: 40.4 median); a chunk with its own
    # neutral reference read 17-23 dB from its first frame on (median 20). Margins are wide: the
    # random sessions move single frames by a dB or two (tests/test_batch.py).
    assert scores.min() > 33, (scores.min(), int(scores.argmin()))
    for cut in (50, 100):
        after = scores[cut:cut + 50]
        assert np.median(after) > np.median(scores[:50]) - 5.0, (cut, np.round(after, 1))


class _Collect:
    """An output that keeps every finished (marked) picture by its frame number."""

    name = "collect"
    live = False

    def __init__(self, fps: float) -> None:
        self.fps = fps
        self.pictures: dict[int, np.ndarray] = {}

    def write(self, frame) -> None:
        self.pictures[round(frame.pts * self.fps)] = frame.result.copy()

    def close(self) -> None:
        pass


def _engine_pictures(settings, source, start: float, fps: float) -> dict[int, np.ndarray]:
    from realtime.batch.chunks import ChunkSource, WrittenFrom
    from realtime.engine import Engine

    collect = _Collect(fps)
    # One mark session for both, as the chunks of one batch job share one: the pictures then
    # differ only by what the engines kept.
    engine = Engine(settings.replace(outputs=("null",)), source=source, outputs=[WrittenFrom(collect, start)],
                    provenance_session=0x5EED, provenance_key_fps=fps)
    if isinstance(source, ChunkSource):
        source.settled = engine.settled_after  # as realtime/batch/worker.py does
    engine.start()
    while not engine.wait(0.5):
        pass
    engine.stop()
    if engine.failure is not None:
        raise engine.failure
    return collect.pictures


def test_a_chunk_engine_draws_what_one_run_draws(tmp_path):
    """In process, one mark session: a chunk's pictures are one run's (no encoder between), the
    portrait's pose from the same reference and the mark's temporal key in the same phase."""
    from realtime.animate.mesh import SETTLE_FRAMES
    from realtime.batch.chunks import ChunkSource, plan_chunks
    from realtime.capture.video import VideoFileSource
    from realtime.settings import Settings

    clip = tmp_path / "long.mp4"
    make_clip_with_sound(clip, frames=100)
    settings = Settings(mode="animate", source=str(media(PORTRAIT))).replace(input=str(clip), live=False)
    fps = 25.0
    whole = _engine_pictures(settings, VideoFileSource(clip, settings.capture), float("-inf"), fps)
    chunk = plan_chunks(clip, 1.5, 1.0)[1]
    assert chunk.start == 2.0 and chunk.read_from == 1.0
    source = ChunkSource(clip, settings.capture, chunk)
    part = _engine_pictures(settings, source, chunk.start, fps)
    # It read the video's start for the reference, exactly as far as the reference settles (the
    # first face and SETTLE_FRAMES more), whatever the threads' timing: read ahead, 6 to 24 frames.
    assert source.prelude_frames == SETTLE_FRAMES + 1
    assert sorted(part) == list(range(50, 100))
    scores = [psnr(part[i], whole[i]) for i in sorted(part)]
    # Measured: 53.1 dB and up (a few pixels of the drawing differ where the tracked landmarks have
    # not met again); a prelude of 16, 19 or 23 frames read 40.9 dB on frame 53, the mark's key a
    # phase off 40.5 dB on whole runs of frames, a reference taken before it settled 31 dB,
    # another neutral reference 17-23 dB. Once (session 27, the whole suite on a loaded machine, the
    # prelude 13 frames as asserted above) one frame read 40.8 dB and the other 49 were 55-62; not
    # seen again in 10 runs under load. So one frame may read down to 38 dB; every other one must be
    # over 48 (a key a phase off reads 40.5 on whole runs of frames, a wrong reference under 32 on all).
    assert min(scores) > 38, np.round(scores, 1)
    assert sum(score <= 48 for score in scores) <= 1, np.round(scores, 1)


def test_the_chunk_source_reads_the_start_only_until_settled(tmp_path):
    from realtime.batch.chunks import ChunkSource, plan_chunks
    from realtime.settings import Settings

    clip = tmp_path / "long.mp4"
    make_clip_with_sound(clip, frames=100)
    capture = Settings().replace(input=str(clip), live=False).capture
    chunk = plan_chunks(clip, 1.5, 1.0)[1]

    def times(source: ChunkSource) -> list[float]:
        seen = []
        while (captured := source.read()) is not None:
            seen.append(round(captured.pts * 25))
        source.close()
        return seen

    # Nothing to settle (swap): straight to the overlap, as before.
    plain = ChunkSource(clip, capture, chunk)
    plain.settled = lambda pts: True
    assert times(plain) == list(range(25, 100))
    # Settled after five frames: those, then the overlap.
    counted = ChunkSource(clip, capture, chunk)
    counted.settled = lambda pts: counted.prelude_frames >= 5
    assert times(counted) == [0, 1, 2, 3, 4, *range(25, 100)]
    # Never settled (no face before the overlap): the start runs on into the chunk, no frame twice.
    never = ChunkSource(clip, capture, chunk)
    never.settled = lambda pts: False
    assert times(never) == list(range(100))


class _PictureThatAsks(np.ndarray):
    """A driving picture that asks the animator whether it has settled each time it is copied: the
    animator copies the first one as its neutral picture while it takes its reference, and a
    batch chunk's capture thread asks `settled()` at any such moment."""

    answers: list[bool]
    animator: object

    def copy(self, order="C"):  # type: ignore[override]
        self.answers.append(self.animator.settled())
        return np.ndarray.copy(np.asarray(self), order)


def test_the_reference_is_not_settled_while_it_is_taken(library):
    """The chunk's source left the video's start after 6 frames when `settled()` came between the
    animator's reference and its settling countdown (CI, session 25: 31 dB against one run)."""
    from realtime.animate.mesh import SETTLE_FRAMES, MeshAnimator
    from realtime.faces import create_detector
    from realtime.frame import Frame
    from realtime.settings import FaceSettings, Settings
    from tests.conftest import read_video

    frames = read_video(media("d14.mp4"))[:SETTLE_FRAMES + 2]
    detector = create_detector(FaceSettings(), static=False)
    try:
        faces = [max(detector.detect(image), key=lambda face: face.size) for image in frames]
    finally:
        detector.close()
    settings = Settings(mode="animate", source=str(media(PORTRAIT)))
    animator = MeshAnimator(settings)
    animator.set_source(library.get(settings.source))
    answers: list[bool] = []
    seen = []
    for index, (image, face) in enumerate(zip(frames, faces, strict=True)):
        picture = image.view(_PictureThatAsks)
        picture.answers, picture.animator = answers, animator
        animator.animate(Frame(index=index, image=picture, capture_ns=0, pts=index / 25, faces=[face]), [face])
        seen.append(animator.settled())
    assert answers and not any(answers), answers
    assert seen.index(True) == SETTLE_FRAMES, seen  # the first face and SETTLE_FRAMES more
