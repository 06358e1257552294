"""Neural inference on CPU and GPU, measured in one run: which provider really runs, model
latency with numpy I/O vs IO binding vs CUDA graph, and the full 720p pipeline per stage.

    python -m benchmarks.gpu_inference                      # everything this machine can do
    python -m benchmarks.gpu_inference --devices cpu --quick  # a smoke run on a laptop
    python -m benchmarks.gpu_inference --real               # also the downloaded real models

Models: an inswapper-interface stand-in of the real model's size (about 130 M parameters at
128x128, random weights; `--width/--blocks` change it), the recogniser/enhancer/LivePortrait
stand-ins, and with --real whatever real models are in the model folder. The 720p pipeline runs
`facecam run --swapper inswapper` on the demo clip at 1280x720 in file mode (every frame, in
order) with the stand-ins as its models. Also reported: which provider ONNX Runtime assigned to
the LivePortrait generator's 5-D GridSample node (from an ONNX Runtime profile).

Writes JSON (--json) and prints a Markdown table. Needs onnxruntime(-gpu) and onnx.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from realtime.inference import standins
from realtime.inference.manifest import DEFAULT_MANIFEST
from realtime.inference.session import CPU, CUDA, SessionConfig, create_session

ROOT = Path(__file__).resolve().parent.parent


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": statistics.median(ordered) * 1e3,
            "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1e3,
            "n": len(ordered)}


def time_model(path: Path, device: str, mode: str, iterations: int, cache_root: Path) -> dict:
    """Latency of one model: mode 'numpy' (session.run), 'iobinding', 'cudagraph'."""
    config = SessionConfig(device=device, cache_root=cache_root, io_binding=mode != "numpy",
                           cuda_graph=mode == "cudagraph", warm_up=False)
    start = time.perf_counter()
    session = create_session(path, config, name=path.stem)
    created = time.perf_counter() - start
    warm = session.warm_up()
    rng = np.random.default_rng(0)
    feeds = {t.name: rng.random(tuple(d if isinstance(d, int) and d > 0 else 1 for d in t.shape))
             .astype(t.dtype) for t in session.inputs}
    session.run(feeds)  # a CUDA graph is captured on the first run after warm-up
    samples = []
    for _ in range(iterations):
        tick = time.perf_counter()
        session.run(feeds)
        samples.append(time.perf_counter() - tick)
    # A captured CUDA graph replays ignoring new feeds when misused: the timing only counts if
    # the outputs for NEW inputs equal a plain session.run of the same inputs.
    other = {name: (value[::-1].copy() if value.ndim else value) * np.asarray(0.5, value.dtype)
             + np.asarray(0.25, value.dtype) for name, value in feeds.items()}
    got = session.run(other)
    plain = create_session(path, SessionConfig(device=device, io_binding=False, cuda_graph=False,
                                               warm_up=False), name=path.stem).run(other)
    difference = max(float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))
                     for a, b in zip(got, plain, strict=True))
    return {"model": path.name, "device": device, "mode": mode, "providers": session.providers,
            "io_binding": session.io_binding, "cuda_graph": session.cuda_graph,
            "create_s": created, "warm_up_s": warm, "max_abs_diff_vs_plain": difference,
            "matches_plain": difference <= 1e-3, **_percentiles(samples)}


def gridsample_provider(path: Path, device: str) -> dict:
    """Which provider runs each GridSample node of `path` (from an ONNX Runtime profile)."""
    import onnxruntime as ort

    from realtime.inference.session import plan_providers, preload_tensorrt

    available = ort.get_available_providers()
    plan = plan_providers(device, available, SessionConfig(device=device), None,
                          "TensorrtExecutionProvider" in available and preload_tensorrt())
    options = ort.SessionOptions()
    options.enable_profiling = True
    options.log_severity_level = 3
    options.profile_file_prefix = str(Path(tempfile.gettempdir()) / "facecam-gridsample")
    session = ort.InferenceSession(str(path), options, providers=[p for p, _ in plan],
                                   provider_options=[o for _, o in plan])
    feeds = {i.name: np.zeros([d if isinstance(d, int) else 1 for d in i.shape], np.float32)
             for i in session.get_inputs()}
    session.run(None, feeds)
    profile = Path(session.end_profiling())
    events = json.loads(profile.read_text())
    profile.unlink(missing_ok=True)
    found = sorted({e["args"].get("provider", "?") for e in events
                    if e.get("cat") == "Node" and e.get("args", {}).get("op_name") == "GridSample"})
    return {"device": device, "session_providers": session.get_providers(),
            "gridsample_providers": found, "onnxruntime": ort.__version__}


def pipeline_run(models: Path, device: str, frames: int, size: str) -> dict:
    """`facecam run` on the demo clip in file mode with the stand-in models; its JSON stats."""
    command = [sys.executable, "-m", "realtime.cli", "run", "--swapper", "inswapper", "--device", device,
               "--input", "demo", "--size", size, "--max-frames", str(frames), "--no-live",
               "-o", "null", "--json"]
    # Keep the caller's PYTHONPATH (the GPU machine installs wheels under $HOME/site).
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, FACECAM_MODELS=str(models), PYTHONPATH=path)
    env.pop("DISPLAY", None)
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)
    if done.returncode != 0:
        return {"device": device, "error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    stats = json.loads(done.stdout)
    providers = [line.split("facecam: ", 1)[-1] for line in done.stderr.splitlines() if "running on" in line]
    return {"device": device, "frames": stats["frames_out"], "fps": stats["average_fps"],
            "end_to_end_p50_ms": stats["end_to_end_ms"]["p50"],
            "stages_p50_ms": {k: v["p50"] for k, v in stats["stages_ms"].items()},
            "errors": stats["errors"], "providers": providers}


def prepare_models(folder: Path, width: int, blocks: int) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    heavy = folder / "inswapper_128.onnx"
    marker = folder / f".heavy-{width}-{blocks}"
    if not marker.exists():
        standins.heavy_swapper(heavy, width=width, blocks=blocks)
        marker.touch()
    paths = {"inswapper_128": heavy, "w600k_r50": standins.recogniser(folder / "w600k_r50.onnx"),
             "gfpgan_1_4": standins.enhancer(folder / "gfpgan_1.4.onnx")}
    paths.update(standins.liveportrait_set(folder))
    catalogue = DEFAULT_MANIFEST.read_text(encoding="utf-8")
    # Stand-ins do not have the real hashes: the folder's own catalogue drops them.
    (folder / "manifest.toml").write_text("\n".join(
        line for line in catalogue.splitlines() if not line.startswith(("sha256", "size"))),
        encoding="utf-8")
    (folder / "hashes.json").unlink(missing_ok=True)
    return paths


def markdown(results: dict) -> str:
    lines = ["| model | device | mode | providers | p50 ms | p95 ms |", "| --- | --- | --- | --- | --- | --- |"]
    for row in results["models"]:
        if "error" in row:
            lines.append(f"| {row['model']} | {row['device']} | {row['mode']} | error: {row['error']} | | |")
            continue
        lines.append(f"| {row['model']} | {row['device']} | {row['mode']} | {', '.join(row['providers'])} "
                     f"| {row['p50_ms']:.2f} | {row['p95_ms']:.2f} |")
    if results["pipeline"]:
        lines += ["", "| 720p pipeline | frames | FPS | e2e p50 ms | stage p50 ms |", "| --- | --- | --- | --- | --- |"]
        for row in results["pipeline"]:
            if "error" in row:
                lines.append(f"| {row['device']} | error: {row['error']} | | | |")
                continue
            stages = ", ".join(f"{k} {v:.1f}" for k, v in row["stages_p50_ms"].items())
            lines.append(f"| {row['device']} | {row['frames']} | {row['fps']:.1f} | "
                         f"{row['end_to_end_p50_ms']:.1f} | {stages} |")
    for row in results["gridsample"]:
        lines.append(f"\n5-D GridSample with --device {row['device']} (onnxruntime {row['onnxruntime']}): "
                     f"{', '.join(row['gridsample_providers'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", default=None, help="comma list of cpu,cuda,tensorrt (default: "
                        "cpu and every GPU provider this onnxruntime has)")
    parser.add_argument("--iterations", type=int, default=50, help="timed runs per GPU case")
    parser.add_argument("--cpu-iterations", type=int, default=5, help="timed runs per CPU case")
    parser.add_argument("--width", type=int, default=1024, help="stand-in channels (1024: ~130 M params)")
    parser.add_argument("--blocks", type=int, default=12, help="stand-in 3x3 blocks at 16x16")
    parser.add_argument("--pipeline-frames", type=int, default=120, help="frames of the 720p run (GPU)")
    parser.add_argument("--cpu-pipeline-frames", type=int, default=10)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--real", action="store_true", help="also time the real models downloaded")
    parser.add_argument("--quick", action="store_true", help="a small stand-in and few runs (smoke)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "facecam-gpu-bench")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    if args.quick:
        args.width, args.blocks, args.iterations, args.cpu_iterations = 32, 1, 3, 2
        args.pipeline_frames = args.cpu_pipeline_frames = 3

    import onnxruntime as ort

    available = ort.get_available_providers()
    devices = args.devices.split(",") if args.devices else ["cpu"] + (["cuda"] if CUDA in available else [])
    models_dir = args.workdir / f"models-{args.width}-{args.blocks}"
    paths = prepare_models(models_dir, args.width, args.blocks)
    results: dict = {"machine": {"python": platform.python_version(), "onnxruntime": ort.__version__,
                                 "available_providers": available, "cpus": os.cpu_count(),
                                 "platform": platform.platform()},
                     "swapper_parameters": standins.parameter_count(paths["inswapper_128"]),
                     "models": [], "pipeline": [], "gridsample": []}
    cache_root = args.workdir / ".cache"
    timed = [paths["inswapper_128"], paths["w600k_r50"], paths["gfpgan_1_4"],
             paths["liveportrait_generator"]]
    if args.real:
        from realtime.inference.store import ModelStore

        store = ModelStore()
        timed += [store.root / s.file for s in store.specs.values() if (store.root / s.file).exists()]
    for device in devices:
        modes = ["numpy", "iobinding"] + (["cudagraph"] if device == "cuda" else [])
        for path in timed:
            for mode in modes:
                iterations = args.cpu_iterations if device == "cpu" else args.iterations
                try:
                    row = time_model(path, device, mode, iterations, cache_root)
                except Exception as error:  # report and go on: one failure must not hide the rest
                    row = {"model": path.name, "device": device, "mode": mode,
                           "error": f"{type(error).__name__}: {str(error)[:200]}"}
                results["models"].append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
        try:
            results["gridsample"].append(gridsample_provider(paths["liveportrait_generator"], device))
        except Exception as error:
            results["gridsample"].append({"device": device, "onnxruntime": ort.__version__,
                                          "gridsample_providers": [f"error: {error}"]})
        frames = args.cpu_pipeline_frames if device == "cpu" else args.pipeline_frames
        results["pipeline"].append(pipeline_run(models_dir, device, frames, args.size))
        print(json.dumps(results["pipeline"][-1]), file=sys.stderr, flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(markdown(results))
    print(f"\nswapper stand-in: {results['swapper_parameters'] / 1e6:.1f} M parameters; "
          f"available providers: {', '.join(available)}; {CPU} always last resort")
    return 0


if __name__ == "__main__":
    sys.exit(main())
