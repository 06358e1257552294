"""The irreducible parts of a frame, each measured alone on this machine (issue 21's floor).

    python -m benchmarks.cpu_parts --input ../shared/media/d13.mp4 --source ../shared/media/s0.jpg

Every part runs over the same decoded frames in this one thread (OpenCV held to one thread, as
the engine does), its CPU time taken from the process's clock (`time.process_time`, so the
native threads of MediaPipe and FFmpeg count too), several interleaved rounds, median per call:

- H.264 decode of a 720p frame (PyAV, FFmpeg's frame threads as the capture stage opens them, and
  with one thread), and the 4:2:0 -> BGR conversion the capture stage does;
- the BGR -> RGB copy MediaPipe is given; the face mesh graph tracking one face when it holds one
  face (the default since this change) and when it holds eight (before: its face detector then
  re-runs on every frame); the new-face look (short-range detector on a small copy); the
  full-range detector's look at the whole frame and at a 480-px tile; the mesh on a 256-px face
  crop (how a small face is followed); landmarks -> tracker (One Euro) in Python;
- swap + blend of one face (the 613 px d13 face) with every realism feature on, and the minimal
  swap with all of them off (max_faces/small faces do not enter here);
- the output's provenance (invisible mark + label), and H.264 encoding of the result as the
  recorder does it (libx264 veryfast, CRF 18).
Writes <results>/cpu-parts.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np

from realtime.capture.video import frame_to_bgr

MINIMAL = {"color_transfer": 0.0, "shading": 0.0, "grain": 0.0, "keep_occluders": False,
           "keep_hands": False, "clean_source": False}


def _decode(path: str, count: int, thread_type: str) -> tuple[list, float]:
    """(frames, CPU s) decoding `count` frames."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = thread_type
        if thread_type == "NONE":
            stream.thread_count = 1
        decoded = []
        start = time.process_time()
        for packet in container.demux(stream):
            decoded.extend(packet.decode())
            if len(decoded) >= count:
                break
        # Flush what frame threads still hold (their work is in the clock already).
        return decoded[:count], time.process_time() - start


