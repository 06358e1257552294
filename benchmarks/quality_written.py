"""Swap realism on the written files: what an outside judge sees.

    python -m benchmarks.quality_swap --written --frames 120          # the full matrix, ~25 min on 2 shared cores
    python -m benchmarks.quality_swap --written --frames 30 --sources s42.jpg --targets d9.mp4

Each output is made by `facecam run --source S --input T -o FILE --no-label --max-frames N` (the
real command line: capture, detect, swap, blend, the invisible mark, the H.264 recorder), and each
target once more with `--mode passthrough`, written the same way. Both files are decoded, each
file's mark is taken out again (benchmarks/realism.py) and every metric compares the two.

Runs (sources x targets, as given, plus, unless --no-realism):
- the hand clip (benchmarks/assets/d10_hand.mp4: a real fist in front of the mouth) with every source:
  how much of the hand the output keeps;
- the hand-on-cheek and open-mouth sources (benchmarks/assets) on every target, against the clean
  s42.jpg on the same target: does the source's hand or open mouth reach the output?

Metrics and goals: see GOALS below and the README ("How real it looks"). Results:
`<out>/quality_swap.{json,md}` and a contact sheet per pair in `<out>/swap_sheets/`
(source | six moments of the target, above, and of the output, below). Written videos are kept in
`--work` (default out/quality-written/, git-ignored); `--reuse` skips those already there when the
same code (commit and uncommitted changes to realtime/) and settings wrote them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from benchmarks import realism
from benchmarks.make_assets import ASSETS, hand_alpha
from benchmarks.quality_swap import (
    LEFT_EYE_OUTER,
    MOMENTS,
    POINTS_68,
    RIGHT_EYE_OUTER,
    decode,
    embed_face,
    face_features,
    inter_ocular,
    jitter,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORK = ROOT / "out" / "quality-written"
WRITTEN_TARGETS = ("d3.mp4", "d6.mp4", "d9.mp4", "d10.mp4", "d13.mp4", "d14.mp4")
GLASSES_TARGETS = ("d9.mp4", "d13.mp4")
HAND_CLIP = "d10_hand.mp4"
LEAK_SOURCES = {"source_hand_cheek.jpg": "hand", "source_open_mouth.jpg": "mouth"}
CLEAN_SOURCE = "s42.jpg"   # the leak sources are made from it
PASSTHROUGH = "(passthrough)"   # the floor: a second passthrough run against the first

# name: (label, goal text, test on the value) — the "done when", one line per metric.
GOALS = {
    "identity_retrieval": ("identity retrieval (photo sources)", ">= 98%", lambda v: v >= 0.98),
    "distance_to_source": ("distance to the source (photo)", "<= 0.45", lambda v: v <= 0.45),
    "landmark_error": ("landmark error (photo)", "<= 0.015", lambda v: v <= 0.015),
    "pose_error_deg": ("pose error ° (photo)", "<= 1.0", lambda v: v <= 1.0),
    "jitter_above_input_pct": ("jitter over the input (photo)", "<= +10%", lambda v: v <= 10.0),
    "seam_max": ("seam, worst frame (grey levels)", "<= 3 every frame", lambda v: v <= realism.SEAM_GOAL),
    "sharpness_match": ("sharpness match (output/target)", "0.8-1.25", lambda v: 0.8 <= v <= 1.25),
    "glasses_kept": ("target glasses edges kept (d9, d13)", ">= 80%", lambda v: v >= 0.80),
    "hand_kept": ("hand in front of the mouth kept", ">= 95%", lambda v: v >= 0.95),
    "background_psnr_db": ("background vs passthrough (dB)", "floor - 1 dB", None),
    "leak_frames": ("frames with the source's hand / open mouth", "0", lambda v: v == 0),
}
PHOTO_GOALS = ("identity_retrieval", "distance_to_source", "landmark_error", "pose_error_deg",
               "jitter_above_input_pct")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="folder for the written videos")
    parser.add_argument("--reuse", action="store_true",
                        help="keep written videos already in --work that the same code and settings wrote")
    parser.add_argument("--no-realism", dest="realism", action="store_false",
                        help="leave out the hand clip and the leak sources")
    parser.add_argument("--sheet-size", type=int, default=128, help="tile size of the contact sheets (px)")
    parser.add_argument("--leak-frames", type=_frame_count, default=20,
                        help="first N frames of each target for the leak sources (a leak shows in any frame; "
                             "--no-realism leaves them out)")


def _frame_count(text: str) -> int:
    """argparse type: a count of frames, 1 or more (0 reached facecam run's own check and ended the
    benchmark with a traceback after the pairs had been written)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} frames: 1 or more (--no-realism leaves the leak sources out)")
    return value


# -- writing -------------------------------------------------------------------------------------
def facecam_command() -> list[str]:
    """The command line of this checkout's facecam (run with `facecam_env()`).

    Not the environment's `facecam` script: with an editable install that imports the checkout the
    environment was installed from, so a second checkout (a git worktree, an archive of main for a
    before/after run) would measure files written by another version of the code."""
    return [sys.executable, "-m", "realtime.cli"]


