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

from realtime.batch.jobs import append_result, expand_inputs, is_done, plan, read_job_list, settings_key
from realtime.batch.runners import ray_available, run_local, run_ray
from realtime.errors import FacecamError

log = logging.getLogger(__name__)

EXIT_SOME_FAILED = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from realtime.cli import add_run_arguments

    # `run`'s options (every setting) apply to each file; -o is the output folder here.
    add_run_arguments(parser)
    # argparse keeps the conflict policy per group: let -o/--output be redefined for batch.
    for container in (parser, *parser._action_groups):
        container.conflict_handler = "resolve"
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


def _total_frames(path: str) -> int:
    import av

    try:
        with av.open(path) as container:
            return int(container.streams.video[0].frames or 0)
    except Exception:
        return 0


def run(args: argparse.Namespace) -> int:
    from realtime.cli import settings_from_args

    args.output = None  # run's -o (outputs) does not apply: each job writes its own file
    args.input = None
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
        stream = (run_ray(todo, data, args.workers, args.ray_address, args.gpus_per_worker, progress)
                  if use_ray else run_local(todo, data, args.workers or os.cpu_count() or 1, progress))
        for result in stream:
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
