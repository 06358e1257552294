"""One job, on whichever worker runs it: process a video exactly as `facecam run --input FILE -o
OUT` does (file mode: every frame, in order, sound kept, marked, C2PA-signed), into a partial name
that is renamed only when the file is complete, so a killed worker never leaves a file that looks
finished."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from realtime.batch.jobs import Job, JobResult

if TYPE_CHECKING:
    from realtime.batch.chunks import Chunk, ChunkSource, WrittenFrom
    from realtime.engine import Engine
    from realtime.settings import Settings


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _chunk_engine(job: Job, chunk: Chunk, settings: Settings) -> tuple[Engine, WrittenFrom, ChunkSource]:
    """An engine over one chunk: reads from the overlap keyframe, writes from the chunk's start."""
    from realtime.batch.chunks import ChunkSource, WrittenFrom
    from realtime.engine import Engine
    from realtime.output import OutputFormat
    from realtime.output.recorder import VideoRecorder

    source = ChunkSource(job.input, settings.capture, chunk)
    width, height = source.size
    # Sound is copied from the input when the chunks are joined, not per chunk.
    stream = OutputFormat(size=(width, height), fps=float(source.fps), live=False, source_path=None)
    written = WrittenFrom(VideoRecorder(Path(job.partial), stream), chunk.start)
    engine = Engine(settings.replace(outputs=("null",)), source=source, outputs=[written],
                    provenance_session=job.session, provenance_key_fps=float(source.fps))
    source.settled = engine.settled_after  # the video's start is read until the run's reference is final
    return engine, written, source


def process_job(job: Job, settings_data: dict, report: Callable[[str, int], None] | None = None) -> JobResult:
    """Runs in a worker process (a local pool's or a Ray actor's); never raises for a bad input.
    report(output, frames done) is called about twice a second for the driver's progress bar."""
    from realtime.engine import Engine
    from realtime.settings import Settings

    started = time.monotonic()
    partial = Path(job.partial)
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.unlink(missing_ok=True)  # a half-written file from a worker that died: redo it
    result = JobResult(input=job.input, output=job.output, status="failed", worker=worker_name(),
                       settings_key=job.settings_key)
    engine: Engine | None = None
    chunk_parts: tuple[WrittenFrom, ChunkSource] | None = None
    try:
        settings = Settings.from_dict(settings_data, origin="batch settings").replace(
            input=job.input, outputs=(str(partial),), live=False, loop=False)
        if job.chunk is not None:
            engine, written, source = _chunk_engine(job, job.chunk, settings)
            chunk_parts = (written, source)
        else:
            engine = Engine(settings)
        engine.start()
        while not engine.wait(0.5):
            if report is not None:
                report(job.output, engine.stats().frames_out)
        engine.stop()
        if engine.failure is not None:
            raise engine.failure
        frames = engine.stats().frames_out
        if chunk_parts is not None:
            written, source = chunk_parts
            frames = written.written  # the overlap was read, not written
            source.close()
        if frames == 0 and job.chunk is None:
            raise RuntimeError("no frame could be read")
        os.replace(partial, job.output)
        result.status = "done"
        result.frames = frames
    except Exception as error:  # one bad file is reported; the batch goes on
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        result.error = message
        if engine is not None:
            engine.stop()
        partial.unlink(missing_ok=True)
    result.seconds = round(time.monotonic() - started, 3)
    result.finished_at = time.time()
    return result