def mark_session(path: Path) -> str:
    """The invisible mark's session id for a written file (FACECAM_MARK_SESSION, realtime/provenance):
    fixed by the file's name, so the same code writes the same file on every run. With a new random
    id per run, two runs of the same code wrote files up to 25 levels apart and a pair's identity
    distance moved by 0.004, as much as the before/after changes being measured. Each file keeps an
    id of its own, as separate runs had: the second passthrough run, the floor of every metric, still
    differs from the first by what the output stage (mark and encoder) alone does."""
    import zlib

    return f"{zlib.crc32(path.name.encode()) & 0xFFFF:04x}"


def facecam_env(session: str | None = None) -> dict[str, str]:
    """The environment for `facecam_command`: this checkout first on the import path, and the mark's
    session id when given."""
    env = dict(os.environ)
    if session is not None:
        env["FACECAM_MARK_SESSION"] = session
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def code_version() -> str:
    """The engine's code as written files depend on it: the commit and any uncommitted change to
    realtime/ (so that --reuse never measures files an older swapper wrote)."""
    import hashlib

    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        diff = subprocess.run(["git", "diff", "HEAD", "--", "realtime"], cwd=ROOT, capture_output=True).stdout
    except OSError:
        return "unknown"
    return f"{head}+{hashlib.sha256(diff).hexdigest()[:12]}" if diff else head


def write(source: Path | None, target: Path, path: Path, frames: int, config: Path | None,
          reuse: bool) -> dict:
    """Write one output with the real command line; returns its --json summary."""
    summary_path = path.with_suffix(".json")
    version = code_version()
    settings_text = config.read_text() if config is not None else ""
    if reuse and path.exists() and summary_path.exists():
        summary = json.loads(summary_path.read_text())
        if summary.get("frames_out") == summary.get("frames_in") and summary.get("frames_out", 0) >= frames \
                and summary.get("made_by") == version and summary.get("settings_toml", "") == settings_text:
            return summary
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [*facecam_command(), "run", "--input", str(target), "-o", str(path), "--no-label",
               "--max-frames", str(frames), "--json", "--quiet"]
    command += ["--mode", "passthrough"] if source is None else ["--source", str(source)]
    if config is not None:
        command += ["--config", str(config)]
    result = subprocess.run(command, capture_output=True, text=True, env=facecam_env(mark_session(path)))
    if result.returncode != 0:
        raise RuntimeError(f"facecam run failed ({result.returncode}): {' '.join(command)}\n"
                           f"{result.stderr.strip()[-2000:]}")
    summary = json.loads(result.stdout)
    summary.update(made_by=version, settings_toml=settings_text)
    summary_path.write_text(json.dumps(summary, indent=1) + "\n")
    return summary


# -- reading -------------------------------------------------------------------------------------
@dataclass
class Written:
    """A decoded written file: its frames (as written, uint8) and its mark's session id."""

    path: Path
    frames: list[np.ndarray]
    session: int | None
    summary: dict

    def clean(self, index: int) -> np.ndarray:
        return realism.unmark(self.frames[index], self.session)


def read(path: Path, frames: int, summary: dict) -> Written:
    images, _ = decode(path, frames)
    return Written(path, images, realism.file_session(path), summary)


def landmarks_of(images: list[np.ndarray]) -> list[np.ndarray | None]:
    """MediaPipe landmarks of each frame, measured afresh (video mode, as a judge would)."""
    from realtime.faces import create_detector
    from realtime.settings import FaceSettings

    detector = create_detector(FaceSettings(max_faces=1), static=False)
    try:
        found = []
        for image in images:
            faces = detector.detect(image)
            found.append(max(faces, key=lambda f: f.size).landmarks if faces else None)
        return found
    finally:
        detector.close()


@dataclass
class Target:
    name: str
    written: Written
    reference: list            # landmarks of the passthrough frames
    embeddings: dict = field(default_factory=dict)
    moments: dict = field(default_factory=dict)   # moment -> frame index


def pick_moments(reference: list, images: list[np.ndarray]) -> dict[str, int]:
    """One frame per moment of MOMENTS for this target (quality_swap's choice, per target)."""
    from benchmarks.quality_swap import _moment_candidates

    features = [face_features(ref, image) if ref is not None else None
                for ref, image in zip(reference, images, strict=False)]
    found = _moment_candidates(features, reference, "t")
    picked: dict[str, int] = {}
    for moment in MOMENTS:
        if moment in found and found[moment][2] not in picked.values():
            picked[moment] = found[moment][2]
    # Fill up to six distinct frames, spread over the clip.
    spare = [i for i in np.linspace(0, len(reference) - 1, 8).astype(int)[1:-1]
             if i not in picked.values() and reference[i] is not None]
    for moment in MOMENTS:
        if moment not in picked and spare:
            picked[moment] = int(spare.pop(0))
    return picked


