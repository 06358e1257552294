"""`facecam batch`: many videos (or hours of them), each processed exactly as `facecam run` processes
a file, on local processes or on a Ray cluster.

    facecam batch clips/ talk.mp4 'more/*.mp4' --source me.jpg -o swapped/
    facecam batch clips/ --source me.jpg -o swapped/ --ray-address 10.0.0.5:6379

Exit code: 0 when every input is done (or was done before), 1 when some failed (the others are
still done), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from realtime.batch.chunks import join, plan_chunks
from realtime.batch.jobs import (
    Job,
    JobResult,
    append_result,
    chunk_jobs,
    expand_inputs,
    is_done,
    plan,
    read_job_list,
    settings_key,
)
from realtime.batch.runners import ray_available, run_local, run_ray
from realtime.errors import FacecamError
from realtime.settings import Settings

log = logging.getLogger(__name__)

EXIT_SOME_FAILED = 1
# The least a chunk reads before its cut: face tracking and its smoothing settle well within it.
MIN_OVERLAP_S = 2.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from realtime.cli import add_run_arguments

    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="video files, folders of videos, globs")
    parser.add_argument("--output", "-o", dest="out_dir", required=True, metavar="OUTDIR",
                        help="folder for the outputs (<name>-<mode>.mp4) and the job list")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="worker processes (default: the CPU count; with Ray, the cluster's CPUs)")
    parser.add_argument("--ray", action="store_true",
                        help="use Ray on this machine even without --ray-address (needs facecam[scale])")
    parser.add_argument("--ray-address", default=None, metavar="HOST:PORT",
                        help="join an existing Ray cluster (workers must see the inputs and OUTDIR at the "
                             "same paths, e.g. a shared folder)")
    parser.add_argument("--gpus-per-worker", type=float, default=0.0, metavar="G",
                        help="GPUs each Ray worker reserves for the neural models (e.g. 1 or 0.5)")
    parser.add_argument("--redo", action="store_true", help="process inputs again even if done before")
    parser.add_argument("--chunk-seconds", type=float, default=60.0, metavar="S",
                        help="split videos longer than 2xS seconds into chunks of about S seconds, cut at "
                             "keyframes, processed in parallel and joined (0: never split)")
    parser.add_argument("--overlap-seconds", type=float, default=None, metavar="S",
                        help="frames read (not written) before each chunk, so tracking and smoothing "
                             f"run on across the cut (default: {MIN_OVERLAP_S:g}, or as far back as the "
                             "settings' state reaches: 4 with the mesh swap's face_shape on)")
    # `run`'s settings flags apply to each file; the input, outputs and pacing are the batch's own.
    add_run_arguments(parser, exclude=("input", "outputs", "live", "loop"))


def _total_frames(path: str) -> int:
    import av

    try:
        with av.open(path) as container:
            return int(container.streams.video[0].frames or 0)
    except Exception:
        return 0


def _joined(stream, parts_of, owner, previous, chunk_results, out_dir, label=True):
    """Results of whole files as they come; a chunk's result is recorded, and when the last chunk
    of a file is done the chunks are joined, signed and the file's own result follows."""
    for result in stream:
        whole = owner.get(result.output)
        if whole is None:
            yield result
            continue
        append_result(out_dir, result)  # a finished chunk is kept for a resumed run
        chunk_results.setdefault(whole.output, []).append(result)
        parts = parts_of[whole.output]
        finished = {r.output: r for r in chunk_results[whole.output]}
        if len(finished) + sum(is_done(p, previous) and p.output not in finished for p in parts) < len(parts):
            continue
        failed = [r for r in finished.values() if r.status != "done"]
        combined = JobResult(input=whole.input, output=whole.output, status="failed",
                             worker=", ".join(sorted({r.worker for r in finished.values()})),
                             settings_key=whole.settings_key,
                             seconds=round(sum(r.seconds for r in finished.values()), 3))
        if failed:
            combined.error = f"chunk {Path(failed[0].output).stem}: {failed[0].error}"
            yield combined
            continue
        try:
            partial = Path(whole.partial)
            count = join([Path(p.output) for p in parts], Path(whole.input), partial)
            from realtime.provenance.c2pa_manifest import sign_recording

            sign_recording(partial, session=f"{parts[0].session:04x}", label=label)
            os.replace(partial, whole.output)
            for part in parts:
                Path(part.output).unlink(missing_ok=True)
            combined.status, combined.frames = "done", count
        except Exception as error:  # a failed join is this file's failure only
            combined.error = f"joining its chunks failed: {error}"
        yield combined


def chunk_overlap(asked: float | None, settings: Settings) -> float:
    """Seconds each chunk reads before its cut: what was asked, but never less than the settings'
    state reaches back (realtime.swap.memory_seconds), or the joined file would differ from one
    run's after every cut (the face's shape stepped there); said once when it overrides a value."""
    from realtime.swap import memory_seconds

    memory = memory_seconds(settings)
    if asked is None:
        return max(MIN_OVERLAP_S, memory)
    if asked < 0:
        raise FacecamError("--overlap-seconds must be 0 or more")
    if asked < memory:
        log.warning("--overlap-seconds %g is shorter than the %g s the face shape looks back: each chunk "
                    "reads %g s before its cut", asked, memory, memory)
        return memory
    return asked


