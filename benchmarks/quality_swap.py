"""swap: classical swap quality on the real media (identity, expression and pose, stability,
background, speed), with baselines in the same run.

    python -m benchmarks.quality swap                      # 4 sources x 5 targets x 300 frames
    python -m benchmarks.quality swap --frames 60 --sources s42.jpg --targets d9.mp4

Methods, side by side on the same frames and the same face tracks:
- mesh: facecam's mesh swap and blend with the current settings;
- skeleton: the first mesh swap of the walking skeleton, frozen here (its mask, its colour transfer
  over the whole mask, its smoothing parameters) so that progress is measured in the same run;
- affine: a plain similarity-transform paste of the source face, with the same mask and blend;
- unchanged: the target itself (the floor for identity, the ceiling for everything else).

Metrics (per pair and overall):
- identity: dlib's 128-d ResNet (benchmarks/identity.py, independent of our landmarks), every
  `--identity-every` frames: mean distance of the output face to the source photo and to the
  original target face, and retrieval = fraction of frames where the output is nearer the source;
- landmark error: MediaPipe landmarks measured afresh on the output vs on the input, on the 68
  points of the dlib / 300-W layout, normalised by the inter-ocular distance (outer eye corners,
  as in 300-W); the error over all 468 mesh points is in the JSON too;
- pose error: mean absolute yaw/pitch/roll difference (degrees) between output and input;
- jitter: mean normalised second difference of the measured 68 landmarks; reported as the output's
  excess over the input's in percent (0 = as steady as the input, negative = steadier);
- background PSNR: over the pixels outside the input face's convex hull enlarged 1.25x (capped at
  100 dB: identical pixels give infinity);
- speed: swap + blend p50 ms per face, and the whole-frame FPS of detect + swap + blend run one
  after the other in this process.
Results: benchmarks/results/quality_swap_inprocess.{json,md}, a contact sheet PNG and example PNGs.

With --written: the realism benchmark on the written files (benchmarks/quality_written.py), whose
results are the judged ones: benchmarks/results/quality_swap.{json,md} and swap_sheets/.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MEDIA = Path(os.environ.get("FACECAM_MEDIA", ROOT.parent / "shared" / "media"))
DEFAULT_OUT = ROOT / "benchmarks" / "results"
SOURCES = ("s9.jpg", "s10.jpg", "s12.jpg", "s42.jpg")
PHOTO_SOURCES = ("s12.jpg", "s42.jpg")
TARGETS = ("d3.mp4", "d9.mp4", "d10.mp4", "d13.mp4", "d14.mp4")
METHODS = ("mesh", "skeleton", "affine", "unchanged")
MOMENTS = ("neutral", "open mouth", "blink", "head turned", "side light", "fast motion")
PSNR_CAP = 100.0

# The 68 points of the dlib / 300-W layout, as MediaPipe face-mesh indices (jaw 17, brows 10,
# nose 9, eyes 12, lips 20): landmark error and jitter are measured on these, like the papers
# and the dlib-based peer; the 468-point error is kept in the JSON as well.
POINTS_68 = np.array([
    162, 234, 93, 58, 172, 136, 149, 148, 152, 377, 378, 365, 397, 288, 323, 454, 389,
    71, 63, 105, 66, 107, 336, 296, 334, 293, 301, 168, 197, 5, 4, 75, 97, 2, 326, 305,
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181, 78, 82, 13, 312, 308, 317, 14, 87])
# The mouth's 20 of them (300-W points 48-67).
MOUTH_68 = POINTS_68[48:68]
# Outer eye corners (300-W points 36 and 45): the usual inter-ocular normalisation.
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sources", nargs="+", default=list(SOURCES), help="source photos (media names)")
    parser.add_argument("--targets", nargs="+", default=None,
                        help="target videos (media names; default d3 d9 d10 d13 d14, with --written d3 d6 d9 d10 d13 d14)")
    parser.add_argument("--frames", type=int, default=300, help="first N frames of each target")
    parser.add_argument("--identity-every", type=int, default=5, help="identity on every Nth frame")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA, help="folder of the test media")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results folder")
    parser.add_argument("--sheet-source", default="s42.jpg", help="source shown on the contact sheet")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a facecam setting for the mesh method, e.g. --set shading=0.5 (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON, no progress bar")
    parser.add_argument("--written", action="store_true",
                        help="measure the written files (facecam run, mark, H.264) against passthrough runs: "
                             "the realism benchmark (benchmarks/quality_written.py)")
    from benchmarks import quality_written

    quality_written.add_arguments(parser)


def _parse_set(items: list[str]) -> dict:
    changes = {}
    for item in items:
        name, _, text = item.partition("=")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        changes[name.strip()] = tuple(value) if isinstance(value, list) else value
    return changes


# -- the methods ---------------------------------------------------------------------------------

def skeleton_parameters() -> tuple[float, float, float]:
    """The walking skeleton's One Euro parameters at smoothing 0.5 (frozen): min cutoff, beta,
    derivative cutoff."""
    return 0.4 + 4.4 * 0.25, 12.0 * 0.75, 1.0


def skeleton_mask(points: np.ndarray, box, face_size: float) -> np.ndarray:
    """The walking skeleton's face mask (feather 0.06, erosion 0.02 of the face size), frozen."""
    from realtime.faces.topology import topology

    top = topology()
    step = 4
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    local = points[:, :2] - np.array([x0, y0], dtype=np.float32)
    outer = np.zeros((max(1, -(-height // step)), max(1, -(-width // step))), dtype=np.uint8)
    cv2.fillPoly(outer, [np.round(local[top.face_oval] / step * 16).astype(np.int32)], 255,
                 lineType=cv2.LINE_AA, shift=4)
    feather_px = 0.06 * face_size
    erode_px = (0.02 * face_size + feather_px) / step
    if erode_px >= 1:
        size = max(int(2 * erode_px) | 1, 1)
        outer = cv2.erode(outer, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    outer = outer.astype(np.float32) / 255.0
    if feather_px / 2 / step > 0.3:
        outer = cv2.GaussianBlur(outer, (0, 0), feather_px / 2 / step)
    alpha = cv2.resize(outer, (width, height), interpolation=cv2.INTER_LINEAR)
    holes = np.zeros((height, width), dtype=np.uint8)
    polygons = [np.round(local[region] * 16).astype(np.int32)
                for region in (top.inner_mouth, top.right_eye, top.left_eye)]
    cv2.fillPoly(holes, polygons, 255, lineType=cv2.LINE_AA, shift=4)
    holes_soft = cv2.GaussianBlur(holes, (0, 0), max(0.8, 0.006 * face_size))
    return alpha * (1.0 - holes_soft.astype(np.float32) / 255.0)


def skeleton_swap_blend(image: np.ndarray, face, source) -> np.ndarray:
    """The walking skeleton's mesh swap + blend (colour statistics over the whole mask), frozen."""
    from realtime.blend.color import match_colour
    from realtime.faces.topology import MESH_POINTS, topology
    from realtime.faces.warp import piecewise_affine_maps

    box = _layer_box(face.box, image)
    if box is None:
        return image
    target = face.landmarks[:MESH_POINTS]
    maps = piecewise_affine_maps(target, source.face.landmarks[:MESH_POINTS], topology().triangles, box,
                                 depth=target[:, 2])
    patch = maps.remap(source.image)
    alpha = skeleton_mask(face.landmarks, box, face.size)
    x0, y0, x1, y1 = box
    out = image.copy()
    crop = out[y0:y1, x0:x1]
    patch = match_colour(patch, crop, (alpha > 0.5).astype(np.uint8), 1.0)
    crop[:] = cv2.blendLinear(patch, crop, alpha, 1.0 - alpha)
    return out


def _layer_box(box, image):
    height, width = image.shape[:2]
    x0, y0, x1, y1 = box
    box = (max(0, x0 - 1), max(0, y0 - 1), min(width, x1 + 1), min(height, y1 + 1))
    if box[2] - box[0] < 8 or box[3] - box[1] < 8:
        return None
    return box


def affine_layer(image: np.ndarray, face, source, settings):
    """A plain paste: the source face through one similarity transform (fitted on all mesh
    points), with the same mask as the mesh swap."""
    from realtime.blend.mask import face_mask
    from realtime.faces.topology import MESH_POINTS
    from realtime.frame import FaceLayer

    box = _layer_box(face.box, image)
    if box is None:
        return None
    matrix, _ = cv2.estimateAffinePartial2D(
        np.ascontiguousarray(source.face.landmarks[:MESH_POINTS, :2], dtype=np.float32),
        np.ascontiguousarray(face.landmarks[:MESH_POINTS, :2], dtype=np.float32))
    if matrix is None:
        return None
    x0, y0, x1, y1 = box
    matrix = matrix.copy()
    matrix[:, 2] -= (x0, y0)
    patch = cv2.warpAffine(source.image, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REFLECT101)
    alpha = face_mask(face.landmarks, box, face.size, settings.blend)
    return FaceLayer(box=box, image=patch, alpha=alpha, face=face)


# -- measurement ---------------------------------------------------------------------------------

def inter_ocular(landmarks: np.ndarray) -> float:
    return float(np.linalg.norm(landmarks[RIGHT_EYE_OUTER, :2] - landmarks[LEFT_EYE_OUTER, :2]))


def background_mask(landmarks: np.ndarray, shape) -> np.ndarray:
    """True outside the face's convex hull enlarged 1.25x about its centre."""
    points = landmarks[:468, :2]
    centre = points.mean(axis=0)
    hull = cv2.convexHull(((points - centre) * 1.25 + centre).astype(np.float32))
    inside = np.zeros(shape[:2], dtype=np.uint8)
    cv2.fillConvexPoly(inside, np.round(hull).astype(np.int32), 1)
    return inside == 0


def jitter(track: list[np.ndarray | None], points: np.ndarray = POINTS_68) -> float:
    """Mean normalised second difference of landmarks (the 68 points, or a group of them such as
    MOUTH_68) over consecutive detected triples."""
    values = []
    for a, b, c in zip(track, track[1:], track[2:], strict=False):
        if a is None or b is None or c is None:
            continue
        second = c[points, :2] - 2 * b[points, :2] + a[points, :2]
        values.append(float(np.linalg.norm(second, axis=1).mean()) / max(inter_ocular(b), 1.0))
    return float(np.mean(values)) if values else float("nan")


def face_features(landmarks: np.ndarray, image: np.ndarray) -> dict[str, float]:
    """What makes a frame a 'moment' for the contact sheet."""
    from realtime.faces.pose import head_pose

    iod = max(inter_ocular(landmarks), 1.0)
    mouth = float(np.linalg.norm(landmarks[13, :2] - landmarks[14, :2])) / iod
    eyes = (float(np.linalg.norm(landmarks[159, :2] - landmarks[145, :2])) +
            float(np.linalg.norm(landmarks[386, :2] - landmarks[374, :2]))) / 2 / iod
    yaw, pitch, _ = head_pose(landmarks)
    lum = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)

    def patch_mean(index: int) -> float:
        x, y = np.round(landmarks[index, :2]).astype(int)
        r = max(2, int(iod * 0.15))
        return float(lum[max(0, y - r):y + r, max(0, x - r):x + r].mean())

    cheeks = patch_mean(50), patch_mean(280)  # right and left cheek
    side = abs(cheeks[0] - cheeks[1]) / max(sum(cheeks) / 2, 1.0)
    return {"mouth": mouth, "eyes": eyes, "yaw": abs(yaw), "pitch": abs(pitch), "side": side}


@dataclass
class Tally:
    """What one method produced on one pair, accumulated frame by frame."""

    landmarks: list = field(default_factory=list)
    d_source: list = field(default_factory=list)
    d_target: list = field(default_factory=list)
    swap_ms: list = field(default_factory=list)
    background_sse: float = 0.0
    background_count: int = 0

    def summary(self, reference: list, detect_ms: float) -> dict:
        from realtime.faces.pose import head_pose

        errors, errors_468, poses = [], [], []
        for out, ref in zip(self.landmarks, reference, strict=True):
            if out is None or ref is None:
                continue
            iod = max(inter_ocular(ref), 1.0)
            errors.append(float(np.linalg.norm(out[POINTS_68, :2] - ref[POINTS_68, :2], axis=1).mean()) / iod)
            errors_468.append(float(np.linalg.norm(out[:468, :2] - ref[:468, :2], axis=1).mean()) / iod)
            poses.append(np.abs(np.subtract(head_pose(out), head_pose(ref))).mean())
        input_jitter, output_jitter = jitter(reference), jitter(self.landmarks)
        mse = self.background_sse / max(self.background_count, 1)
        psnr = PSNR_CAP if mse <= 0 else min(PSNR_CAP, 10 * math.log10(255.0 ** 2 / mse))
        swap_ms = float(np.median(self.swap_ms)) if self.swap_ms else 0.0
        mean_ms = float(np.mean(self.swap_ms)) if self.swap_ms else 0.0
        d_source, d_target = np.array(self.d_source), np.array(self.d_target)
        return {
            "identity_frames": len(d_source),
            "distance_to_source": _mean(d_source),
            "distance_to_target": _mean(d_target),
            "identity_retrieval": float((d_source < d_target).mean()) if len(d_source) else float("nan"),
            "landmark_error": _mean(errors),
            "landmark_error_468": _mean(errors_468),
            "pose_error_deg": _mean(poses),
            "input_jitter": input_jitter,
            "output_jitter": output_jitter,
            "jitter_above_input_pct": 100.0 * (output_jitter / input_jitter - 1.0) if input_jitter > 0 else float("nan"),
            "face_found_pct": 100.0 * float(np.mean([x is not None for x in self.landmarks])),
            "background_psnr_db": psnr,
            "swap_blend_ms_p50": swap_ms,
            "fps": 1000.0 / (detect_ms + mean_ms) if detect_ms + mean_ms > 0 else float("nan"),
        }


def _mean(values) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


# -- the run -------------------------------------------------------------------------------------

def decode(path: Path, frames: int) -> tuple[list[np.ndarray], float]:
    import av

    from realtime.capture.video import frame_to_bgr

    images = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 30)
        for frame in container.decode(video=0):
            images.append(frame_to_bgr(frame))
            if len(images) >= frames:
                break
    return images, fps


def embed_face(model, image: np.ndarray, landmarks: np.ndarray | None):
    """dlib descriptor of the face around `landmarks` (a crop of twice the face: dlib's own
    detector runs faster and cannot pick another face), or of the whole picture."""
    if landmarks is None:
        return model.embed(image)
    height, width = image.shape[:2]
    points = landmarks[:468, :2]
    centre = points.mean(axis=0)
    half = float((points.max(axis=0) - points.min(axis=0)).max())
    x0, y0 = (int(max(0, v)) for v in centre - half)
    x1, y1 = int(min(width, centre[0] + half)), int(min(height, centre[1] + half))
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    fx0, fy0 = points.min(axis=0) - (x0, y0)
    fx1, fy1 = points.max(axis=0) - (x0, y0)
    return model.embed(crop, box=(fx0, fy0, fx1, fy1))


def measure_landmarks(detector, image: np.ndarray):
    faces = detector.detect(image)
    if not faces:
        return None
    return max(faces, key=lambda face: face.size).landmarks


def run(args: argparse.Namespace) -> int:
    if getattr(args, "written", False):
        from benchmarks import quality_written

        return quality_written.run(args)
    if args.targets is None:
        args.targets = list(TARGETS)
    from benchmarks.identity import IdentityModel, IdentityModelMissing
    from realtime.blend.stage import BlendStage
    from realtime.errors import FacecamError
    from realtime.faces import create_detector
    from realtime.faces.source import SourceLibrary
    from realtime.faces.tracking import FaceTracker
    from realtime.frame import Frame
    from realtime.settings import FaceSettings, Settings
    from realtime.swap.mesh import MeshSwapper

    missing = [name for name in [*args.sources, *args.targets] if not (args.media / name).exists()]
    if missing:
        print(f"error: not in {args.media}: {', '.join(missing)} (the shared test media)", file=sys.stderr)
        return 2
    try:
        identity = IdentityModel()
    except IdentityModelMissing as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    quiet = args.json or not sys.stderr.isatty()
    try:
        settings = Settings().replace(**_parse_set(args.set))
    except FacecamError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    library = SourceLibrary()
    sources = {name: library.get(str(args.media / name)) for name in args.sources}
    source_embeddings = {name: identity.embed(source.image) for name, source in sources.items()}
    methods = [m for m in METHODS if m in args.methods]

    from tqdm import tqdm

    progress = tqdm(total=len(args.targets) * len(args.sources), unit="pair", disable=quiet,
                    desc="swap quality")
    pairs: list[dict] = []
    moments_seen: dict[str, tuple[float, str, int]] = {}
    sheet_tiles: dict[tuple[str, int], dict[str, np.ndarray]] = {}
    all_features: dict[str, list] = {}
    for target_name in args.targets:
        images, fps = decode(args.media / target_name, args.frames)
        # One raw detection pass: it is both the input measurement (reference landmarks) and what
        # the trackers of every method smooth, so all methods see the same faces.
        detector = create_detector(FaceSettings(max_faces=1), static=False)
        raw, detect_times = [], []
        for image in images:
            start = time.perf_counter()
            raw.append(detector.detect(image))
            detect_times.append(time.perf_counter() - start)
        detector.close()
        detect_ms = 1000.0 * float(np.mean(detect_times))
        reference = [max(faces, key=lambda f: f.size).landmarks if faces else None for faces in raw]
        target_embeddings = {i: embed_face(identity, images[i], reference[i])
                             for i in range(0, len(images), args.identity_every)}
        features = [face_features(ref, image) if ref is not None else None
                    for ref, image in zip(reference, images, strict=True)]
        all_features[target_name] = features
        for index, candidate in _moment_candidates(features, reference, target_name).items():
            if candidate[0] > moments_seen.get(index, (-math.inf,))[0]:
                moments_seen[index] = candidate
        # Faces as each method's pipeline sees them: tracked and One-Euro smoothed.
        tracked = _track(raw, FaceTracker(settings.faces), fps, images)
        skeleton_tracked = _track(raw, FaceTracker(settings.faces, parameters=skeleton_parameters()),
                                  fps, images)

        for source_name in args.sources:
            source = sources[source_name]
            tallies = {method: Tally() for method in methods}
            detectors = {method: create_detector(FaceSettings(max_faces=1), static=False)
                         for method in methods if method != "unchanged"}
            swapper = MeshSwapper(settings)
            swapper.set_source(source)
            blends = {"mesh": BlendStage(settings), "affine": BlendStage(settings)}
            for index, image in enumerate(images):
                for method in methods:
                    tally = tallies[method]
                    start = time.perf_counter()
                    if method == "unchanged":
                        output = image
                    elif method == "skeleton":
                        output = image
                        for face in skeleton_tracked[index]:
                            output = skeleton_swap_blend(output, face, source)
                    else:
                        frame = Frame(index=index, image=image, capture_ns=0, pts=index / fps,
                                      faces=tracked[index])
                        if method == "mesh":
                            frame.layers = swapper.swap(frame, frame.faces)
                        else:
                            frame.layers = [layer for face in frame.faces
                                            if (layer := affine_layer(image, face, source, settings))]
                        blends[method].process(frame)
                        output = frame.result
                    if method != "unchanged" and tracked[index]:
                        tally.swap_ms.append(1000.0 * (time.perf_counter() - start) / len(tracked[index]))
                    measured = reference[index] if method == "unchanged" else \
                        measure_landmarks(detectors[method], output)
                    tally.landmarks.append(measured)
                    if reference[index] is not None and method != "unchanged":
                        outside = background_mask(reference[index], image.shape)
                        diff = output[outside].astype(np.float32) - image[outside].astype(np.float32)
                        tally.background_sse += float((diff ** 2).sum())
                        tally.background_count += int(diff.size)
                    if index in target_embeddings and target_embeddings[index] is not None:
                        embedding = target_embeddings[index] if method == "unchanged" else \
                            embed_face(identity, output, measured if measured is not None else reference[index])
                        if embedding is not None and source_embeddings[source_name] is not None:
                            tally.d_source.append(identity.distance(embedding, source_embeddings[source_name]))
                            tally.d_target.append(identity.distance(embedding, target_embeddings[index]))
                    if source_name == args.sheet_source and _wanted(moments_seen, target_name, index):
                        sheet_tiles.setdefault((target_name, index), {})[method] = \
                            _thumbnail(output, reference[index])
            for found in detectors.values():
                found.close()
            swapper.close()
            for method in methods:
                result = tallies[method].summary(reference, detect_ms)
                pairs.append({"source": source_name, "target": target_name, "method": method,
                              "frames": len(images), **result})
            progress.update(1)
            progress.set_postfix_str(f"{source_name} -> {target_name}")
        # Results so far, after every target: a long run that is stopped still leaves them.
        _write_results(args, settings, methods, pairs, moments_seen, sheet_tiles, final=False)
    progress.close()
    library.close()
    _write_results(args, settings, methods, pairs, moments_seen, sheet_tiles, final=True)
    return 0


def _write_results(args, settings, methods, pairs, moments_seen, sheet_tiles, final: bool) -> dict:
    done = sorted({p["target"] for p in pairs}, key=args.targets.index)
    report = {
        "benchmark": "swap quality",
        "command": "python -m benchmarks.quality swap " + " ".join(sys.argv[2:]),
        "complete": final,
        "frames_per_target": args.frames,
        "identity_every": args.identity_every,
        "sources": args.sources,
        "targets": done,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores (shared)",
        "settings": settings.to_dict(),
        "overall": _overall(pairs, methods, args.sources),
        "pairs": pairs,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality_swap_inprocess.json").write_text(json.dumps(report, indent=1, default=_json_default) + "\n")
    (args.out / "quality_swap_inprocess.md").write_text(markdown(report))
    sheet = _contact_sheet(moments_seen, sheet_tiles, args.out)
    if final:
        if args.json:
            print(json.dumps(report, default=_json_default))
        else:
            print(markdown(report))
            if sheet:
                print(f"contact sheet: {sheet}")
    return report


def _track(raw, tracker, fps, images):
    height, width = images[0].shape[:2]
    return [tracker.update(faces, index / fps, width, height) for index, faces in enumerate(raw)]


def _moment_candidates(features, reference, target) -> dict[str, tuple[float, str, int]]:
    """Best frame of this target for each moment, with a score (higher = more typical)."""
    found: dict[str, tuple[float, str, int]] = {}
    for index, feature in enumerate(features):
        if feature is None or index < 2:
            continue
        prev = reference[index - 1]
        speed = 0.0
        if prev is not None:
            speed = float(np.linalg.norm(reference[index][:468, :2] - prev[:468, :2], axis=1).mean()) / \
                max(inter_ocular(reference[index]), 1.0)
        scores = {
            "neutral": -(feature["mouth"] * 5 + feature["yaw"] / 10 + feature["pitch"] / 20 + speed * 20
                         + abs(feature["eyes"] - 0.2)),
            "open mouth": feature["mouth"] - feature["yaw"] / 100,
            "blink": -feature["eyes"] - feature["yaw"] / 200,
            "head turned": feature["yaw"] / 45,
            "side light": feature["side"] - feature["yaw"] / 100,
            "fast motion": speed,
        }
        for moment, score in scores.items():
            if score > found.get(moment, (-math.inf,))[0]:
                found[moment] = (score, target, index)
    return found


def _wanted(moments, target, index) -> bool:
    return any(t == target and i == index for _, t, i in moments.values())


def _thumbnail(image: np.ndarray, landmarks: np.ndarray | None, size: int = 176) -> np.ndarray:
    """A square crop around the face (1.6x its extent), `size` pixels."""
    height, width = image.shape[:2]
    if landmarks is None:
        centre, half = np.array([width / 2, height / 2]), min(width, height) / 2
    else:
        points = landmarks[:468, :2]
        centre = (points.max(axis=0) + points.min(axis=0)) / 2
        half = float((points.max(axis=0) - points.min(axis=0)).max()) * 0.8
    x0, y0 = int(max(0, centre[0] - half)), int(max(0, centre[1] - half))
    x1, y1 = int(min(width, centre[0] + half)), int(min(height, centre[1] + half))
    return cv2.resize(image[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA)


def _contact_sheet(moments, tiles, out: Path) -> Path | None:
    """Columns: the six moments; rows: target, mesh output, skeleton output, affine paste
    (a label strip on the left says which)."""
    if not moments:
        return None
    columns, labels = [], []
    examples = out / "swap_examples"
    examples.mkdir(parents=True, exist_ok=True)
    for moment in MOMENTS:
        if moment not in moments:
            continue
        _, target, index = moments[moment]
        row = tiles.get((target, index), {})
        picks = [m for m in ("unchanged", "mesh", "skeleton", "affine") if m in row]
        if not picks:
            continue
        column = np.vstack([row[m] for m in picks])
        columns.append(column)
        labels.append(f"{moment}: {target} #{index}")
        slug = moment.replace(" ", "_")
        pair = np.hstack([row[m] for m in picks if m in ("unchanged", "mesh")])
        cv2.imwrite(str(examples / f"{slug}.png"), pair, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not columns:
        return None
    tile = columns[0].shape[1]
    height = max(c.shape[0] for c in columns)
    columns = [np.pad(c, ((0, height - c.shape[0]), (0, 0), (0, 0))) for c in columns]
    sheet = np.hstack(columns)
    header = np.full((22, sheet.shape[1], 3), 255, dtype=np.uint8)
    for number, label in enumerate(labels):
        cv2.putText(header, label, (4 + number * tile, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.32, (0, 0, 0), 1,
                    cv2.LINE_AA)
    sheet = np.vstack([header, sheet])
    strip = np.full((sheet.shape[0], 18, 3), 255, dtype=np.uint8)
    names = {"unchanged": "target", "mesh": "mesh (facecam)", "skeleton": "skeleton mesh", "affine": "affine paste"}
    for number, name in enumerate(names[m] for m in picks):
        text_image = np.full((18, tile, 3), 255, dtype=np.uint8)
        cv2.putText(text_image, name, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        strip[22 + number * tile:22 + (number + 1) * tile] = cv2.rotate(text_image, cv2.ROTATE_90_COUNTERCLOCKWISE)
    sheet = np.hstack([strip, sheet])
    path = out / "swap_contact_sheet.png"
    cv2.imwrite(str(path), sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return path


_SUMMED = ("distance_to_source", "distance_to_target", "landmark_error", "landmark_error_468", "pose_error_deg",
           "jitter_above_input_pct", "background_psnr_db", "swap_blend_ms_p50", "fps", "face_found_pct")


def _overall(pairs: list[dict], methods: list[str], sources: list[str]) -> dict:
    groups = {"all": sources, "photo": [s for s in sources if s in PHOTO_SOURCES],
              "painted": [s for s in sources if s not in PHOTO_SOURCES]}
    overall: dict[str, dict] = {}
    for group, members in groups.items():
        if not members:
            continue
        for method in methods:
            rows = [p for p in pairs if p["method"] == method and p["source"] in members]
            if not rows:
                continue
            entry = {key: float(np.nanmean([r[key] for r in rows])) for key in _SUMMED}
            frames = sum(r["identity_frames"] for r in rows)
            entry["identity_retrieval"] = sum(r["identity_retrieval"] * r["identity_frames"]
                                              for r in rows if r["identity_frames"]) / max(frames, 1)
            entry["identity_frames"] = frames
            overall.setdefault(group, {})[method] = entry
    return overall


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(repr(value))


def _fmt(value: float, digits: int) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def markdown(report: dict) -> str:
    lines = [f"# Swap quality, in-process ({report['frames_per_target']} frames per target, identity every "
             f"{report['identity_every']} frames)", "",
             "Taken in-process, before the mark and the encoder, to compare methods side by side; the judged "
             "numbers are those of the written files: quality_swap.md (`--written`).", "",
             f"Machine: {report['machine']}. Sources: {', '.join(report['sources'])}; targets: "
             f"{', '.join(report['targets'])}.", ""]
    header = ("| group | method | retrieval | d(source) | d(target) | landmark err | pose err ° | "
              "jitter vs input | bg PSNR dB | swap+blend p50 ms | FPS |")
    lines += ["## Overall", "", header, "|" + " --- |" * 11]
    for group, methods in report["overall"].items():
        for method, e in methods.items():
            lines.append(f"| {group} | {method} | {100 * e['identity_retrieval']:.1f}% | "
                         f"{_fmt(e['distance_to_source'], 3)} | {_fmt(e['distance_to_target'], 3)} | "
                         f"{_fmt(e['landmark_error'], 4)} | {_fmt(e['pose_error_deg'], 2)} | "
                         f"{_fmt(e['jitter_above_input_pct'], 1)}% | {_fmt(e['background_psnr_db'], 1)} | "
                         f"{_fmt(e['swap_blend_ms_p50'], 2)} | {_fmt(e['fps'], 1)} |")
    lines += ["", "## Per pair", "",
              "| source | target | method | retrieval | d(source) | d(target) | landmark err | pose err ° | "
              "jitter vs input | bg PSNR dB | swap+blend p50 ms |", "|" + " --- |" * 11]
    for p in report["pairs"]:
        lines.append(f"| {p['source']} | {p['target']} | {p['method']} | "
                     f"{_fmt(100 * p['identity_retrieval'], 1)}% | {_fmt(p['distance_to_source'], 3)} | "
                     f"{_fmt(p['distance_to_target'], 3)} | {_fmt(p['landmark_error'], 4)} | "
                     f"{_fmt(p['pose_error_deg'], 2)} | {_fmt(p['jitter_above_input_pct'], 1)}% | "
                     f"{_fmt(p['background_psnr_db'], 1)} | {_fmt(p['swap_blend_ms_p50'], 2)} |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality_swap", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
