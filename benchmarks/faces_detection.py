"""Several people and small faces: are they found, and what does it cost?

    python -m benchmarks.faces_detection                 # 90 frames per clip, writes results
    python -m benchmarks.faces_detection --frames 30 --no-write

Clips composed from ../shared/media (deterministic, built in memory; `clip_path()` also writes
one to benchmarks/.clips/ as H.264 for `facecam run`, git-ignored), all 1280x720:
- small: d13.mp4's man shrunk to full-body scale (his face 30 px wide at the start, 40 px after
  3 s, the mesh's landmark box), walking across the room behind him (d13's own top rows, enlarged);
- two: d9.mp4 and d10.mp4 side by side (two people, faces about 250 px);
- four: d3, d9, d10 and d14 in four columns (four people, faces about 120 px: below what the
  face mesh's own detector finds in a 720p frame).
Where each face is: the face mesh on the source video's own big frames, carried by the same
scale and offset (so the truth does not come from the detector under test's small-face path).

For each clip the detect stage (detector + tracker, as the engine runs it) is timed per frame,
and a face counts as found in a frame when a face that was detected in that frame (not one held
from earlier frames) has its centre inside the true face box. Configurations, in the same run:
- before: max_faces 1, small faces off (the defaults before issue 18);
- mesh only: max_faces 8, small faces off;
- default: max_faces 8, small faces on (the defaults now).
Also the one-big-face case (d13.mp4 at 720x1280, what a webcam user has) for the cost.

Results: benchmarks/results/faces_detection.{json,md} and faces_small_sheet.png (crops of the
written output of `facecam run` on the small clip, enlarged 4x, input above output).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CLIP_DIR = ROOT / "benchmarks" / ".clips"
"""Composed clips written for `facecam run` (git-ignored: rebuilt on demand, deterministic)."""
RESULTS = ROOT / "benchmarks" / "results"
MEDIA = Path(os.environ.get("FACECAM_MEDIA", ROOT.parent / "shared" / "media"))
SIZE = (1280, 720)
FPS = 30
CLIPS = {"small": ("d13.mp4",), "two": ("d9.mp4", "d10.mp4"), "four": ("d3.mp4", "d9.mp4", "d10.mp4", "d14.mp4")}
PEOPLE = ("d3.mp4", "d9.mp4", "d10.mp4", "d14.mp4")
"""The cost clips: the first 1, 2 or 4 of them, each in a 320-px column (faces about 120 px,
the same size in every clip, so that the cost per face is the cost of one more face)."""
SMALL_FACE = (30.0, 40.0)
"""Face width (px, the mesh's landmark box) at the start and the end of the small clip's walk."""
WALK_FRAMES = 90
"""The small clip's walk (800 px to the right, 40 px up, the face growing) lasts 3 s: a
shorter clip is the start of it, a longer one walks back."""


@dataclass
class Clip:
    name: str
    frames: list[np.ndarray]
    truth: list[list[tuple[float, float, float, float]]]
    """Per frame, the box of every face (x0, y0, x1, y1)."""


def _decode(path: Path, count: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    images = []
    while len(images) < count:
        ok, image = capture.read()
        if not ok:
            break
        images.append(image)
    capture.release()
    return images


def _true_boxes(images: list[np.ndarray]) -> list[tuple[float, float, float, float] | None]:
    """The face box in each (big-faced) source frame: the plain face mesh, tracking."""
    from realtime.faces import create_detector
    from realtime.settings import FaceSettings

    detector = create_detector(FaceSettings(max_faces=1, small_faces=False), static=False)
    try:
        boxes = []
        for image in images:
            faces = detector.detect(image)
            boxes.append(tuple(float(v) for v in faces[0].box) if faces else None)
        return boxes
    finally:
        detector.close()


def _backdrop(media: Path) -> np.ndarray:
    """The room above the man's head in d13.mp4 (no face in it), enlarged to the frame and
    softened a little, as a far background is."""
    image = _decode(media / "d13.mp4", 1)[0][:190]
    image = cv2.resize(image, SIZE, interpolation=cv2.INTER_CUBIC)
    return cv2.GaussianBlur(image, (0, 0), 2)


def _paste(canvas: np.ndarray, picture: np.ndarray, x: int, y: int, feather: int) -> None:
    """`picture` onto `canvas` at (x, y), its edges faded over `feather` px (no hard rectangle)."""
    h, w = picture.shape[:2]
    alpha = np.ones((h, w), np.float32)
    if feather > 0:
        ramp_x = np.clip(np.minimum(np.arange(w), np.arange(w)[::-1]) / feather, 0, 1)
        ramp_y = np.clip(np.minimum(np.arange(h), np.arange(h)[::-1]) / feather, 0, 1)
        alpha = np.outer(ramp_y, ramp_x).astype(np.float32)
    region = canvas[y:y + h, x:x + w].astype(np.float32)
    canvas[y:y + h, x:x + w] = (region + (picture.astype(np.float32) - region) * alpha[..., None]).astype(np.uint8)


def compose(name: str, frames: int, media: Path = MEDIA) -> Clip:
    """One clip, `frames` long (FileNotFoundError when the shared media is absent)."""
    sources = PEOPLE[:int(name.removeprefix("people"))] if name.startswith("people") else CLIPS[name]
    for source in sources:
        if not (media / source).exists():
            raise FileNotFoundError(media / source)
    videos = [_decode(media / source, frames) for source in sources]
    truths = [_true_boxes(video) for video in videos]
    width, height = SIZE
    out_frames, out_truth = [], []
    if name == "small":
        backdrop = _backdrop(media)
        video, truth = videos[0], truths[0]
        first = next(box for box in truth if box is not None)
        face_width = first[2] - first[0]
        for index in range(frames):
            t = 1 - abs(1 - (index / (WALK_FRAMES - 1)) % 2)  # 0 -> 1, then back
            scale = (SMALL_FACE[0] + (SMALL_FACE[1] - SMALL_FACE[0]) * t) / face_width
            image = video[index % len(video)]
            small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            x = int(200 + 800 * t)
            y = 330 - int(40 * t)  # walking nearer: a little higher in the frame
            canvas = backdrop.copy()
            _paste(canvas, small, x, y, feather=6)
            box = truth[index % len(truth)]
            out_frames.append(canvas)
            out_truth.append([] if box is None else
                             [(x + box[0] * scale, y + box[1] * scale, x + box[2] * scale, y + box[3] * scale)])
        return Clip(name, out_frames, out_truth)
    columns = 4 if name.startswith("people") else len(sources)
    cell_w = width // columns
    for index in range(frames):
        canvas = np.full((height, width, 3), 40, np.uint8)
        boxes = []
        for column, (video, truth) in enumerate(zip(videos, truths, strict=True)):
            image = video[index % len(video)]
            h, w = image.shape[:2]
            scale = min(cell_w / w, height / h)
            small = cv2.resize(image, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
            x, y = column * cell_w + (cell_w - small.shape[1]) // 2, (height - small.shape[0]) // 2
            canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
            box = truth[index % len(truth)]
            if box is not None:
                boxes.append((x + box[0] * scale, y + box[1] * scale, x + box[2] * scale, y + box[3] * scale))
        out_frames.append(canvas)
        out_truth.append(boxes)
    return Clip(name, out_frames, out_truth)


def write_clip(clip: Clip, path: Path) -> Path:
    """H.264 (PyAV, crf 18), what `facecam run -i` reads."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.mp4")
    with av.open(str(partial), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "18"}
        for image in clip.frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:, :, ::-1]), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    partial.replace(path)
    return path