def run(args: argparse.Namespace) -> int:
    from realtime.cli import settings_from_args

    settings = settings_from_args(args)
    if args.workers is not None and args.workers < 1:
        raise FacecamError("--workers must be at least 1")
    if settings.source is not None and not Path(settings.source).expanduser().is_file():
        raise FacecamError(f"source photo not found: {settings.source}")
    out_dir = Path(args.out_dir).expanduser()
    inputs = expand_inputs(args.inputs)
    data = settings.to_dict()
    key = settings_key({k: v for k, v in data.items() if k not in ("capture", "output")} |
                       {"max_frames": settings.capture.max_frames, "size": settings.capture.size})
    jobs = plan(inputs, out_dir, settings.mode, key)
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = {} if args.redo else read_job_list(out_dir)
    todo = [job for job in jobs if not is_done(job, previous)]
    skipped = [job for job in jobs if job not in todo]
    quiet = args.json or args.quiet
    for job in skipped:
        if not quiet:
            print(f"skip  {job.input} (done before: {job.output})", file=sys.stderr)
    use_ray = bool(args.ray or args.ray_address)
    if use_ray and not ray_available():
        raise FacecamError("Ray is not installed: pip install 'facecam[scale]' (or leave out --ray/--ray-address "
                           "to use local processes)")
    if not use_ray and not quiet:
        log.info("running on %d local process(es)%s", args.workers or os.cpu_count() or 1,
                 "" if ray_available() else "; for a cluster: pip install 'facecam[scale]' and --ray-address")

    # Long videos become chunks (resumable one by one); whole files stay one job.
    overlap = chunk_overlap(args.overlap_seconds, settings) if args.chunk_seconds > 0 else 0.0
    work: list[Job] = []
    parts_of: dict[str, list[Job]] = {}
    owner: dict[str, Job] = {}
    for job in todo:
        chunks = plan_chunks(job.input, args.chunk_seconds, overlap) \
            if args.chunk_seconds > 0 and _total_frames(job.input) else []
        if len(chunks) > 1:
            parts = chunk_jobs(job, chunks)
            parts_of[job.output] = parts
            for part in parts:
                owner[part.output] = job
                if not is_done(part, previous):
                    work.append(part)
            if not quiet:
                print(f"split {job.input} into {len(parts)} chunks", file=sys.stderr)
        else:
            work.append(job)
    totals = {job.output: _total_frames(job.input) for job in todo}
    done_frames: dict[str, int] = {}
    bar = None
    if sys.stderr.isatty() and not quiet and todo:
        from tqdm import tqdm

        bar = tqdm(total=sum(totals.values()) or None, unit="frame", dynamic_ncols=True, file=sys.stderr)

    def progress(output: str, frames: int) -> None:
        before = done_frames.get(output, 0)
        done_frames[output] = max(before, frames)
        if bar is not None:
            bar.update(done_frames[output] - before)

    results = []
    started = time.monotonic()
    if todo:
        chunk_progress: dict[str, dict[str, int]] = {}

        def progress_of(output: str, frames: int) -> None:
            whole = owner.get(output)
            if whole is None:
                return progress(output, frames)
            parts = chunk_progress.setdefault(whole.output, {})
            parts[output] = frames
            progress(whole.output, sum(parts.values()))

        stream = (run_ray(work, data, args.workers, args.ray_address, args.gpus_per_worker, progress_of)
                  if use_ray else run_local(work, data, args.workers or os.cpu_count() or 1, progress_of))
        chunk_results: dict[str, list] = {}
        for result in _joined(stream, parts_of, owner, previous, chunk_results, out_dir, settings.output.label):
            append_result(out_dir, result)
            results.append(result)
            progress(result.output, totals.get(result.output, result.frames) if result.status == "done" else 0)
            line = (f"done  {result.input} -> {result.output} ({result.frames} frames, {result.seconds:.1f} s, "
                    f"{result.worker})" if result.status == "done" else f"FAIL  {result.input}: {result.error}")
            if bar is not None:
                bar.write(line)
            elif not quiet:
                print(line, file=sys.stderr)
    if bar is not None:
        bar.close()
    failed = [r for r in results if r.status == "failed"]
    elapsed = time.monotonic() - started
    frames = sum(r.frames for r in results if r.status == "done")
    if args.json:
        print(json.dumps({"done": len(results) - len(failed), "skipped": len(skipped), "failed": len(failed),
                          "frames": frames, "seconds": round(elapsed, 3),
                          "fps": round(frames / elapsed, 2) if elapsed > 0 else 0.0,
                          "results": [json.loads(r.line()) for r in results]}, indent=2))
    elif not args.quiet:
        print(f"{len(results) - len(failed)} done, {len(skipped)} skipped, {len(failed)} failed; "
              f"{frames} frames in {elapsed:.1f} s; job list: {out_dir / 'facecam-batch.jsonl'}", file=sys.stderr)
    return EXIT_SOME_FAILED if failed else 0
