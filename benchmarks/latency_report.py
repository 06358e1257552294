"""Latency benchmark results: the JSON document (machine, versions, settings, every figure),
a Markdown table and a stacked PNG plot (latency per stage)."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from benchmarks.latency import RunResult, latency_target, ratios

PACKAGES = ("facecam", "numpy", "opencv-contrib-python", "mediapipe", "av", "onnxruntime",
            "onnxruntime-gpu")


def machine() -> dict:
    info: dict = {"platform": platform.platform(), "python": platform.python_version(),
                  "cpu_count": os.cpu_count(), "processor": platform.processor() or platform.machine()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["processor"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    if hasattr(os, "getloadavg"):
        info["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    return info


def versions() -> dict:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=5, cwd=Path(__file__).resolve().parent)
        if commit.returncode == 0:
            found["git_commit"] = commit.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return found


def document(runs: dict[str, RunResult], scaling: list[dict], settings: dict, notes: list[str],
             started: dict | None = None) -> dict:
    """Everything a reader needs to trust (or redo) the figures."""
    doc = {
        "benchmark": "facecam latency",
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": started or machine(),
        "versions": versions(),
        "settings": settings,
        "notes": list(notes),
        "runs": {engine: result.summary() for engine, result in runs.items()},
    }
    if hasattr(os, "getloadavg"):
        doc["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if "pipelined" in runs and "sequential" in runs:
        doc["ratios_pipelined_over_sequential"] = ratios(runs["pipelined"], runs["sequential"])
    if "pipelined" in runs and runs["pipelined"].paced:
        # Only paced runs have a latency to speak of: with --max, frames queue on purpose.
        doc["latency_target"] = latency_target(runs["pipelined"])
    if scaling:
        doc["scaling"] = scaling
    return doc


# -- Markdown ----------------------------------------------------------------------------------
def _ms(value: float) -> str:
    return f"{value:.1f}"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def markdown(doc: dict) -> str:
    settings, runs = doc["settings"], doc["runs"]
    engines = list(runs)
    first = runs[engines[0]]
    lines = [
        f"# facecam latency: {settings.get('input')} {first['size'][0]}x{first['size'][1]}, "
        f"{settings.get('mode')} ({settings.get('swapper') or settings.get('animator')}), "
        f"{first['pacing']}, device {settings.get('device')}",
        "",
        f"{doc['created']} · {doc['machine'].get('processor')} · {doc['machine'].get('cpu_count')} "
        f"cores · load average at start {doc['machine'].get('load_average_at_start')}, "
        f"at end {doc['machine'].get('load_average_at_end')} · versions: "
        + ", ".join(f"{k} {v}" for k, v in doc["versions"].items()),
        "",
        f"The first {first['warmup_frames_excluded']} frames of every run are warm-up and excluded "
        f"from all figures. Times in ms.",
        "",
    ]
    lines += [f"- {note}" for note in doc["notes"]]
    if doc["notes"]:
        lines.append("")
    header = "| | " + " | ".join(f"{e} p50 | p95 | p99 | max" for e in engines) + " |"
    lines += [header, "|---" * (1 + 4 * len(engines)) + "|"]
    names: list[str] = []
    for engine in engines:
        names.extend(n for n in runs[engine]["stages_ms"] if n not in names)
    for name in names:
        cells = []
        for engine in engines:
            p = runs[engine]["stages_ms"].get(name)
            cells.append(" | ".join(_ms(p[k]) for k in ("p50", "p95", "p99", "max")) if p
                         else " | | | ")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    cells = [" | ".join(_ms(runs[e]["end_to_end_ms"][k]) for k in ("p50", "p95", "p99", "max"))
             for e in engines]
    lines.append("| **end to end** | " + " | ".join(cells) + " |")
    lines += ["", "| | " + " | ".join(engines) + " |", "|---" * (1 + len(engines)) + "|"]
    rows = [("FPS", lambda r: f"{r['fps']:.1f}"),
            ("frames measured / captured", lambda r: f"{r['frames_measured']} / {r['frames_captured']}"),
            ("dropped", lambda r: str(r["drops"])),
            ("waiting in channels, p50", lambda r: _ms(r["waiting_ms_p50"])),
            ("CPU, % of one core", lambda r: f"{r['cpu_percent_of_one_core']:.0f}"),
            ("CPU ms per frame out", lambda r: f"{r.get('cpu_ms_per_frame_out', 0.0):.1f}"),
            ("of which kernel (system) time", lambda r: f"{r.get('cpu_sys_ms_per_frame', 0.0):.1f}"),
            ("peak RSS of the process so far, MB", lambda r: f"{r['peak_rss_mb']:.0f}"),
            ("faces per frame", lambda r: f"{r['faces_mean']:.2f}")]
    if first.get("repeats", 1) > 1:
        rows += [("runs pooled (interleaved)", lambda r: str(r["repeats"])),
                 ("e2e p50 of each run", lambda r: ", ".join(
                     _ms(x["end_to_end_p50_ms"]) for x in r["per_repeat"])),
                 ("FPS of each run", lambda r: ", ".join(f"{x['fps']:.1f}" for x in r["per_repeat"])),
                 ("CPU % of a core, each run", lambda r: ", ".join(
                     f"{x['cpu_percent_of_one_core']:.0f}" for x in r["per_repeat"]))]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(cell(runs[e]) for e in engines) + " |")
    lines += thread_table(runs)
    if "ratios_pipelined_over_sequential" in doc:
        r = doc["ratios_pipelined_over_sequential"]
        lines += ["", f"Pipelined / sequential: FPS x{_ratio(r['fps'])}, "
                      f"end-to-end p50 x{_ratio(r['end_to_end_p50'])}."]
    if "latency_target" in doc:
        lines += ["", "Pipelined: " + doc["latency_target"]["text"]]
    elif first["pacing"] == "max":
        lines += ["", "As fast as possible (file mode): frames wait in the bounded queues between "
                      "stages by design, so end-to-end latency here is queueing, not a live figure; "
                      "see the paced results for latency."]
    if doc.get("scaling"):
        mode = settings.get("mode")
        lines += ["", "## Scaling (input size, faces per frame)", "",
                  "As fast as possible (file mode) at every point. Pipelined FPS is the throughput; "
                  "per-frame time is the sequential end-to-end p50, what one frame costs through "
                  "all the stages after capture; stage times are the sequential run's p50.", "",
                  "| input | size | pipelined FPS | sequential FPS | FPS ratio | per-frame p50 | "
                  f"per-frame p95 | detect | {mode} | blend | faces found |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for row in doc["scaling"]:
            pipe = row["runs"]["pipelined"]
            seq = row["runs"].get("sequential", pipe)
            stage = seq["stages_ms"]
            ratio = row.get("ratios", {}).get("fps")
            seq_fps = f"{seq['fps']:.1f}" if "sequential" in row["runs"] else "n/a"
            lines.append(
                f"| {row['label']} | {row['size'][0]}x{row['size'][1]} | {pipe['fps']:.1f} | "
                f"{seq_fps} | {_ratio(ratio)} | {_ms(seq['end_to_end_ms']['p50'])} | "
                f"{_ms(seq['end_to_end_ms']['p95'])} | "
                f"{_ms(stage.get('detect', {}).get('p50', 0.0))} | "
                f"{_ms(stage.get(mode, {}).get('p50', 0.0))} | "
                f"{_ms(stage.get('blend', {}).get('p50', 0.0))} | {seq['faces_mean']:.2f} |")
    return "\n".join(lines) + "\n"


def thread_table(runs: dict[str, dict]) -> list[str]:
    """CPU ms per output frame by thread group, one column per run (Markdown lines)."""
    engines = [e for e in runs if runs[e].get("cpu_ms_per_frame_by_thread")]
    if not engines:
        return []
    names: list[str] = []
    for engine in engines:
        names.extend(n for n in runs[engine]["cpu_ms_per_frame_by_thread"] if n not in names)
    lines = ["", "CPU ms per output frame by thread (facecam-<stage>: the stage threads; "
             "mediapipe: MediaPipe's graph workers; av:h264: FFmpeg's decoder; unnamed native "
             "threads: OpenCV's, OpenBLAS's or TFLite's pools):", "",
             "| thread | " + " | ".join(engines) + " |", "|---" * (1 + len(engines)) + "|"]
    for name in names:
        lines.append(f"| {name} | " + " | ".join(
            f"{runs[e]['cpu_ms_per_frame_by_thread'].get(name, 0.0):.2f}" for e in engines) + " |")
    return lines


# -- plot --------------------------------------------------------------------------------------
def plot(doc: dict, path: Path) -> None:
    """Stacked p50 per stage (after capture) plus waiting, for each engine and scaling row.

    With --max the waiting is file-mode queueing (by design, not latency): it is left out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = next(iter(doc["runs"].values()))
    paced = first["pacing"] == "paced"
    bars: list[tuple[str, dict[str, float]]] = []
    for engine, run in doc["runs"].items():
        bars.append((engine, _parts(run, paced)))
    for row in doc.get("scaling", []):
        # Scaling points run as fast as possible: their stage times, without queueing.
        run = row["runs"].get("sequential") or row["runs"]["pipelined"]
        bars.append((f"{row['label']}", _parts(run, False)))
    names: list[str] = []
    for _, parts in bars:
        names.extend(n for n in parts if n not in names)
    figure, axes = plt.subplots(figsize=(9, 1.2 + 0.45 * len(bars)))
    colours = plt.get_cmap("tab10")
    for position, (_, parts) in enumerate(bars):
        left = 0.0
        for index, name in enumerate(names):
            value = parts.get(name, 0.0)
            axes.barh(position, value, left=left, color=colours(index % 10),
                      label=name if position == 0 else None)
            left += value
    interval = doc.get("latency_target", {}).get("frame_interval_ms")
    if interval:
        axes.axvline(interval, color="black", linestyle="--", linewidth=1,
                     label=f"one frame ({interval:.1f} ms)")
    axes.set_yticks(range(len(bars)), [label for label, _ in bars])
    axes.invert_yaxis()
    axes.set_xlabel("end-to-end latency, p50 per part (ms)" if paced else
                    "time per stage, p50 (ms); queueing between stages not shown")
    axes.set_title(f"facecam latency, {first['pacing']}, {doc['settings'].get('input')}, "
                   f"device {doc['settings'].get('device')} (warm-up excluded)", fontsize=10)
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _parts(run: dict, waiting: bool) -> dict[str, float]:
    parts = {name: p["p50"] for name, p in run["stages_ms"].items() if name != "capture"}
    if waiting:
        parts["waiting"] = run["waiting_ms_p50"]
    return parts


