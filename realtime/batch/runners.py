"""Where the jobs run: a pool of local processes (the default without Ray), or Ray.

Ray Core actors, not Ray Data: the unit of work is a whole video processed by a stateful worker
(MediaPipe and any neural model loaded once per worker and reused for every job it takes), each
worker decoding and encoding its own file. Ray Data would move decoded frames (2.7 MB each at
720p) through the object store for no gain. Actors are restarted and their job retried when a
worker process or node dies, so a killed worker loses nothing but its current job's time.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from realtime.batch.jobs import Job, JobResult
from realtime.batch.worker import process_job, worker_name
from realtime.errors import FacecamError

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
Progress = Callable[[str, int], None]

# -- local processes ----------------------------------------------------------------------------
_progress_queue = None


def _init_local_worker(progress_queue) -> None:
    global _progress_queue  # one per worker process: the queue its jobs report progress to
    _progress_queue = progress_queue
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _report_local(output: str, frames: int) -> None:
    if _progress_queue is not None:
        with contextlib.suppress(Exception):  # progress is best effort
            _progress_queue.put_nowait((output, frames))


def _run_local_job(job: Job, settings_data: dict) -> JobResult:
    return process_job(job, settings_data, _report_local)


def _drain(progress_queue, on_progress: Progress | None, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            output, frames = progress_queue.get(timeout=0.2)
        except queue.Empty:
            continue
        except (EOFError, OSError):
            return
        if on_progress is not None:
            on_progress(output, frames)


def run_local(jobs: list[Job], settings_data: dict, workers: int,
              on_progress: Progress | None = None) -> Iterator[JobResult]:
    """Jobs on `workers` local processes; a worker that dies has its job run again (at most
    MAX_ATTEMPTS times) on a fresh pool."""
    context = multiprocessing.get_context("spawn")  # no fork of a process that holds threads
    progress_queue = context.Queue()
    stop = threading.Event()
    drainer = threading.Thread(target=_drain, args=(progress_queue, on_progress, stop), daemon=True)
    drainer.start()
    attempts = {job.output: 0 for job in jobs}
    pending = list(jobs)
    try:
        while pending:
            with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_local_worker,
                                     initargs=(progress_queue,)) as pool:
                futures = {}
                for job in pending:
                    attempts[job.output] += 1
                    futures[pool.submit(_run_local_job, job, settings_data)] = job
                pending = []
                while futures:
                    done, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for future in done:
                        job = futures.pop(future)
                        try:
                            result = future.result()
                        except BrokenProcessPool:
                            # A worker died (killed, out of memory): every job it had not finished
                            # is redone on a new pool.
                            if attempts[job.output] < MAX_ATTEMPTS:
                                log.warning("a worker died while processing %s; running it again", job.input)
                                pending.append(job)
                                continue
                            result = JobResult(input=job.input, output=job.output, status="failed",
                                               error="the worker processing it died repeatedly",
                                               settings_key=job.settings_key)
                        result.attempts = attempts[job.output]
                        yield result
    finally:
        stop.set()
        drainer.join(2)
        progress_queue.close()


# -- Ray ----------------------------------------------------------------------------------------
def ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def run_ray(jobs: list[Job], settings_data: dict, workers: int | None, address: str | None,
            gpus_per_worker: float = 0.0, on_progress: Progress | None = None) -> Iterator[JobResult]:
    """Jobs on Ray actors: a local Ray started for this batch (address None) or an existing cluster."""
    try:
        import ray
    except ImportError:
        raise FacecamError("Ray is not installed: pip install 'facecam[scale]' (or run without "
                           "--ray-address to use local processes)") from None
    from ray.util.queue import Queue as RayQueue

    started_here = not ray.is_initialized()
    if started_here:
        try:
            if address:
                ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
            else:
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                         logging_level=logging.ERROR)
        except Exception as error:
            raise FacecamError(f"cannot {'join Ray at ' + address if address else 'start Ray'}: "
                               f"{str(error).splitlines()[0]}") from None
    try:
        cluster_cpus = int(ray.cluster_resources().get("CPU", 1))
        count = max(1, min(len(jobs), workers or cluster_cpus))
        progress_queue = RayQueue(maxsize=10_000)

        class BatchWorker:
            """One per worker slot; keeps its process (and what it loaded) across jobs."""

            # No constructor arguments: Ray can always restart the actor after its process died.
            def process(self, job: Job, settings: dict, queue_handle) -> JobResult:
                def report(output: str, frames: int) -> None:
                    with contextlib.suppress(Exception):  # progress is best effort
                        queue_handle.put_nowait((output, frames))

                result = process_job(job, settings, report)
                result.worker = f"{worker_name()} node {ray.get_runtime_context().get_node_id()[:8]}"
                return result

        # Options through .options(): Ray's type stubs list only task options for @ray.remote(...).
        worker_class = ray.remote(BatchWorker).options(
            num_cpus=1, num_gpus=gpus_per_worker, max_restarts=MAX_ATTEMPTS,
            max_task_retries=MAX_ATTEMPTS, max_concurrency=1)
        # Any: Ray's stubs type an actor handle's methods as plain methods, without `.remote`.
        actors: list[Any] = [worker_class.remote() for _ in range(count)]
        idle = list(actors)
        waiting = list(jobs)
        running: dict = {}
        while waiting or running:
            while waiting and idle:
                job, actor = waiting.pop(0), idle.pop(0)
                running[actor.process.remote(job, settings_data, progress_queue)] = (job, actor)
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.3)
            while on_progress is not None and not progress_queue.empty():
                try:
                    on_progress(*progress_queue.get_nowait())
                except Exception:
                    break
            for ref in ready:
                job, actor = running.pop(ref)
                idle.append(actor)
                try:
                    result = ray.get(ref)
                except Exception as error:  # the actor died more often than Ray retries
                    result = JobResult(input=job.input, output=job.output, status="failed",
                                       error=f"worker lost: {str(error).splitlines()[0]}",
                                       settings_key=job.settings_key)
                yield result
        for actor in actors:
            ray.kill(actor)
    finally:
        if started_here:
            ray.shutdown()