# -- measuring one pair ---------------------------------------------------------------------------
def expression_error(measured: list, reference: list) -> float:
    """What of the target's expression the output does not follow: per frame, the 68 points found
    on the output minus those on the passthrough, turned into the reference face's frame (x along
    its outer eye corners' line) and divided by its eye distance; the pair's mean offset of each
    point taken off (a constant shape change is what face_shape is for, not an error); the mean
    distance left. A smile, blink or turn drawn late or small, or jitter, is what remains."""
    offsets = []
    for out, ref in zip(measured, reference, strict=False):
        if out is None or ref is None:
            continue
        axis = ref[LEFT_EYE_OUTER, :2] - ref[RIGHT_EYE_OUTER, :2]
        iod = max(float(np.linalg.norm(axis)), 1.0)
        cos, sin = axis / iod
        rotation = np.array([[cos, sin], [-sin, cos]])  # rows: the eye line, then across it
        offsets.append((out[POINTS_68, :2] - ref[POINTS_68, :2]).astype(np.float64) @ rotation.T / iod)
    if len(offsets) < 2:
        return float("nan")
    stacked = np.stack(offsets)
    return float(np.linalg.norm(stacked - stacked.mean(axis=0), axis=2).mean())


def measure_pair(target: Target, output: Written, identity, source_embedding, identity_every: int,
                 hand_info: dict | None) -> dict:
    from realtime.faces.pose import head_pose

    measured = landmarks_of(output.frames)
    reference = target.reference
    seams, sharp, glasses, hand, errors, errors_468, poses = [], [], [], [], [], [], []
    tones: list[dict] = []
    d_source, d_target = [], []
    sse, count, changed, compared_pixels = 0.0, 0, 0, 0
    worst_seam: dict = {"levels": 0.0}
    for index in range(min(len(output.frames), len(target.written.frames))):
        ref = reference[index]
        if ref is None:
            continue
        out, tgt = output.clean(index), target.written.clean(index)
        found = realism.frame_seam(out, tgt, ref)
        seams.append(found["levels"])
        if found["levels"] > worst_seam["levels"]:
            worst_seam = {**found, "frame": index}
        sharp.append(realism.sharpness_match(out, tgt, ref))
        if index % 3 == 0:
            tones.append(realism.skin_tone(out, tgt, ref))
        glasses.append(realism.glasses_kept(out, tgt, ref))
        outside = realism.background_mask(ref, out.shape)
        s, n, c = realism.background_change(out, tgt, outside)
        sse, count, changed, compared_pixels = sse + s, count + n, changed + c, compared_pixels + int(outside.sum())
        if hand_info is not None and index < len(hand_info["matrices"]):
            alpha = hand_alpha(ASSETS, index, out.shape[:2], hand_info)
            hand.append(realism.pixels_kept(out, tgt, alpha))
        if measured[index] is not None:
            iod = max(inter_ocular(ref), 1.0)
            errors.append(float(np.linalg.norm(measured[index][POINTS_68, :2] - ref[POINTS_68, :2], axis=1).mean()) / iod)
            errors_468.append(float(np.linalg.norm(measured[index][:468, :2] - ref[:468, :2], axis=1).mean()) / iod)
            poses.append(float(np.abs(np.subtract(head_pose(measured[index]), head_pose(ref))).mean()))
        if identity is not None and index % identity_every == 0 and source_embedding is not None:
            if index not in target.embeddings:
                target.embeddings[index] = embed_face(identity, target.written.frames[index], ref)
            embedding = embed_face(identity, output.frames[index], measured[index] if measured[index] is not None else ref)
            if embedding is not None and target.embeddings[index] is not None:
                d_source.append(identity.distance(embedding, source_embedding))
                d_target.append(identity.distance(embedding, target.embeddings[index]))
    input_jitter, output_jitter = jitter(reference[:len(measured)]), jitter(measured)
    mse = sse / max(count, 1)
    seams_array = np.array(seams)
    stages = output.summary.get("stages_ms", {})
    hand_values = [v for v in hand if not math.isnan(v)]
    return {
        "frames": len(output.frames),
        "identity_frames": len(d_source),
        "identity_retrieval": float(np.mean(np.array(d_source) < np.array(d_target))) if d_source else float("nan"),
        "distance_to_source": _mean(d_source),
        "distance_to_target": _mean(d_target),
        "landmark_error": _mean(errors),
        "landmark_error_468": _mean(errors_468),
        "expression_error": expression_error(measured, reference),
        "pose_error_deg": _mean(poses),
        "input_jitter": input_jitter,
        "output_jitter": output_jitter,
        "jitter_above_input_pct": 100.0 * (output_jitter / input_jitter - 1.0) if input_jitter > 0 else float("nan"),
        "face_found_pct": 100.0 * float(np.mean([m is not None for m in measured])) if measured else float("nan"),
        "seam_max": float(seams_array.max()) if len(seams) else float("nan"),
        "seam_median": float(np.median(seams_array)) if len(seams) else float("nan"),
        "seam_frames_over_goal": int((seams_array > realism.SEAM_GOAL).sum()),
        "seam_worst": worst_seam,
        "sharpness_match": float(np.nanmedian(sharp)) if sharp else float("nan"),
        "glasses_kept": float(np.nanmean(glasses)) if glasses and not np.isnan(glasses).all() else float("nan"),
        "hand_kept": float(np.mean(hand_values)) if hand_values else float("nan"),
        "hand_kept_worst_frame": float(np.min(hand_values)) if hand_values else float("nan"),
        "background_psnr_db": 100.0 if mse <= 0 else min(100.0, 10 * math.log10(255.0 ** 2 / mse)),
        "background_changed_pct": 100.0 * changed / max(compared_pixels, 1),
        # Skin colour against the person's own (realism.skin_tone), every third frame.
        **{key: _mean([t[key] for t in tones if not math.isnan(t[key])])
           for key in ("chroma_map_de", "tone_de", "edge_de", "edge_de_target", "lips_de", "grain_ratio",
                       "sheen_ratio")},
        "swap_ms_p50": float(stages.get("swap", {}).get("p50", float("nan"))),
        "blend_ms_p50": float(stages.get("blend", {}).get("p50", float("nan"))),
    }