def measure(args: argparse.Namespace) -> dict:
    from benchmarks import latency_report
    from realtime.blend.stage import BlendStage
    from realtime.faces.full_range import CROP, SmallFaceFinder
    from realtime.faces.mediapipe_mesh import LOOK_SIDE, MediaPipeFaceMesh, import_mediapipe
    from realtime.faces.source import SourceLibrary
    from realtime.faces.tracking import FaceTracker
    from realtime.frame import Frame
    from realtime.provenance import Provenance
    from realtime.settings import Settings
    from realtime.swap.stage import SwapStage

    cv2.setNumThreads(1)
    n = args.frames
    raw, _ = _decode(args.input, n, "AUTO")
    pictures = [frame_to_bgr(f) for f in raw]
    height, width = pictures[0].shape[:2]
    settings = Settings().replace(input=args.input, source=args.source, outputs=("null",))
    mp = import_mediapipe()

    detector = MediaPipeFaceMesh(settings.replace(small_faces=False, max_faces=1), static=False)
    faces = [detector.detect(p) for p in pictures]
    detector.close()
    rgb = [cv2.cvtColor(p, cv2.COLOR_BGR2RGB) for p in pictures]

    graph1 = mp.solutions.face_mesh.FaceMesh(max_num_faces=1, refine_landmarks=True)
    graph8 = mp.solutions.face_mesh.FaceMesh(max_num_faces=8, refine_landmarks=True)
    looker = mp.solutions.face_detection.FaceDetection(model_selection=0)
    finder = SmallFaceFinder(mp, 0.5, static=False)
    step = max(1, max(width, height) // LOOK_SIDE)
    tile = [np.ascontiguousarray(p[:480, :480]) for p in rgb]
    library = SourceLibrary()
    library.get(args.source)
    stages = {"all": (SwapStage(settings, library), BlendStage(settings))}
    minimal = settings.replace(**MINIMAL)
    stages["minimal"] = (SwapStage(minimal, library), BlendStage(minimal))
    provenance = Provenance(lambda: settings)
    tracker_settings = settings.faces

    def swap_blend(kind: str) -> Callable[[int], None]:
        swap, blend = stages[kind]

        def run(i: int) -> None:
            frame = Frame(index=i, image=pictures[i], capture_ns=0, pts=i / 30.0,
                          faces=list(faces[i]))
            swap.process(frame)
            blend.process(frame)
        return run

    def mark(i: int) -> None:
        frame = Frame(index=i, image=pictures[i], capture_ns=0, pts=i / 30.0)
        frame.stamps["swap"] = (0, 0)
        provenance(pictures[i].copy(), frame)

    tracker = [FaceTracker(tracker_settings)]

    def track(i: int) -> None:
        if i == 0:
            tracker[0] = FaceTracker(tracker_settings)
        tracker[0].update(list(faces[i]), i / 30.0, width, height)

    parts: dict[str, Callable[[int], object]] = {
        "4:2:0 -> BGR conversion (capture)": lambda i: frame_to_bgr(raw[i]),
        "BGR -> RGB copy for MediaPipe": lambda i: cv2.cvtColor(pictures[i], cv2.COLOR_BGR2RGB),
        "face mesh, graph holding 1 face (tracking)": lambda i: graph1.process(rgb[i]),
        "face mesh, graph holding 8 faces (its detector on every frame)": lambda i: graph8.process(rgb[i]),
        "new-face look (short-range detector, small copy)": lambda i: looker.process(
            cv2.cvtColor(np.ascontiguousarray(pictures[i][::step, ::step]), cv2.COLOR_BGR2RGB)),
        "full-range look, whole frame": lambda i: finder._detect(pictures[i], (0, 0, width, height)),
        "full-range look, one 480-px tile": lambda i: finder._detector.process(tile[i]),
        f"face mesh on a {CROP}-px face crop (small face followed)":
            lambda i: finder._mesh_on_crop(pictures[i], faces[i][0].box) if faces[i] else None,
        "landmarks -> tracker + One Euro (Python)": track,
        "swap + blend, every realism feature on": swap_blend("all"),
        "swap + blend, minimal (realism off)": swap_blend("minimal"),
        "output: invisible mark + label": mark,
    }
    samples: dict[str, list[float]] = {name: [] for name in parts}
    decode_samples: dict[str, list[float]] = {"H.264 decode, FFmpeg frame threads (AUTO)": [],
                                              "H.264 decode, one thread": []}
    encode_samples: list[float] = []
    for _ in range(args.rounds):
        for label, kind in zip(decode_samples, ("AUTO", "NONE"), strict=True):
            _, seconds = _decode(args.input, n, kind)
            decode_samples[label].append(1000 * seconds / n)
        for name, part in parts.items():
            part(0)  # warm (and, for the tracker, a fresh start)
            start = time.process_time()
            for i in range(1, n):
                part(i)
            samples[name].append(1000 * (time.process_time() - start) / (n - 1))
        encode_samples.append(_encode(pictures))
    for swap, blend in stages.values():
        swap.close()
        blend.close()
    for closable in (graph1, graph8, looker, finder):
        closable.close()
    library.close()
    rows = {**{k: v for k, v in decode_samples.items()}, **samples,
            "H.264 encode (libx264 veryfast CRF 18, as the recorder)": encode_samples}
    return {"benchmark": "facecam CPU parts (issue 21)",
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": latency_report.machine(), "versions": latency_report.versions(),
            "settings": {"input": args.input, "source": args.source, "frames": n,
                         "rounds": args.rounds, "size": [width, height],
                         "face_px": _face_px(faces)},
            "uptime": _uptime(), "notes": list(args.note),
            "parts_ms": {name: {"median": statistics.median(v), "rounds": v} for name, v in rows.items()}}


def _face_px(faces) -> float:
    sizes = [max(f.box[2] - f.box[0], f.box[3] - f.box[1]) for found in faces for f in found]
    return float(np.median(sizes)) if sizes else 0.0


def _encode(pictures: list[np.ndarray]) -> float:
    """CPU ms per frame encoding `pictures` as the recorder does (to memory)."""
    import io

    height, width = pictures[0].shape[:2]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast"}
        stream.thread_type = "AUTO"
        start = time.process_time()
        for picture in pictures:
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        return 1000 * (time.process_time() - start) / len(pictures)


def _uptime() -> str:
    try:
        import subprocess

        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except Exception:  # informative only
        return ""


def markdown(doc: dict) -> str:
    s = doc["settings"]
    lines = [f"# facecam CPU parts, each alone: {s['input']} ({s['size'][0]}x{s['size'][1]}, "
             f"face {s['face_px']:.0f} px) + {s['source']}", "",
             f"{doc['created']} · {doc['machine'].get('processor')} · "
             f"{doc['machine'].get('cpu_count')} cores · `uptime` at the end: {doc['uptime']}", ""]
    lines += [f"- {note}" for note in doc["notes"]]
    lines += [f"- {s['frames']} frames per part, {s['rounds']} interleaved rounds, median of the "
              "rounds' means; CPU time of the whole process (native threads included), one "
              "OpenCV thread.", "", "| part | CPU ms per frame | rounds |", "|---|---|---|"]
    for name, part in doc["parts_ms"].items():
        lines.append(f"| {name} | {part['median']:.2f} | "
                     + ", ".join(f"{v:.2f}" for v in part["rounds"]) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from benchmarks.bench_cli import DEFAULT_RESULTS

    parser = argparse.ArgumentParser(prog="python -m benchmarks.cpu_parts", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", "-i", default="../shared/media/d13.mp4")
    parser.add_argument("--source", default="../shared/media/s0.jpg")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--name", default="cpu-parts")
    parser.add_argument("--note", action="append", default=[])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    doc = measure(args)
    text = markdown(doc)
    print(text)
    if not args.no_write:
        args.results.mkdir(parents=True, exist_ok=True)
        stem = args.results / args.name
        stem.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        stem.with_suffix(".md").write_text(text, encoding="utf-8")
        print(f"wrote {stem}.json, .md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
