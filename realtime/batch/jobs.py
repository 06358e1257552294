"""What a batch has to do: the input videos, the name each output gets, and the job list that
makes a batch resumable (JSON lines in the output folder: what ran, where, how long, the result)."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from realtime.batch.chunks import Chunk
from realtime.errors import FacecamError
from realtime.output import VIDEO_SUFFIXES

JOB_LIST = "facecam-batch.jsonl"
PARTIAL_DIR = ".partial"


@dataclass(frozen=True)
class Job:
    input: str
    output: str
    """The final name in the output folder (a file is there only once it is complete)."""
    partial: str
    """Where the output is written while it is made; renamed to `output` when finished."""
    settings_key: str
    """A digest of the settings: an output made with other settings is not "done"."""
    chunk: Chunk | None = None
    """For a part of a long video: which part (the output is then a chunk file to be joined)."""
    session: int | None = None
    """The provenance mark's session id shared by the chunks of one video."""


@dataclass
class JobResult:
    input: str
    output: str
    status: str
    """'done', 'failed' or 'skipped'."""
    frames: int = 0
    seconds: float = 0.0
    worker: str = ""
    error: str = ""
    settings_key: str = ""
    attempts: int = 1
    finished_at: float = field(default_factory=time.time)

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def expand_inputs(specs: list[str]) -> list[Path]:
    """Files, folders (their videos, sorted) and globs, in the order given, each once."""
    found: list[Path] = []
    for spec in specs:
        path = Path(spec).expanduser()
        if any(ch in spec for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(os.path.expanduser(spec), recursive=True))
            if not matches:
                raise FacecamError(f"no file matches {spec}")
            found.extend(p for p in matches if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
        elif path.is_dir():
            videos = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
            if not videos:
                raise FacecamError(f"no video in folder {path} (looked for {', '.join(sorted(VIDEO_SUFFIXES))})")
            found.extend(videos)
        elif path.is_file():
            found.append(path)
        else:
            raise FacecamError(f"input not found: {spec}")
    unique: list[Path] = []
    seen: set[Path] = set()
    for path in found:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            unique.append(path)
    if not unique:
        raise FacecamError("no input videos")
    return unique


def settings_key(settings_data: dict) -> str:
    return hashlib.sha256(json.dumps(settings_data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def plan(inputs: list[Path], out_dir: Path, mode: str, key: str) -> list[Job]:
    """One job per input; names are `<stem>-<mode>.mp4`, made unique when two inputs share a stem."""
    out_dir = out_dir.expanduser()
    if out_dir.exists() and not out_dir.is_dir():
        raise FacecamError(f"output folder {out_dir} is a file")
    used: dict[str, int] = {}
    jobs: list[Job] = []
    for path in inputs:
        stem = f"{path.stem}-{mode}"
        count = used.get(stem, 0)
        used[stem] = count + 1
        name = f"{stem}.mp4" if count == 0 else f"{stem}-{count + 1}.mp4"
        if (out_dir / name).resolve() == path.resolve():
            raise FacecamError(f"output {out_dir / name} would overwrite its input")
        jobs.append(Job(input=str(path.resolve()), output=str(out_dir / name),
                        partial=str(out_dir / PARTIAL_DIR / name), settings_key=key))
    return jobs


def read_job_list(out_dir: Path) -> dict[str, JobResult]:
    """The newest result per output file from the job list (lines a crash cut short are skipped)."""
    path = out_dir / JOB_LIST
    results: dict[str, JobResult] = {}
    if not path.exists():
        return results
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            data = json.loads(line)
            results[data["output"]] = JobResult(**data)
        except (ValueError, TypeError, KeyError):
            continue
    return results


def append_result(out_dir: Path, result: JobResult) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / JOB_LIST, "a", encoding="utf-8") as job_list:
        job_list.write(result.line() + "\n")
        job_list.flush()
        os.fsync(job_list.fileno())


def is_done(job: Job, previous: dict[str, JobResult]) -> bool:
    """Finished before with the same settings, and the file is still there."""
    result = previous.get(job.output)
    return (result is not None and result.status == "done" and result.settings_key == job.settings_key
            and Path(job.output).is_file())


def chunk_jobs(job: Job, chunks: list[Chunk]) -> list[Job]:
    """The parts of one input's job: each writes `.partial/<name>.chunkNNN.mp4`; all carry one
    provenance session id (derived from the output and settings, so a resumed run keeps it)."""
    from realtime.provenance.watermark import SESSION_BITS

    final = Path(job.output)
    session = int(hashlib.sha256(f"{final}:{job.settings_key}".encode()).hexdigest(), 16) % (1 << SESSION_BITS)
    folder = final.parent / PARTIAL_DIR
    parts = []
    for chunk in chunks:
        name = f"{final.stem}.chunk{chunk.number:03d}"
        parts.append(Job(input=job.input, output=str(folder / f"{name}.mp4"),
                         partial=str(folder / f"{name}.part.mp4"), settings_key=job.settings_key, chunk=chunk,
                         session=session))
    return parts