def measure_leak(target: Target, output: Written, clean: Written, kind: str, source_landmarks,
                 mask: np.ndarray | None, worn: Written | None = None) -> dict:
    """Does the modified source's hand or open mouth reach the output? A hand: where the same
    source worn as it is (`worn`: clean_source off) shows its hand, is the output nearer that
    picture than the clean source's output (realism.leak_toward)? An open mouth: is the output's
    measured inner-lip gap wider than the target's (realism.MOUTH_EXCESS)? The mean level
    difference (realism.leak_score) is kept as information: it also counts a filled cheek that is
    only lighter than the clean photo's, and the target's own lips shown for an open source mouth."""
    measured = landmarks_of(output.frames) if kind == "mouth" else None
    clean_measured = landmarks_of(clean.frames) if kind == "mouth" else None
    scores, excess, clean_excess, toward, leaked = [], [], [], [], 0
    for index in range(min(len(output.frames), len(clean.frames))):
        ref = target.reference[index]
        if ref is None:
            continue
        shape = output.frames[index].shape
        if kind == "hand":
            region = realism.warp_source_mask(mask, source_landmarks, ref, shape)
        else:
            region = realism.mouth_region(ref, shape)
        face = realism.oval_mask(ref, shape, 0.95)
        score = realism.leak_score(output.clean(index), clean.clean(index), region, face)
        scores.append(score)
        near = float("nan")
        if worn is not None and index < len(worn.frames):
            near = realism.leak_toward(output.clean(index), clean.clean(index), worn.clean(index), region, face)
            toward.append(near)
        gap = float("nan")
        if measured is not None and measured[index] is not None:
            gap = realism.mouth_opening(measured[index]) - realism.mouth_opening(ref)
            excess.append(gap)
        if clean_measured is not None and clean_measured[index] is not None:
            clean_excess.append(realism.mouth_opening(clean_measured[index]) - realism.mouth_opening(ref))
        leaked += int(near > realism.LEAK_TOWARD or gap > realism.MOUTH_EXCESS)
    values = np.array([s for s in scores if not math.isnan(s)])
    toward_values = np.array([v for v in toward if not math.isnan(v)])
    return {
        "frames": len(output.frames),
        "leak_kind": kind,
        "leak_score_max": float(values.max()) if len(values) else float("nan"),
        "leak_score_median": float(np.median(values)) if len(values) else float("nan"),
        "leak_frames": leaked,
        "leak_frames_by_level": int((values > realism.LEAK_LEVELS).sum()),
        "leak_toward_max": float(toward_values.max()) if len(toward_values) else float("nan"),
        "leak_toward_median": float(np.median(toward_values)) if len(toward_values) else float("nan"),
        "mouth_opening_excess_max": float(np.max(excess)) if excess else float("nan"),
        "mouth_opening_excess_max_clean_source": float(np.max(clean_excess)) if clean_excess else float("nan"),
    }


def _mean(values) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


# -- contact sheets -------------------------------------------------------------------------------
def _tile(image: np.ndarray, landmarks, size: int) -> np.ndarray:
    from benchmarks.quality_swap import _thumbnail

    return _thumbnail(image, landmarks, size)


def spread_frames(target: Target, count: int, number: int = 6) -> dict[str, int]:
    """`number` frames spread over the first `count` (where the target's face was found)."""
    found = [i for i in range(min(count, len(target.reference))) if target.reference[i] is not None]
    picks = [found[int(k)] for k in np.linspace(0, len(found) - 1, min(number, len(found)))] if found else []
    return {f"frame {i}": i for i in dict.fromkeys(picks)}