def clip_path(name: str, frames: int, media: Path = MEDIA, out: Path = CLIP_DIR) -> Path:
    """benchmarks/.clips/faces_<name>_<frames>.mp4, composed the first time it is asked for."""
    path = out / f"faces_{name}_{frames}.mp4"
    if not path.exists():
        write_clip(compose(name, frames, media), path)
    return path


# -- measuring ---------------------------------------------------------------------------------
CONFIGS = {
    "before": {"max_faces": 1, "small_faces": False},
    "mesh only": {"max_faces": 8, "small_faces": False},
    "default": {"max_faces": 8, "small_faces": True},
}


def found_in(faces, truth) -> int:
    """How many true boxes have a face detected in this frame (not held) centred inside them."""
    found = 0
    for x0, y0, x1, y1 in truth:
        for face in faces:
            if face.held:
                continue
            cx, cy = (face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2
            if x0 <= cx <= x1 and y0 <= cy <= y1:
                found += 1
                break
    return found


def measure(frames: list[np.ndarray], truth: list[list] | None, changes: dict, fps: float = FPS) -> dict:
    """The detect stage over the frames: time per frame, and faces found against the truth."""
    from realtime.faces.stage import DetectStage
    from realtime.frame import Frame
    from realtime.settings import Settings

    stage = DetectStage(Settings().replace(**changes))
    times, cpu, faces_per_frame = [], [], []
    found = expected = frames_all_found = 0
    extra = 0
    try:
        for index, image in enumerate(frames):
            frame = Frame(image=image.copy(), index=index, capture_ns=0, pts=index / fps)
            start, start_cpu = time.perf_counter(), time.process_time()
            frame = stage.process(frame)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
            detected = [face for face in frame.faces if not face.held]
            faces_per_frame.append(len(detected))
            if truth is not None:
                hits = found_in(detected, truth[index])
                found += hits
                expected += len(truth[index])
                frames_all_found += hits == len(truth[index])
                extra += max(0, len(detected) - hits)
        scans = getattr(getattr(stage.detector, "_small", None), "scans", 0)
    finally:
        stage.close()
    warm = times[5:] or times  # the first frames start the graphs
    result = {"frames": len(frames), "detect_ms_p50": float(np.median(warm)),
              "detect_ms_mean": float(np.mean(warm)), "detect_ms_p95": float(np.percentile(warm, 95)),
              "cpu_ms_mean": float(np.mean(cpu[5:] or cpu)), "faces_mean": float(np.mean(faces_per_frame)),
              "full_range_looks": scans}
    if truth is not None:
        result.update(faces_expected=expected, faces_found=found,
                      found_rate=found / expected if expected else None,
                      frames_all_found=frames_all_found, frames=len(frames), extra_faces=extra)
    return result


def measure_cost(frames: list[np.ndarray], source: Path, changes: dict | None = None) -> dict:
    """The engine's stages (benchmarks/latency.py build_stages: detect, swap, blend, provenance,
    a null output) one after the other on each frame: wall ms per frame and the process's CPU ms
    per frame (CPU time counts MediaPipe's and OpenCV's own threads, and barely moves with the
    other jobs on a shared machine, unlike wall time)."""
    from benchmarks.latency import build_stages
    from realtime.frame import Frame
    from realtime.settings import Settings

    settings = Settings().replace(source=str(source), outputs=("null",), **(changes or {}))
    stages, close = build_stages(settings)
    walls, cpus, per_stage = [], [], {}
    try:
        for index, image in enumerate(frames):
            frame = Frame(image=image, index=index, capture_ns=time.monotonic_ns(), pts=index / FPS)
            start, start_cpu = time.perf_counter(), time.process_time()
            for stage in stages:
                stage_start = time.process_time()
                frame = stage.process(frame)
                if index >= 5:
                    per_stage.setdefault(stage.name, []).append((time.process_time() - stage_start) * 1000)
            if index >= 5:  # the first frames start graphs and prepare the source
                walls.append((time.perf_counter() - start) * 1000)
                cpus.append((time.process_time() - start_cpu) * 1000)
    finally:
        close()
    return {"frames": len(walls), "wall_ms_p50": float(np.median(walls)), "cpu_ms_mean": float(np.mean(cpus)),
            "cpu_ms_per_stage": {name: float(np.mean(values)) for name, values in per_stage.items()},
            "faces": len(frame.faces)}


def small_face_sheet(clip: Clip, written: Path, out: Path, picks: int = 6) -> None:
    """Crops around the small face, input above the written output, enlarged 4x."""
    outputs = _decode(written, len(clip.frames))
    indices = np.linspace(0, len(outputs) - 1, picks).astype(int)
    tiles = []
    for index in indices:
        if not clip.truth[index]:
            continue
        x0, y0, x1, y1 = clip.truth[index][0]
        cx, cy = int((x0 + x1) / 2), int((y0 + y1) / 2)
        half = 40
        rows = []
        for image in (clip.frames[index], outputs[index]):
            padded = cv2.copyMakeBorder(image, half, half, half, half, cv2.BORDER_CONSTANT)
            crop = padded[cy:cy + 2 * half, cx:cx + 2 * half]
            rows.append(cv2.resize(crop, None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST))
        column = np.vstack(rows)
        cv2.putText(column, f"frame {index}", (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
        tiles.append(column)
    cv2.imwrite(str(out), np.hstack(tiles))


def run_written(clip_file: Path, source: Path, out: Path) -> dict:
    """`facecam run` on a clip, the way a user runs it: its --json summary."""
    command = [sys.executable, "-m", "realtime.cli", "run", "-i", str(clip_file), "--source", str(source),
               "-o", str(out), "--json", "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"error: facecam run failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout)


def markdown(report: dict) -> str:
    lines = ["# Several people and small faces: found, and the cost of finding them", "",
             f"{report['date']} · {report['machine']} · load average at start {report['load_average_start']}, "
             f"at end {report['load_average_end']} · {report['frames']} frames per clip · "
             f"`{report['command']}`", "",
             "Detect stage (detector + tracker) per frame in this process; times are wall ms on a shared "
             "2-core VM (compare rows of one run, not runs), CPU ms is the process's CPU time per frame. "
             "Found = a face detected in that frame (not held) centred in the true face box.", "",
             "| clip | configuration | faces found | frames with all faces | extra faces | detect p50 ms | "
             "mean ms | p95 ms | CPU ms | full-range looks |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for clip, configs in report["clips"].items():
        for name, row in configs.items():
            if row.get("faces_expected") is not None:
                found = f"{row['faces_found']} / {row['faces_expected']} ({100 * row['found_rate']:.1f}%)"
                frames_all = f"{row['frames_all_found']} / {row['frames']}"
                extra = str(row["extra_faces"])
            else:
                found, frames_all, extra = f"{row['faces_mean']:.2f} per frame", "", ""
            lines.append(f"| {clip} | {name} | {found} | {frames_all} | {extra} | {row['detect_ms_p50']:.1f} | "
                         f"{row['detect_ms_mean']:.1f} | {row['detect_ms_p95']:.1f} | {row['cpu_ms_mean']:.1f} | "
                         f"{row['full_range_looks']} |")
    bins = report.get("small_by_size")
    if bins:
        lines += ["", "Small clip, default configuration, by face width:", "",
                  "| face width (px) | frames | found |", "|---|---|---|"]
        lines += [f"| {b['range']} | {b['frames']} | {b['found']} ({100 * b['found'] / max(1, b['frames']):.0f}%) |"
                  for b in bins]
    cost = report.get("cost")
    if cost:
        lines += ["", "Cost per face at 1280x720: 1, 2 and 4 people, each in a 320-px column (faces about "
                  "120 px), through the engine's stages one after the other (detect, swap, blend, "
                  "provenance, null output), source " + report.get("source", "s42.jpg") + ". CPU ms is the "
                  "process's CPU time per frame (all its threads); wall ms moves with the other jobs.", "",
                  "| people | configuration | faces swapped | CPU ms per frame | detect | swap | blend | wall p50 ms |",
                  "|---|---|---|---|---|---|---|---|"]
        for row in cost.values():
            stage = row["cpu_ms_per_stage"]
            lines.append(f"| {row['people']} | {row['config']} | {row['faces']} | {row['cpu_ms_mean']:.1f} | "
                         f"{stage.get('detect', 0):.1f} | {stage.get('swap', 0):.1f} | {stage.get('blend', 0):.1f} | "
                         f"{row['wall_ms_p50']:.1f} |")
        one, four = cost.get("1 x default"), cost.get("4 x default")
        if one and four:
            lines += ["", f"Each extra face: {(four['cpu_ms_mean'] - one['cpu_ms_mean']) / 3:.1f} CPU ms per frame "
                      "(from 1 to 4 people, default configuration)."]
    written = report.get("written")
    if written:
        lines += ["", f"Written file (`facecam run` on the small clip, source {written['source']}): "
                  f"faces found in {written['frames_with_faces']} of {written['frames_out']} frames "
                  f"(its `--json` summary); crops in faces_small_sheet.png (input above, output below, 4x)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.faces_detection", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--media", type=Path, default=MEDIA)
    parser.add_argument("--clips", nargs="+", default=[*CLIPS, "webcam"], choices=[*CLIPS, "webcam"])
    parser.add_argument("--no-write", action="store_true", help="print, do not write results")
    parser.add_argument("--no-cost", dest="cost", action="store_false",
                        help="skip the cost per face (1, 2, 4 people at 720p through detect, swap, blend)")
    parser.add_argument("--source", default="s42.jpg", help="source photo for the written small clip")
    args = parser.parse_args(argv)
    if not (args.media / "d13.mp4").exists():
        print(f"error: the shared media is not in {args.media}", file=sys.stderr)
        return 2
    report: dict = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "machine": f"{platform.processor() or platform.machine()} · {os.cpu_count()} cores",
                    "load_average_start": [round(v, 2) for v in os.getloadavg()],
                    "frames": args.frames, "source": args.source, "command": "python -m benchmarks.faces_detection "
                    + " ".join(argv if argv is not None else sys.argv[1:]), "clips": {}}
    small_clip = None
    for name in args.clips:
        if name == "webcam":
            frames, truth = _decode(args.media / "d13.mp4", args.frames), None
        else:
            clip = compose(name, args.frames, args.media)
            frames, truth = clip.frames, clip.truth
            if name == "small":
                small_clip = clip
        report["clips"][name] = {}
        for config, changes in CONFIGS.items():
            report["clips"][name][config] = measure(frames, truth, changes)
            row = report["clips"][name][config]
            print(f"{name:6} {config:9} found {row.get('found_rate')} p50 {row['detect_ms_p50']:.1f} ms",
                  file=sys.stderr)
    if small_clip is not None:
        report["small_by_size"] = _by_size(small_clip)
        if not args.no_write:
            clip_file = write_clip(small_clip, CLIP_DIR / f"faces_small_{args.frames}.mp4")
            written_file = Path("/tmp") / f"facecam_faces_small_{os.getpid()}.mp4"
            summary = run_written(clip_file, args.media / args.source, written_file)
            report["written"] = {"source": args.source, "frames_out": summary["frames_out"],
                                 "frames_with_faces": summary.get("frames_with_faces")}
            small_face_sheet(small_clip, written_file, RESULTS / "faces_small_sheet.png")
            written_file.unlink(missing_ok=True)
    if args.cost:
        report["cost"] = {}
        for count in (1, 2, 4):
            frames = compose(f"people{count}", args.frames, args.media).frames
            for config in ("default", "before"):
                if config == "before" and count > 1:
                    continue  # max_faces 1 swaps one face whatever the count
                row = measure_cost(frames, args.media / args.source, CONFIGS[config])
                report["cost"][f"{count} x {config}"] = dict(row, people=count, config=config)
                print(f"cost {count} {config}: {row['cpu_ms_mean']:.1f} CPU ms", file=sys.stderr)
    report["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    if args.no_write:
        print(markdown(report))
        return 0
    (RESULTS / "faces_detection.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "faces_detection.md").write_text(markdown(report))
    print(f"wrote {RESULTS / 'faces_detection.md'}", file=sys.stderr)
    return 0


def _by_size(clip: Clip) -> list[dict]:
    """Found rate of the default configuration by face width (re-measured per frame range)."""
    from realtime.faces.stage import DetectStage
    from realtime.frame import Frame
    from realtime.settings import Settings

    stage = DetectStage(Settings())
    rows: dict[str, dict] = {}
    try:
        for index, image in enumerate(clip.frames):
            frame = stage.process(Frame(image=image.copy(), index=index, capture_ns=0, pts=index / FPS))
            if not clip.truth[index]:
                continue
            width = clip.truth[index][0][2] - clip.truth[index][0][0]
            low = int(width // 3 * 3)
            row = rows.setdefault(f"{low}-{low + 3}", {"range": f"{low}-{low + 3}", "frames": 0, "found": 0})
            row["frames"] += 1
            row["found"] += found_in([f for f in frame.faces if not f.held], clip.truth[index])
    finally:
        stage.close()
    return [rows[key] for key in sorted(rows, key=lambda k: int(k.split("-")[0]))]


if __name__ == "__main__":
    sys.exit(main())