def write(doc: dict, directory: Path, stem: str) -> list[Path]:
    """JSON, Markdown and PNG as directory/stem.{json,md,png}; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path, png_path = (directory / f"{stem}.{ext}" for ext in ("json", "md", "png"))
    json_path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown(doc), encoding="utf-8")
    plot(doc, png_path)
    return [json_path, md_path, png_path]


# -- the README's summary ----------------------------------------------------------------------
def summary_table(docs: list[dict]) -> str:
    """One Markdown table over several result documents (the README's "Benchmarks" summary)."""
    lines = ["| results | device | pacing | engine | FPS | e2e p50 | e2e p95 | e2e p99 | dropped | "
             "detect p50 | swap/animate p50 | blend p50 | CPU % of a core | FPS ratio | e2e p50 ratio |",
             "|---" * 15 + "|"]
    for doc in docs:
        ratio = doc.get("ratios_pipelined_over_sequential", {})
        mode = doc["settings"].get("mode")
        for engine, run in doc["runs"].items():
            stages = run["stages_ms"]
            ratios_cells = (f"{_ratio(ratio.get('fps'))} | {_ratio(ratio.get('end_to_end_p50'))}"
                            if engine == "pipelined" and ratio else " | ")
            e2e = run["end_to_end_ms"]
            lines.append(
                f"| {doc.get('name', '')} | {doc['settings'].get('device')} | {run['pacing']} | {engine} | "
                f"{run['fps']:.1f} | {_ms(e2e['p50'])} | {_ms(e2e['p95'])} | {_ms(e2e['p99'])} | "
                f"{run['drops']} | {_ms(stages.get('detect', {}).get('p50', 0.0))} | "
                f"{_ms(stages.get(mode, {}).get('p50', 0.0))} | "
                f"{_ms(stages.get('blend', {}).get('p50', 0.0))} | "
                f"{run['cpu_percent_of_one_core']:.0f} | {ratios_cells} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """python -m benchmarks.latency_report FILE.json...: the summary table of these results."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency_report",
                                     description=main.__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    docs = []
    for path in args.files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["name"] = f"`{path.name}`"
        docs.append(doc)
    print(summary_table(docs), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