def contact_sheet(path: Path, source_image: np.ndarray, source_landmarks, target: Target, output: Written,
                  title: str, size: int, moments: dict[str, int] | None = None) -> None:
    """Source | six moments (the target's, or `moments`): target above, output below."""
    tiles_top, tiles_bottom, labels = [], [], []
    for moment, index in (moments or target.moments).items():
        if index >= len(output.frames):
            continue
        ref = target.reference[index]
        tiles_top.append(_tile(target.written.frames[index], ref, size))
        tiles_bottom.append(_tile(output.frames[index], ref, size))
        labels.append(moment if moment.startswith("frame") else f"{moment} #{index}")
    source_tile = _tile(source_image, source_landmarks, size)
    blank = np.full_like(source_tile, 255)
    top = np.hstack([source_tile, *tiles_top])
    bottom = np.hstack([blank, *tiles_bottom])
    header = np.full((30, top.shape[1], 3), 255, dtype=np.uint8)
    cv2.putText(header, title, (4, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    for number, label in enumerate(["source", *labels]):
        cv2.putText(header, label[:26], (4 + number * size, 26), cv2.FONT_HERSHEY_SIMPLEX, 0.3, (0, 0, 0), 1,
                    cv2.LINE_AA)
    cv2.putText(blank, "target above,", (4, size // 2 - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(blank, "output below", (4, size // 2 + 10), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    bottom[:, :size] = blank
    sheet = np.vstack([header, top, bottom])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_sheet(path, sheet)


def write_sheet(path: Path, sheet: np.ndarray) -> None:
    """A PNG of 256 colours (dithered): a third of the size of a full-colour one, which matters
    for 40 sheets committed per run, and still faithful enough to judge a face by eye."""
    try:
        from PIL import Image
    except ImportError:  # Pillow comes with matplotlib; without it, a full-colour PNG
        cv2.imwrite(str(path), sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        return
    picture = Image.fromarray(np.ascontiguousarray(sheet[:, :, ::-1]))
    picture.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG).save(
        str(path), optimize=True)


# -- the run --------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    from benchmarks.identity import IdentityModel, IdentityModelMissing
    from benchmarks.quality_swap import _parse_set
    from realtime.errors import FacecamError
    from realtime.faces.source import SourceLibrary
    from realtime.settings import Settings

    targets = list(args.targets or WRITTEN_TARGETS)
    sources = list(args.sources)
    missing = [name for name in [*sources, *targets] if not (args.media / name).exists()]
    if args.realism:
        if (args.media / "d10.mp4").exists():
            from benchmarks.make_assets import hand_clip

            hand_clip(args.media, ASSETS)  # built from the shared media, not kept in git
        missing += [name for name in (HAND_CLIP, *LEAK_SOURCES) if not (ASSETS / name).exists()]
        if not (args.media / CLEAN_SOURCE).exists():
            missing.append(CLEAN_SOURCE)
    if missing:
        print(f"error: not in {args.media} or {ASSETS}: {', '.join(missing)} (the shared test media; "
              "python -m benchmarks.make_assets)", file=sys.stderr)
        return 2
    try:
        identity = IdentityModel()
    except IdentityModelMissing as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    config = None
    try:
        settings = Settings().replace(**_parse_set(args.set))
    except FacecamError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.set:
        config = args.work / "settings.toml"
        settings.save(config)
    worn_config = args.work / "settings_worn.toml"
    args.work.mkdir(parents=True, exist_ok=True)
    settings.replace(clean_source=False).save(worn_config)
    quiet = args.json
    library = SourceLibrary()

    def source_path(name: str) -> Path:
        return ASSETS / name if name in LEAK_SOURCES else args.media / name

    source_names = list(dict.fromkeys(sources + ([CLEAN_SOURCE, *LEAK_SOURCES] if args.realism else [])))
    loaded = {name: library.get(str(source_path(name))) for name in source_names}
    embeddings = {name: identity.embed(loaded[name].image) for name in sources}
    frames = args.frames
    started = time.perf_counter()
    cpu_started = time.process_time()
    pairs, leaks = [], []
    jobs = [(t, args.media / t) for t in targets] + ([(HAND_CLIP, ASSETS / HAND_CLIP)] if args.realism else [])
    sheets = args.out / "swap_sheets"
    for number, (target_name, target_path) in enumerate(jobs):
        stem = Path(target_name).stem
        passthrough_path = args.work / f"passthrough_{stem}.mp4"
        summary = write(None, target_path, passthrough_path, frames, config, args.reuse)
        written = read(passthrough_path, frames, summary)
        target = Target(target_name, written, landmarks_of(written.frames))
        target.moments = pick_moments(target.reference, written.frames)
        hand_info = json.loads((ASSETS / "d10_hand.json").read_text()) if target_name == HAND_CLIP else None
        # The floor: a second passthrough run, written the same way (another mark, another encode).
        floor_path = args.work / f"passthrough2_{stem}.mp4"
        floor = measure_pair(target, read(floor_path, frames, write(None, target_path, floor_path, frames, config,
                                                                      args.reuse)),
                             None, None, args.identity_every, hand_info)
        pairs.append({"source": PASSTHROUGH, "target": target_name, **floor})
        run_sources = sources if target_name == HAND_CLIP else \
            list(dict.fromkeys(sources + ([CLEAN_SOURCE, *LEAK_SOURCES] if args.realism else [])))
        outputs: dict[str, Written] = {}
        for source_name in run_sources:
            out_path = args.work / f"{Path(source_name).stem}_{stem}.mp4"
            count = min(frames, args.leak_frames) if source_name in LEAK_SOURCES else frames
            summary = write(source_path(source_name), target_path, out_path, count, config, args.reuse)
            outputs[source_name] = read(out_path, count, summary)
            source = loaded[source_name]
            title = f"{source_name} -> {target_name}"
            if source_name in LEAK_SOURCES:
                continue
            if not quiet:
                print(f"[{number + 1}/{len(jobs)}] {time.perf_counter() - started:.0f} s: measuring {title}",
                      file=sys.stderr, flush=True)
            result = measure_pair(target, outputs[source_name], identity, embeddings.get(source_name),
                                  args.identity_every, hand_info)
            result["background_floor_psnr_db"] = floor["background_psnr_db"]
            if source_name in sources:
                pairs.append({"source": source_name, "target": target_name, **result})
            contact_sheet(sheets / f"{Path(source_name).stem}_{stem}.png", source.image, source.face.landmarks,
                          target, outputs[source_name], title + _sheet_note(result), args.sheet_size)
        if args.realism and target_name != HAND_CLIP:
            clean = outputs[CLEAN_SOURCE]
            for leak_name, kind in LEAK_SOURCES.items():
                mask = cv2.imread(str(ASSETS / "source_hand_cheek_mask.png"), cv2.IMREAD_GRAYSCALE) \
                    if kind == "hand" else None
                worn = None
                if kind == "hand":
                    # The reference of a leak: the same source worn as it is (no clean texture).
                    worn_path = args.work / f"{Path(leak_name).stem}_worn_{stem}.mp4"
                    count = min(frames, args.leak_frames)
                    worn = read(worn_path, count, write(source_path(leak_name), target_path, worn_path, count,
                                                        worn_config, args.reuse))
                result = measure_leak(target, outputs[leak_name], clean, kind,
                                      loaded[CLEAN_SOURCE].face.landmarks, mask, worn)
                leaks.append({"source": leak_name, "target": target_name, "against": CLEAN_SOURCE, **result})
                contact_sheet(sheets / f"{Path(leak_name).stem}_{stem}.png", loaded[leak_name].image,
                              loaded[leak_name].face.landmarks, target, outputs[leak_name],
                              f"{leak_name} -> {target_name}: "
                              f"{result['leak_frames']}/{result['frames']} frames leak", args.sheet_size,
                              spread_frames(target, len(outputs[leak_name].frames)))
        del outputs, target
        report = _report(args, settings, sources, targets, pairs, leaks, started, cpu_started, final=False)
        _write(args, report)
    library.close()
    report = _report(args, settings, sources, targets, pairs, leaks, started, cpu_started, final=True)
    _write(args, report)
    if args.json:
        print(json.dumps(report, default=_json_default))
    else:
        print(markdown(report))
    return 0


def _sheet_note(result: dict) -> str:
    return (f": seam max {result['seam_max']:.1f}, sharpness {result['sharpness_match']:.2f}, "
            f"retrieval {100 * result['identity_retrieval']:.0f}%" if not math.isnan(result['identity_retrieval'])
            else f": seam max {result['seam_max']:.1f}, sharpness {result['sharpness_match']:.2f}")


def _report(args, settings, sources, targets, pairs, leaks, started, cpu_started, final: bool) -> dict:
    command = "python -m benchmarks.quality_swap " + " ".join(sys.argv[1:]) if sys.argv[0].endswith("quality_swap.py") \
        else "python -m benchmarks.quality " + " ".join(sys.argv[1:])
    return {
        "benchmark": "swap realism on written files",
        "command": command,
        "complete": final,
        "frames_per_target": args.frames,
        "identity_every": args.identity_every,
        "sources": sources,
        "targets": targets,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores (shared)",
        "wall_s": round(time.perf_counter() - started, 1),
        "cpu_s_this_process": round(time.process_time() - cpu_started, 1),
        "settings": settings.to_dict(),
        "thresholds": {"seam_goal": realism.SEAM_GOAL, "quiet": realism.QUIET, "hand_tolerance": realism.HAND_TOLERANCE,
                       "leak_levels": realism.LEAK_LEVELS, "leak_toward": realism.LEAK_TOWARD,
                       "mouth_excess": realism.MOUTH_EXCESS,
                       "background_margin_db": realism.BACKGROUND_MARGIN_DB},
        "goals": summary_rows(pairs, leaks, sources),
        "pairs": pairs,
        "leaks": leaks,
    }


def _write(args, report: dict) -> None:
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality_swap.json").write_text(json.dumps(report, indent=1, default=_json_default) + "\n")
    (args.out / "quality_swap.md").write_text(markdown(report))


def _values(rows: list[dict], key: str) -> list[float]:
    return [r[key] for r in rows if key in r and r[key] is not None and not (isinstance(r[key], float) and math.isnan(r[key]))]


def summary_rows(pairs: list[dict], leaks: list[dict], sources: list[str]) -> list[dict]:
    """One row per goal: the value over the pairs it applies to, and pass/fail."""
    from benchmarks.quality_swap import PHOTO_SOURCES

    main = [p for p in pairs if p["target"] != HAND_CLIP and p["source"] != PASSTHROUGH]
    pairs = [p for p in pairs if p["source"] != PASSTHROUGH]
    photo = [p for p in main if p["source"] in PHOTO_SOURCES]
    painted = [p for p in main if p["source"] not in PHOTO_SOURCES]
    rows = []
    for key, (label, goal, test) in GOALS.items():
        if key == "identity_retrieval":
            def value(group):
                frames = sum(r["identity_frames"] for r in group)
                return sum(r["identity_retrieval"] * r["identity_frames"] for r in group
                           if r["identity_frames"]) / frames if frames else float("nan")
        elif key == "seam_max":
            def value(group):
                values = _values(group, "seam_max")
                return max(values) if values else float("nan")
        elif key == "sharpness_match":
            def value(group, key=key):
                values = _values(group, key)
                return float(np.median(values)) if values else float("nan")
        else:
            def value(group, key=key):
                values = _values(group, key)
                return float(np.mean(values)) if values else float("nan")
        if key == "glasses_kept":
            applies = [p for p in main if p["target"] in GLASSES_TARGETS]
            groups = {"photo": [p for p in applies if p in photo], "painted": [p for p in applies if p in painted]}
        elif key == "hand_kept":
            applies = [p for p in pairs if p["target"] == HAND_CLIP]
            groups = {"photo": [p for p in applies if p["source"] in PHOTO_SOURCES],
                      "painted": [p for p in applies if p["source"] not in PHOTO_SOURCES]}
        elif key == "leak_frames":
            row = {"metric": key, "label": label, "goal": goal}
            for kind in ("hand", "mouth"):
                group = [r for r in leaks if r["leak_kind"] == kind]
                total = sum(r["leak_frames"] for r in group)
                row[kind] = total if group else None
            known = [v for v in (row["hand"], row["mouth"]) if v is not None]
            row["pass"] = all(v == 0 for v in known) if known else None
            rows.append(row)
            continue
        else:
            groups = {"photo": photo, "painted": painted}
        row = {"metric": key, "label": label, "goal": goal,
               "photo": value(groups["photo"]) if groups["photo"] else float("nan"),
               "painted": value(groups["painted"]) if groups["painted"] else float("nan")}
        if key == "background_psnr_db":
            floors = [p for p in main if "background_floor_psnr_db" in p]
            meeting = [p["background_psnr_db"] >= p["background_floor_psnr_db"] - realism.BACKGROUND_MARGIN_DB
                       for p in floors]
            row["floor"] = float(np.mean([p["background_floor_psnr_db"] for p in floors])) if floors else float("nan")
            row["pairs_meeting_goal"] = f"{sum(meeting)}/{len(meeting)}"
            row["pass"] = all(meeting) if meeting else None
            rows.append(row)
            continue
        if key in PHOTO_GOALS:
            judged = [row["photo"]]
        elif key == "seam_max":
            judged = [row["photo"], row["painted"]]
        else:
            # Every pair must meet it (the worst pair decides).
            per_pair = [p[key] for p in (groups["photo"] + groups["painted"]) if not math.isnan(p[key])]
            judged = per_pair
            row["pairs_meeting_goal"] = f"{sum(bool(test(v)) for v in per_pair)}/{len(per_pair)}"
        judged = [v for v in judged if not math.isnan(v)]
        row["pass"] = all(bool(test(v)) for v in judged) if judged else None
        rows.append(row)
    return rows


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(repr(value))


def _fmt(value, digits: int, percent: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{100 * value:.{digits}f}%" if percent else f"{value:.{digits}f}"


_FORMAT = {"identity_retrieval": (1, True), "distance_to_source": (3, False), "landmark_error": (4, False),
           "pose_error_deg": (2, False), "jitter_above_input_pct": (1, False), "seam_max": (1, False),
           "sharpness_match": (2, False), "glasses_kept": (1, True), "hand_kept": (1, True),
           "background_psnr_db": (1, False)}


def _verdict(passed: bool | None) -> str:
    return "n/a" if passed is None else ("pass" if passed else "FAIL")


def markdown(report: dict) -> str:
    lines = [f"# Swap realism on the written files ({report['frames_per_target']} frames per target)", "",
             f"`{report['command']}`", "",
             f"Machine: {report['machine']}; {report['wall_s']} s wall. Sources: {', '.join(report['sources'])}; "
             f"targets: {', '.join(report['targets'])}. Every output written by `facecam run ... --no-label` "
             "(mark on, H.264), compared with a passthrough run of the same input written the same way "
             "(each file's mark taken out). Definitions: README, \"How real it looks\".",
             "", "## Goals (issue 13)", "",
             "| metric | goal | photo sources | paintings | pass |", "| --- | --- | --- | --- | --- |"]
    for row in report["goals"]:
        if row["metric"] == "leak_frames":
            lines.append(f"| {row['label']} | {row['goal']} | hand on the cheek: {row['hand']} frames | "
                         f"open mouth: {row['mouth']} frames | {_verdict(row['pass'])} |")
            continue
        digits, percent = _FORMAT.get(row["metric"], (3, False))
        suffix = "%" if row["metric"] == "jitter_above_input_pct" else ""
        meeting = f" ({row['pairs_meeting_goal']} pairs meet it)" if "pairs_meeting_goal" in row else ""
        if row["metric"] == "background_psnr_db":
            meeting += f"; floor {_fmt(row['floor'], 1)} dB"
        lines.append(f"| {row['label']} | {row['goal']} | {_fmt(row['photo'], digits, percent)}{suffix} | "
                     f"{_fmt(row['painted'], digits, percent)}{suffix} | "
                     f"{_verdict(row['pass'])}{meeting} |")
    lines += ["", "Photo sources: s12, s42 (the photo goals apply to them); paintings: s9, s10. Seam: the worst "
              "frame of all pairs; sharpness: median over pairs of the per-pair median; the others: mean over "
              "pairs (identity retrieval: over all identity frames). Sharpness, glasses, hand and background are "
              "met only when every pair meets them. `(passthrough)` rows: a second passthrough run against the "
              "first, the floor of every metric (what the output stage alone does). Expression err: the 68 points' "
              "offset from the passthrough's in the face's frame over its eye distance, less the pair's mean "
              "offset (face_shape's constant change), mean per point and frame (quality_written.expression_error).",
              "",
              "## Per pair", "",
              "| source | target | retrieval | d(source) | d(target) | landmark err | expression err | pose err ° | "
              "jitter vs input | "
              "seam max / median (frames > 3) | sharpness | glasses kept | hand kept | bg PSNR dB (changed px) |",
              "|" + " --- |" * 14]
    for p in report["pairs"]:
        lines.append(
            f"| {p['source']} | {p['target']} | {_fmt(p['identity_retrieval'], 1, True)} | "
            f"{_fmt(p['distance_to_source'], 3)} | {_fmt(p['distance_to_target'], 3)} | {_fmt(p['landmark_error'], 4)} | "
            f"{_fmt(p.get('expression_error'), 4)} | "
            f"{_fmt(p['pose_error_deg'], 2)} | {_fmt(p['jitter_above_input_pct'], 1)}% | "
            f"{_fmt(p['seam_max'], 1)} / {_fmt(p['seam_median'], 1)} ({p['seam_frames_over_goal']}/{p['frames']}) | "
            f"{_fmt(p['sharpness_match'], 2)} | {_fmt(p['glasses_kept'], 1, True)} | {_fmt(p['hand_kept'], 1, True)} | "
            f"{_fmt(p['background_psnr_db'], 1)} ({_fmt(p['background_changed_pct'], 2)}%) |")
    lines += ["", "## Skin tone (realism.skin_tone, CIE76 ΔE, every third frame)", "",
              "| source | target | chroma map ΔE | skin ΔE | edge ΔE (target's own) | lips ΔE | grain ratio |",
              "|" + " --- |" * 7]
    for p in report["pairs"]:
        if "chroma_map_de" in p:
            lines.append(f"| {p['source']} | {p['target']} | {_fmt(p['chroma_map_de'], 2)} | {_fmt(p['tone_de'], 2)} | "
                         f"{_fmt(p['edge_de'], 2)} ({_fmt(p['edge_de_target'], 2)}) | {_fmt(p['lips_de'], 2)} | "
                         f"{_fmt(p['grain_ratio'], 2)} |")
    if report["leaks"]:
        lines += ["", "## Source leak (against the clean s42.jpg on the same target)", "",
                  "A frame leaks the hand when, where the hand source worn as it is (clean_source off) shows "
                  f"its hand, the output is nearer that picture than the clean s42's output at more than "
                  f"{realism.LEAK_TOWARD:g} of the pixels; the open mouth when the output's inner-lip gap exceeds "
                  f"the target's by {realism.MOUTH_EXCESS:g} of the eye distance. The mean level difference is "
                  "information only (it counts a filled cheek that is lighter than the clean photo's, and the "
                  "target's own lips shown for an open source mouth).", "",
                  "| source | target | nearer the worn hand, max / median | frames leaking | "
                  "mouth gap over the target's, max (clean s42: control) | level difference max / median |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for r in report["leaks"]:
            lines.append(f"| {r['source']} | {r['target']} | {_fmt(r.get('leak_toward_max'), 2)} / "
                         f"{_fmt(r.get('leak_toward_median'), 2)} | {r['leak_frames']}/{r['frames']} | "
                         f"{_fmt(r['mouth_opening_excess_max'], 3)} ({_fmt(r['mouth_opening_excess_max_clean_source'], 3)}) | "
                         f"{_fmt(r['leak_score_max'], 1)} / {_fmt(r['leak_score_median'], 1)} |")
    lines += ["", "Contact sheets: `swap_sheets/<source>_<target>.png` (source; target above, output below, "
              "at six moments).", ""]
    return "\n".join(lines)
