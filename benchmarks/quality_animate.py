"""animate: live-portrait quality by self- and cross-reenactment, with baselines in the same run.

    python -m benchmarks.quality animate                          # 7 videos x 150 frames, 7 portraits x 3 drivers
    python -m benchmarks.quality animate --frames 0               # every frame of every video
    python -m benchmarks.quality animate --videos d9.mp4 --frames 30 --cross-videos d3.mp4 --no-identity

Self-reenactment (FOMM, LivePortrait): the portrait is frame 0 of a real video and the driver is
the same video, so the output should reproduce the video frame by frame. Methods, on the same
frames and the same tracked driving landmarks:
- mesh: facecam's mesh animator with default settings;
- affine: frame 0 moved by the driver's similarity transform only (rigid points, 2-D);
- static: frame 0 repeated (the frozen frame).

Metrics, on a face crop (the true frame's face box, enlarged 1.3x, square, 256 px), frame 0 left
out: L1 (mean absolute difference, 0..1), PSNR, SSIM; AKD: MediaPipe landmarks measured afresh
(still-picture mode) on the output and on the true frame, mean distance over the 468 mesh points
divided by the true face's size (box diagonal), with the share of frames where no face was found.
Identity (needs the `eval` extra): dlib's ResNet distance (independent of our landmarks) of the
output to the portrait and to the real frame it should reproduce, every `--identity-every` frames.

Cross-reenactment: the s*.jpg portraits driven by each of `--cross-videos`: motion gain and
cosine, mouth, eye and gaze correlation (faces found afresh on driver and output, each relative to
its neutral frame 0: `motion_scores`), identity kept; beside the gaze, how well each driver's
gaze repeats when measured twice (afresh and by the tracker: `gaze_repeatability`), the noise
floor of that driver's gaze correlation. A contact sheet per portrait
(`animate_examples/<portrait>.png`: neutral, open mouth, grin, blink, look left, big head turn,
lean, one band per driver; the Mona Lisa's also as `animate_contact_sheet.png`).

Speed: the animator's p50 per frame in this process (single thread). Results:
benchmarks/results/quality_animate.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MEDIA = Path(os.environ.get("FACECAM_MEDIA", ROOT.parent / "shared" / "media"))
DEFAULT_OUT = ROOT / "benchmarks" / "results"
VIDEOS = ("d3.mp4", "d6.mp4", "d9.mp4", "d10.mp4", "d13.mp4", "d14.mp4", "d20.mp4")
CROSS_VIDEOS = ("d3.mp4", "d6.mp4", "d9.mp4")
PORTRAITS = ("s9.jpg", "s10.jpg", "s12.jpg", "s42.jpg", "s0.jpg", "s7.jpg", "s6.jpg")
METHODS = ("mesh", "affine", "static")
CROP_SIDE = 256
PSNR_CAP = 100.0
RIGID_2D = np.array([33, 133, 263, 362, 1, 4, 6, 168, 197, 10, 151, 234, 454, 127, 356])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--videos", nargs="+", default=list(VIDEOS), help="driving videos (media names)")
    parser.add_argument("--frames", type=int, default=150, help="first N frames of each video (0: all)")
    parser.add_argument("--identity-every", type=int, default=15, help="identity on every Nth frame")
    parser.add_argument("--no-identity", action="store_true", help="skip the identity model")
    parser.add_argument("--portraits", nargs="+", default=list(PORTRAITS),
                        help="portraits for cross-reenactment and the examples")
    parser.add_argument("--cross-videos", nargs="*", default=list(CROSS_VIDEOS),
                        help="drivers for cross-reenactment (none: skip it)")
    parser.add_argument("--cross-frames", type=int, default=300, help="frames of cross-reenactment")
    parser.add_argument("--no-pictures", action="store_true", help="no contact sheet, no examples")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a facecam setting for the mesh method, e.g. --set motion_strength=1.2")
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA, help="folder of the test media")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results folder")
    parser.add_argument("--json", action="store_true", help="print the results as JSON, no progress bar")


# -- pieces ----------------------------------------------------------------------------------------

def _settings(items: list[str]):
    from realtime.settings import Settings

    changes = {}
    for item in items:
        name, _, text = item.partition("=")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        changes[name.strip()] = tuple(value) if isinstance(value, list) else value
    return Settings(mode="animate").replace(**changes)


def read_frames(path: Path, limit: int) -> tuple[list[np.ndarray], float]:
    import av

    from realtime.capture.video import frame_to_bgr

    frames = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 30)
        for frame in container.decode(video=0):
            frames.append(frame_to_bgr(frame))
            if limit and len(frames) >= limit:
                break
    return frames, fps


class Tracking:
    """Driving faces as the live pipeline sees them, a frame at a time: video-mode detection,
    tracking, smoothing. Each frame's faces depend on the frames before it only, so the faces of a
    clip's first n frames are those of any longer run's first n (tests share one run per clip)."""

    def __init__(self, fps: float) -> None:
        from realtime.faces import create_detector
        from realtime.faces.tracking import FaceTracker
        from realtime.settings import FaceSettings

        settings = FaceSettings()
        self.fps = fps
        self.count = 0
        self._detector = create_detector(settings, static=False)
        self._tracker = FaceTracker(settings, expressions=True)  # as the detect stage in animate mode

    def add(self, image: np.ndarray) -> list:
        """The next frame's faces."""
        faces = self._tracker.update(self._detector.detect(image), self.count / self.fps,
                                     image.shape[1], image.shape[0])
        self.count += 1
        return faces

    def close(self) -> None:
        self._detector.close()


def track(frames: list[np.ndarray], fps: float) -> list[list]:
    """Driving faces as the live pipeline sees them: video-mode detection, tracking, smoothing."""
    tracking = Tracking(fps)
    try:
        return [tracking.add(image) for image in frames]
    finally:
        tracking.close()


def crop_box(face, image: np.ndarray) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = face.box
    centre_x, centre_y = (x0 + x1) / 2, (y0 + y1) / 2
    half = 0.65 * max(x1 - x0, y1 - y0)
    return (int(round(centre_x - half)), int(round(centre_y - half)),
            int(round(centre_x + half)), int(round(centre_y + half)))


def crop(image: np.ndarray, box) -> np.ndarray:
    x0, y0, x1, y1 = box
    pad = max(0, -x0, -y0, x1 - image.shape[1], y1 - image.shape[0])
    if pad:
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT)
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    return cv2.resize(image[y0:y1, x0:x1], (CROP_SIDE, CROP_SIDE), interpolation=cv2.INTER_AREA)


def picture_scores(output: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    from skimage.metrics import structural_similarity

    a = output.astype(np.float64)
    b = truth.astype(np.float64)
    mse = float(((a - b) ** 2).mean())
    return {
        "l1": float(np.abs(a - b).mean() / 255.0),
        "psnr": PSNR_CAP if mse == 0 else min(PSNR_CAP, 10 * np.log10(255.0 ** 2 / mse)),
        "ssim": float(structural_similarity(output, truth, channel_axis=2, data_range=255)),
    }


def akd(landmarks: np.ndarray | None, truth) -> float | None:
    if landmarks is None:
        return None
    distance = np.linalg.norm(landmarks[:468, :2] - truth.landmarks[:468, :2], axis=1).mean()
    return float(distance / truth.size)


def affine_baseline(source_image: np.ndarray, source_face, face) -> np.ndarray:
    from realtime.animate.surround import fit_similarity_2d

    matrix = fit_similarity_2d(source_face.landmarks[RIGID_2D, :2], face.landmarks[RIGID_2D, :2])
    height, width = source_image.shape[:2]
    return cv2.warpAffine(source_image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def _progress(total: int, enabled: bool, description: str):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=description, unit="frame", leave=False, file=sys.stderr)


def _summary(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


# -- drawn amplitude ---------------------------------------------------------------------------------
# How far the drawn features move against how far the real ones did (self-reenactment, both measured
# by MediaPipe afresh on the output and on the real frame, each minus frame 0's): a portrait that
# reproduced the video scores 1, the frozen frame 0, half-size blinks 0.5. Eye opening (the lids' gap
# in eye widths, both eyes), gaze (the irises between their eye corners, in eye widths, both axes
# pooled) and mouth width (corner to corner, in outer-eye-corner distances: a smile widens it, an
# "O" narrows it). The slope of drawn on real through the origin, over all measured frames.
AMPLITUDE_FEATURES = ("eye_opening", "gaze", "mouth_width")


def drawn_features(points: np.ndarray) -> np.ndarray:
    """(4,) eye opening, gaze along and across the eye, mouth width (see AMPLITUDE_FEATURES)."""
    from realtime.animate.motion import gaze

    eyes = float(np.linalg.norm(points[33, :2] - points[263, :2])) or 1.0
    mouth = float(np.linalg.norm(points[61, :2] - points[291, :2]))
    return np.array([eye_openness(points), *gaze(points), mouth / eyes])


def amplitude_gains(real: list[np.ndarray], drawn: list[np.ndarray]) -> dict[str, float | None]:
    """Slope (through the origin) of the drawn features' change on the real ones', per feature."""
    if len(real) < 3:
        return {name: None for name in AMPLITUDE_FEATURES}
    r, d = np.asarray(real, dtype=np.float64), np.asarray(drawn, dtype=np.float64)

    def slope(columns: list[int]) -> float | None:
        a, b = r[:, columns].ravel(), d[:, columns].ravel()
        norm = float((a * a).sum())
        return float((a * b).sum() / norm) if norm > 1e-12 else None

    return {"eye_opening": slope([0]), "gaze": slope([1, 2]), "mouth_width": slope([3])}


# -- self-reenactment -------------------------------------------------------------------------------

def self_reenactment(path: Path, frames_limit: int, settings, still_detector, identity, identity_every: int,
                     show_progress: bool) -> dict:
    from realtime.animate.mesh import MeshAnimator
    from realtime.faces.source import SourceFace
    from realtime.frame import Frame

    frames, fps = read_frames(path, frames_limit)
    source_faces = still_detector.detect(frames[0])
    if not source_faces:
        return {"video": path.name, "error": "no face in frame 0"}
    source_face = max(source_faces, key=lambda f: f.size)
    source = SourceFace(path=f"{path.name}#0", image=frames[0], face=source_face, faces=(source_face,))
    animator = MeshAnimator(settings)
    animator.set_source(source)
    tracked = track(frames, fps)
    source_embedding = identity.embed(frames[0], source_face.box) if identity is not None else None

    per_method = {m: {"l1": [], "psnr": [], "ssim": [], "akd": [], "identity": [], "identity_real": []}
                  for m in METHODS}
    truth_identity = []  # the real frames' own distance to frame 0: what a perfect output scores
    per_frame: list[dict] = []  # identity to the real frame per measured frame and method (where it sinks)
    missing = {m: 0 for m in METHODS}
    timings = []
    features0 = drawn_features(source_face.landmarks)
    real_change, drawn_change, intended_change = [], [], []
    bar = _progress(len(frames) - 1, show_progress, path.name)
    for index in range(1, len(frames)):
        truth_image = frames[index]
        faces = tracked[index]
        truth_faces = still_detector.detect(truth_image)
        if bar is not None:
            bar.update(1)
        if not truth_faces:
            continue  # nothing to measure against
        truth = max(truth_faces, key=lambda f: f.size)
        # CPU time, one OpenCV thread: the machine is shared, wall time measures the neighbours.
        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        started = time.process_time()
        mesh = animator.animate(Frame(index=index, image=truth_image, capture_ns=0, pts=index / fps,
                                      faces=faces), faces)
        timings.append(time.process_time() - started)
        cv2.setNumThreads(threads)
        outputs = {"mesh": mesh, "static": frames[0],
                   "affine": affine_baseline(frames[0], source_face, max(faces, key=lambda f: f.size))
                   if faces else frames[0]}
        box = crop_box(truth, truth_image)
        truth_crop = crop(truth_image, box)
        truth_embedding = None
        if identity is not None and index % identity_every == 0 and source_embedding is not None:
            truth_embedding = identity.embed(truth_image, truth.box)
            truth_identity.append(None if truth_embedding is None
                                  else identity.distance(truth_embedding, source_embedding))
        for method, output in outputs.items():
            scores = picture_scores(crop(output, box), truth_crop)
            for key, value in scores.items():
                per_method[method][key].append(value)
            if method == "static":
                landmarks = source_face.landmarks
            else:
                found = still_detector.detect(output)
                landmarks = max(found, key=lambda f: f.size).landmarks if found else None
            if landmarks is None:
                missing[method] += 1
            elif method == "mesh":
                real_change.append(drawn_features(truth.landmarks) - features0)
                drawn_change.append(drawn_features(landmarks) - features0)
                intended = getattr(animator, "_last_points", None)
                intended_change.append(None if intended is None else drawn_features(intended) - features0)
            per_method[method]["akd"].append(akd(landmarks, truth))
            if identity is not None and index % identity_every == 0:
                embedding = source_embedding if method == "static" else identity.embed(output, truth.box)
                per_method[method]["identity"].append(
                    None if embedding is None or source_embedding is None
                    else identity.distance(embedding, source_embedding))
                # ... and to the real frame it should reproduce (the identity drift a viewer sees)
                per_method[method]["identity_real"].append(
                    None if embedding is None or truth_embedding is None
                    else identity.distance(embedding, truth_embedding))
                if method == "mesh":
                    per_frame.append({"frame": index})
                per_frame[-1][method] = per_method[method]["identity_real"][-1]
    if bar is not None:
        bar.close()
    measured = len(per_method["mesh"]["ssim"])
    result = {"video": path.name, "frames": len(frames), "measured": measured, "methods": {}}
    for method in METHODS:
        values = per_method[method]
        result["methods"][method] = {
            "l1": _summary(values["l1"]), "psnr": _summary(values["psnr"]), "ssim": _summary(values["ssim"]),
            "akd": _summary(values["akd"]), "no_face": missing[method] / max(measured, 1),
            "identity": _summary(values["identity"]), "identity_real": _summary(values["identity_real"]),
        }
    result["truth_identity"] = _summary(truth_identity)
    result["identity_real_per_frame"] = per_frame
    result["amplitude"] = amplitude_gains(real_change, drawn_change)
    kept = [(r, i) for r, i in zip(real_change, intended_change, strict=True) if i is not None]
    result["amplitude_intended"] = amplitude_gains([r for r, _ in kept], [i for _, i in kept])
    result["mesh_ms_p50"] = float(np.median(timings) * 1000) if timings else None
    return result


# -- cross-reenactment motion ------------------------------------------------------------------------
# Both faces measured afresh (MediaPipe, still-picture mode) on the driver's frame and on the animated
# portrait, each relative to its own neutral frame (frame 0, the animator's reference). The driver's
# displacements are carried into the portrait's frame by the similarity (rotation, scale) between
# the two neutral faces, so a gain of 1 means the portrait moved as far, in its own face sizes, as
# the driver did in its.
ACTIVE_MOTION = 0.02  # face sizes: a frame is active when the driver's mean landmark motion exceeds it
MESH_POINTS = 468
EYE_LOOPS_CORNERS = ((33, 133), (263, 362))  # (outer, inner) corners, the person's right eye first


def _pearson(a: list[float], b: list[float]) -> float | None:
    a_arr, b_arr = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a_arr) < 3 or a_arr.std() < 1e-9 or b_arr.std() < 1e-9:
        return None
    return float(np.corrcoef(a_arr, b_arr)[0, 1])


def eye_openness(points: np.ndarray) -> float:
    """Mean over both eyes of the lid gap (outline's mean distance to the corner line) / eye width."""
    return float(np.mean(_eye_openings(points)))


def _eye_openings(points: np.ndarray) -> list[float]:
    """Per eye (the person's right first), as `eye_openness`."""
    from realtime.faces.topology import topology

    top = topology()
    values = []
    for loop, (outer, inner) in zip((top.right_eye, top.left_eye), EYE_LOOPS_CORNERS, strict=True):
        a, b = points[outer, :2], points[inner, :2]
        axis = b - a
        width = float(np.linalg.norm(axis)) or 1.0
        normal = np.array([-axis[1], axis[0]]) / width
        values.append(float(np.abs((points[loop, :2] - (a + b) / 2) @ normal).mean() / width))
    return values


# Gaze is compared on the eyes the driver shows open: an eye's iris offset counts in full from
# GAZE_OPEN[1] of that eye's neutral opening (the driver's), not at all below GAZE_OPEN[0], and
# the same weights are put on the output's same eye. A shut eye's iris is MediaPipe's guess: on
# d3's wink (frames 36-60, her right eye at 0.2 of its opening, the left looking 0.2 eye widths
# aside) the guess on the Mona-Lisa-like painting s10's drawn shut eye sat 0.33 eye widths the
# other way, outside the eye, and the plain mean of both eyes scored s10's gaze -0.21 against d3
# while its open eye looked where d3's did (picture: benchmarks/results/s23-animgaze).
GAZE_OPEN = (0.3, 0.6)


def eye_gazes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per eye (the person's right first): (2, 2) the iris centre's offset from the middle of its
    corners along and across the eye, in eye widths (as motion.gaze, not averaged), and (2,) the
    lids' opening in eye widths (as `eye_openness`)."""
    from realtime.animate.motion import eye_gazes as offsets

    return offsets(points), np.array(_eye_openings(points))


def motion_scores(driver: list, output: list) -> dict:
    """Gain, cosine, mouth / eye / gaze correlation of `output` (faces found on the animated
    portrait, or None) against `driver` (faces found on the driving frames, or None); frame 0 of
    each is the neutral reference (it must have a face)."""
    from realtime.animate.mouth import mouth_opening
    from realtime.animate.surround import fit_similarity_2d
    from realtime.faces.topology import topology

    top = topology()
    if driver[0] is None or output[0] is None:
        return {"error": "no face on the neutral frame"}
    d0, o0 = driver[0].landmarks[:, :2].astype(np.float64), output[0].landmarks[:, :2].astype(np.float64)
    linear = fit_similarity_2d(d0[:MESH_POINTS], o0[:MESH_POINTS])[:, :2]
    o_size = float(output[0].size)
    (d_gaze0, d_open0), (o_gaze0, _) = eye_gazes(d0), eye_gazes(o0)
    dot = norm = 0.0
    cosines, mouth_d, mouth_o, eyes_d, eyes_o, gaze_d, gaze_o = [], [], [], [], [], [], []
    active = measured = 0
    for d_face, o_face in zip(driver[1:], output[1:], strict=True):
        if d_face is None or o_face is None:
            continue
        measured += 1
        d = d_face.landmarks[:, :2].astype(np.float64)
        o = o_face.landmarks[:, :2].astype(np.float64)
        d_move = ((d - d0) @ linear.T)[:MESH_POINTS] / o_size
        o_move = (o - o0)[:MESH_POINTS] / o_size
        mouth_d.append(mouth_opening(d[top.inner_mouth], d_face.size))
        mouth_o.append(mouth_opening(o[top.inner_mouth], o_face.size))
        eyes_d.append(eye_openness(d))
        eyes_o.append(eye_openness(o))
        (d_gaze, d_open), (o_gaze, _) = eye_gazes(d), eye_gazes(o)
        weights = np.clip((d_open / np.maximum(d_open0, 1e-6) - GAZE_OPEN[0]) / (GAZE_OPEN[1] - GAZE_OPEN[0]), 0, 1)
        if weights.sum() > 1e-6:  # both eyes shut: no gaze to compare
            gaze_d.append(weights @ (d_gaze - d_gaze0) / weights.sum())
            gaze_o.append(weights @ (o_gaze - o_gaze0) / weights.sum())
        if np.linalg.norm(d_move, axis=1).mean() < ACTIVE_MOTION:
            continue
        active += 1
        dot += float((o_move * d_move).sum())
        norm += float((d_move * d_move).sum())
        cosines.append(float((o_move * d_move).sum() / (np.linalg.norm(o_move) * np.linalg.norm(d_move) + 1e-12)))
    gaze_d_arr, gaze_o_arr = np.array(gaze_d).reshape(-1, 2), np.array(gaze_o).reshape(-1, 2)
    # Gaze: both axes pooled (horizontal and vertical glances alike), each axis centred on its own.
    gaze_corr = _pearson(list((gaze_d_arr - gaze_d_arr.mean(axis=0)).ravel()),
                         list((gaze_o_arr - gaze_o_arr.mean(axis=0)).ravel())) if len(gaze_d) >= 3 else None
    return {
        "measured": measured, "active": active,
        "gain": dot / norm if norm > 0 else None,
        "cosine": float(np.mean(cosines)) if cosines else None,
        "mouth_corr": _pearson(mouth_d, mouth_o), "eye_corr": _pearson(eyes_d, eyes_o),
        "gaze_corr": gaze_corr,
        "gaze_range_driver": float(gaze_d_arr.std()) if len(gaze_d) else None,
        "gaze_range_output": float(gaze_o_arr.std()) if len(gaze_o) else None,
    }


def gaze_repeatability(fresh: list, tracked: list[list]) -> float | None:
    """How well the driver's gaze signal repeats when measured twice: the pooled correlation (as
    `gaze_corr`) of the gaze found afresh on each driving frame with the tracker's on the same
    frame. The animator follows the tracker's; a portrait that followed it perfectly would score
    about this against the fresh one, so a driver whose eyes barely move (d9: 0.009 eye widths
    sideways) has a gaze correlation limited by measurement noise, not by the animator."""
    from realtime.animate.motion import gaze

    pairs = [(f.landmarks, max(t, key=lambda x: x.size).landmarks) for f, t in zip(fresh, tracked, strict=True)
             if f is not None and t]
    if len(pairs) < 3:
        return None
    a = np.array([gaze(f) for f, _ in pairs]) - gaze(pairs[0][0])
    b = np.array([gaze(t) for _, t in pairs]) - gaze(pairs[0][1])
    return _pearson(list((a - a.mean(axis=0)).ravel()), list((b - b.mean(axis=0)).ravel()))


# -- cross-reenactment and pictures -------------------------------------------------------------------

def animate_portrait(source, frames, tracked, fps, settings) -> list[np.ndarray]:
    from realtime.animate.mesh import MeshAnimator
    from realtime.frame import Frame

    animator = MeshAnimator(settings)
    animator.set_source(source)
    return [animator.animate(Frame(index=i, image=image, capture_ns=0, pts=i / fps, faces=faces), faces)
            for i, (image, faces) in enumerate(zip(frames, tracked, strict=True))]


def cross_reenactment(media: Path, portraits: list[str], video: str, frames_limit: int, settings,
                      identity, identity_every: int, library, still_detector) -> tuple[list[dict], dict]:
    """Each portrait driven by `video`: identity kept, and motion (gain, cosine, mouth, eyes, gaze)
    measured on faces found afresh on the driver's frames and on the animated portrait."""
    frames, fps = read_frames(media / video, frames_limit)
    tracked = track(frames, fps)

    def found(image: np.ndarray):
        faces = still_detector.detect(image)
        return max(faces, key=lambda f: f.size) if faces else None

    driver_faces = [found(image) for image in frames]
    repeat = gaze_repeatability(driver_faces, tracked)
    chosen = moments(tracked)
    rows = []
    animated = {}
    for name in portraits:
        source = library.get(str(media / name))
        outputs = animate_portrait(source, frames, tracked, fps, settings)
        animated[name] = {index: outputs[index] for _, index in chosen}  # only what the sheets show
        row = {"portrait": name, "driver": video, "frames": len(frames), "gaze_repeat": repeat}
        row.update(motion_scores(driver_faces, [found(output) for output in outputs]))
        if identity is not None:
            scale_box = _portrait_box(source, outputs[0])
            reference = identity.embed(outputs[0], scale_box)
            distances = []
            for output in outputs[identity_every::identity_every]:
                embedding = identity.embed(output, scale_box)
                if embedding is not None and reference is not None:
                    distances.append(identity.distance(embedding, reference))
            row["identity"] = float(np.mean(distances)) if distances else None
            row["identity_max"] = float(np.max(distances)) if distances else None
            row["found"] = len(distances) / max(1, len(outputs[identity_every::identity_every]))
        rows.append(row)
    return rows, {"frames": {index: frames[index] for _, index in chosen}, "tracked": tracked,
                  "animated": animated, "chosen": chosen}


def _portrait_box(source, output: np.ndarray) -> tuple[int, int, int, int]:
    """The portrait's face box at the output's size (dlib's fallback when its own detector misses)."""
    scale_x = output.shape[1] / source.image.shape[1]
    scale_y = output.shape[0] / source.image.shape[0]
    x0, y0, x1, y1 = source.face.box
    return (int(x0 * scale_x), int(y0 * scale_y), int(x1 * scale_x), int(y1 * scale_y))


def moments(tracked: list[list]) -> list[tuple[str, int]]:
    """Seven frames worth showing: neutral, open mouth, grin, blink, look left, big head turn, lean."""
    from realtime.animate.motion import gaze
    from realtime.animate.mouth import mouth_opening
    from realtime.faces.topology import topology

    top = topology()
    rows = []
    for index, faces in enumerate(tracked):
        if not faces:
            continue
        face = max(faces, key=lambda f: f.size)
        points = face.points
        mouth = mouth_opening(points[top.inner_mouth], face.size)
        eyes = mouth_opening(points[top.right_eye], face.size) + mouth_opening(points[top.left_eye], face.size)
        width = float(np.linalg.norm(points[61] - points[291])) / face.size  # mouth corners
        centre = points.mean(axis=0) / face.size
        rows.append((index, mouth, eyes, face.pose[0], face.pose[1], width, gaze(face.landmarks)[0],
                     centre[0], centre[1]))
    table = np.array(rows)
    table[:, 3:5] -= table[0, 3:5]  # head pose relative to the first frame (the neutral one)
    table[:, 6:9] -= table[0, 6:9]
    # A blink is brief: the eyes' closure against the median of the frames around it (a smile
    # narrows the eyes for seconds, which is not a blink).
    eyes = table[:, 2].copy()
    around = np.array([np.median(eyes[max(0, i - 10):i + 11]) for i in range(len(eyes))])
    table[:, 2] = eyes - around
    # ... and a smile (mouth wider than at rest) closes the eyes without blinking.
    smiling = table[:, 5] > 1.05 * table[0, 5]
    table[smiling, 2] = np.inf
    turned = np.abs(table[:, 3])
    leaning = np.hypot(table[:, 7], table[:, 8])
    # a grin: wide and not wide open
    grin = table[:, 5] - 2.0 * np.maximum(table[:, 1] - np.median(table[:, 1]), 0)
    # looking left (the picture's left): the irises' offset along the eyes, head still
    look = -table[:, 6] - 0.02 * turned
    scores = {"open mouth": table[:, 1], "grin": grin, "blink": -table[:, 2], "look left": look,
              "big head turn": turned, "lean": leaning}
    chosen: list[tuple[str, int]] = [("neutral", int(table[0, 0]))]
    for name, score in scores.items():
        order = np.argsort(-score, kind="stable")
        taken = [index for _, index in chosen]
        # the most extreme frame not next to one already shown
        best = next((int(table[i, 0]) for i in order if all(abs(table[i, 0] - t) > 8 for t in taken)),
                    int(table[order[0], 0]))
        chosen.append((name, best))
    return chosen


def _face_view(image: np.ndarray, face_box, side: int, zoom: float = 0.9) -> np.ndarray:
    x0, y0, x1, y1 = face_box
    centre_x, centre_y = (x0 + x1) / 2, (y0 + y1) / 2
    half = zoom * max(x1 - x0, y1 - y0)
    box = (int(centre_x - half), int(centre_y - half * 1.1), int(centre_x + half), int(centre_y + half * 0.9))
    return cv2.resize(crop(image, box), (side, side), interpolation=cv2.INTER_AREA)


def _label(image: np.ndarray, text: str) -> np.ndarray:
    image = image.copy()
    scale = 0.5 * image.shape[1] / 220
    for colour, thickness in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(image, text, (5, int(8 + 24 * scale)), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness,
                    cv2.LINE_AA)
    return image


def contact_sheet(frames, tracked, animated: np.ndarray, source, chosen, side: int = 220,
                  whole_row: bool = True) -> np.ndarray:
    """Rows: driver frame, animated portrait (face view), animated portrait (whole) per moment."""
    columns = []
    for name, index in chosen:
        faces = tracked[index]
        driver_box = max(faces, key=lambda f: f.size).box if faces else (0, 0, frames[index].shape[1],
                                                                          frames[index].shape[0])
        driver = _label(_face_view(frames[index], driver_box, side), f"{name} (#{index})")
        scale = animated[index].shape[1] / source.image.shape[1]
        box = tuple(int(v * scale) for v in source.face.box)
        face = _face_view(animated[index], box, side)
        whole = animated[index]
        whole = cv2.resize(whole, (side, round(whole.shape[0] * side / whole.shape[1])), interpolation=cv2.INTER_AREA)
        columns.append(np.vstack([driver, face, whole] if whole_row else [driver, face]))
    return np.hstack(columns)


# -- report --------------------------------------------------------------------------------------

def _fmt(value, digits=3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def cross_summary(rows: list[dict]) -> dict:
    """Means over the pairs (gain weighted by active frames, pairs without active frames left out)."""
    weights = [row.get("active") or 0 for row in rows]
    gains = [(row["gain"], w) for row, w in zip(rows, weights, strict=True) if row.get("gain") is not None and w]
    summary = {"gain": sum(g * w for g, w in gains) / sum(w for _, w in gains) if gains else None,
               "gain_min": min((g for g, _ in gains), default=None), "gain_max": max((g for g, _ in gains), default=None)}
    for key in ("cosine", "mouth_corr", "eye_corr", "gaze_corr"):
        summary[key] = _summary([row.get(key) for row in rows])
    # Gaze per driver, beside how well that driver's gaze repeats when measured twice.
    for driver in sorted({row["driver"] for row in rows}):
        own = [row for row in rows if row["driver"] == driver]
        summary[f"gaze_corr {driver}"] = _summary([row.get("gaze_corr") for row in own])
        summary[f"gaze_repeat {driver}"] = _summary([row.get("gaze_repeat") for row in own])
    return summary


def markdown(results: dict) -> str:
    lines = ["# Live portraits: self-reenactment quality", "",
             f"{results['command']}", "",
             f"Machine: {results['machine']}. Frames per video: {results['frames_per_video'] or 'all'} "
             "(frame 0 is the portrait and is left out). Face crop 256 px. "
             "AKD: mean landmark distance / face size (lower is better); identity: dlib distance to "
             "the portrait (< 0.6 is conventionally the same person; the real frames' own distance "
             "to frame 0 is the target, not 0: expressions change it).", "",
             "| video | method | L1 ↓ | PSNR ↑ | SSIM ↑ | AKD ↓ | no face | identity to frame 0 | "
             "identity to the real frame ↓ |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in results["self"]:
        if "error" in row:
            lines.append(f"| {row['video']} | {row['error']} | | | | | | |")
            continue
        for method in METHODS:
            m = row["methods"][method]
            lines.append(f"| {row['video']} ({row['measured']}) | {method} | {_fmt(m['l1'], 4)} | "
                         f"{_fmt(m['psnr'], 2)} | {_fmt(m['ssim'])} | {_fmt(m['akd'], 4)} | "
                         f"{m['no_face']:.0%} | {_fmt(m['identity'])} | {_fmt(m.get('identity_real'))} |")
        if row.get("truth_identity") is not None:
            lines.append(f"| {row['video']} | *the real frames* | | | | | | {_fmt(row['truth_identity'])} | |")
    lines += ["", "Mesh beats both baselines on AKD and SSIM: "
              + ", ".join(f"{row['video']}: {'yes' if row.get('mesh_wins') else 'NO'}"
                          for row in results["self"]) + ".",
              "Mesh beats the frozen frame on SSIM, PSNR and identity to the real frames: "
              + ", ".join(f"{row['video']}: {'yes' if row.get('beats_frozen') else 'NO'}"
                          for row in results["self"]) + ".", ""]
    if any(row.get("amplitude") for row in results["self"]):
        lines += ["Drawn amplitude (mesh): the features' change found by MediaPipe on the output against "
                  "the real frame's, each from frame 0 (slope; 1 = the real amplitude, 0 = frozen); "
                  "in brackets the animator's own landmarks (what it meant to draw).", "",
                  "| video | eye opening | gaze | mouth width |", "| --- | --- | --- | --- |"]
        for row in results["self"]:
            drawn, meant = row.get("amplitude") or {}, row.get("amplitude_intended") or {}
            if drawn:
                lines.append(f"| {row['video']} | " + " | ".join(
                    f"{_fmt(drawn.get(name), 2)} ({_fmt(meant.get(name), 2)})" for name in AMPLITUDE_FEATURES) + " |")
        lines.append("")
    if results.get("cross"):
        lines += ["## Cross-reenactment", "",
                  "Each portrait driven by each video (first frames, frame 0 = the neutral reference). "
                  "Faces found afresh (MediaPipe, still-picture mode) on the driver's frames and on the "
                  "animated portrait, each relative to its own frame 0. Gain: least-squares slope of the "
                  "portrait's landmark motion on the driver's (carried into the portrait's frame by the "
                  "similarity between the two neutral faces), over the active frames (driver's mean "
                  f"landmark motion > {ACTIVE_MOTION} face sizes); 1 = full amplitude. Cosine: mean per "
                  "active frame of the two motions' cosine. Mouth / eyes: correlation over frames of the "
                  "inner-mouth area and the lids' opening. Gaze: correlation of the irises' offset from "
                  "the eye corners (eye widths, both axes), relative to frame 0, on the eyes the driver shows "
                  "open (GAZE_OPEN: a shut eye's iris is a guess); gaze repeat: the same "
                  "correlation between the driver's gaze found afresh and the tracker's on the same frames "
                  "(what the animator follows): how much of the driver's gaze signal is above measurement "
                  "noise, about the best a portrait can score on that driver. Identity: dlib distance "
                  "of the animated portrait to the still one (mean, max).", "",
                  "| portrait | driver | active | gain | cosine | mouth r | eyes r | gaze r | gaze repeat | identity ↓ | max |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for row in results["cross"]:
            lines.append(f"| {row['portrait']} | {row['driver']} | {row.get('active', '–')} | "
                         f"{_fmt(row.get('gain'), 2)} | {_fmt(row.get('cosine'), 2)} | "
                         f"{_fmt(row.get('mouth_corr'), 2)} | {_fmt(row.get('eye_corr'), 2)} | "
                         f"{_fmt(row.get('gaze_corr'), 2)} | {_fmt(row.get('gaze_repeat'), 2)} | {_fmt(row.get('identity'))} | "
                         f"{_fmt(row.get('identity_max'))} |")
        summary = cross_summary(results["cross"])
        lines += ["", "Over all pairs: " + ", ".join(f"{key} {_fmt(value, 2)}" for key, value in summary.items()), ""]
    speeds = [row["mesh_ms_p50"] for row in results["self"] if row.get("mesh_ms_p50") is not None]
    if speeds:
        per_video = ", ".join(f"{row['video']} {row['mesh_ms_p50']:.1f}" for row in results["self"]
                              if row.get("mesh_ms_p50") is not None)
        lines += [f"Mesh animator: p50 {np.median(speeds):.1f} ms CPU per frame (one OpenCV thread, this process, "
                  f"portrait = the video's frame; {per_video}).", ""]
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [row for row in results["self"] if "methods" in row]
    if not rows:
        return
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    width = 0.25
    x = np.arange(len(rows))
    for axis, metric, title in ((axes[0], "ssim", "SSIM on the face crop (higher is better)"),
                                (axes[1], "akd", "AKD (lower is better)")):
        for offset, method in enumerate(METHODS):
            values = [row["methods"][method][metric] or 0.0 for row in rows]
            axis.bar(x + (offset - 1) * width, values, width, label=method)
        axis.set_xticks(x, [row["video"] for row in rows])
        axis.set_title(title, fontsize=10)
    axes[0].set_ylim(0.0, 1.0)
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def run(args: argparse.Namespace) -> int:
    from benchmarks.identity import IdentityModel, IdentityModelMissing
    from realtime.faces import create_detector
    from realtime.faces.source import SourceLibrary
    from realtime.settings import FaceSettings

    settings = _settings(args.set)
    show_progress = sys.stderr.isatty() and not args.json
    missing_media = [name for name in [*args.videos, *args.portraits] if not (args.media / name).exists()]
    if missing_media:
        print(f"quality animate: media not found in {args.media}: {', '.join(missing_media)}", file=sys.stderr)
        return 2
    identity = None
    notes = []
    if not args.no_identity:
        try:
            identity = IdentityModel()
        except IdentityModelMissing as error:
            notes.append(str(error))
    still_detector = create_detector(FaceSettings(max_faces=1, min_confidence=0.3), static=True)
    library = SourceLibrary()
    started = time.perf_counter()
    try:
        self_rows = []
        for video in args.videos:
            row = self_reenactment(args.media / video, args.frames, settings, still_detector, identity,
                                   args.identity_every, show_progress)
            if "methods" in row:
                mesh, affine, static = (row["methods"][m] for m in METHODS)
                row["mesh_wins"] = bool(mesh["akd"] is not None and mesh["akd"] < min(affine["akd"], static["akd"])
                                        and mesh["ssim"] > max(affine["ssim"], static["ssim"]))
                row["beats_frozen"] = bool(
                    mesh["ssim"] > static["ssim"] and mesh["psnr"] > static["psnr"]
                    and (mesh["identity_real"] is None or static["identity_real"] is None
                         or mesh["identity_real"] < static["identity_real"]))
            self_rows.append(row)
        cross_rows, crosses = [], {}
        for video in args.cross_videos:
            rows, crosses[video] = cross_reenactment(args.media, args.portraits, video, args.cross_frames, settings,
                                                     identity, args.identity_every, library, still_detector)
            cross_rows += rows
    finally:
        still_detector.close()
    results = {
        "command": "python -m benchmarks.quality animate " + " ".join(sys.argv[2:] if len(sys.argv) > 2 else []),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared with other work: timings are noisy)",
        "frames_per_video": args.frames, "settings": settings.animate.__dict__, "self": self_rows,
        "cross": cross_rows, "cross_summary": cross_summary(cross_rows) if cross_rows else None, "notes": notes,
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality_animate.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (args.out / "quality_animate.md").write_text(markdown(results) + "\n")
    plot(results, args.out / "quality_animate.png")
    if crosses and not args.no_pictures:
        examples = args.out / "animate_examples"
        examples.mkdir(exist_ok=True)
        for name in args.portraits:
            source = library.get(str(args.media / name))
            parts = [contact_sheet(cross["frames"], cross["tracked"], cross["animated"][name], source,
                                   cross["chosen"], side=150) for cross in crosses.values()]
            width = max(part.shape[1] for part in parts)
            sheet = np.vstack([cv2.copyMakeBorder(part, 0, 4, 0, width - part.shape[1], cv2.BORDER_CONSTANT)
                               for part in parts])
            sheet = cv2.resize(sheet, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)  # the repository's size
            cv2.imwrite(str(examples / f"{Path(name).stem}.png"), sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9])
            if name == "s9.jpg":
                cv2.imwrite(str(args.out / "animate_contact_sheet.png"), sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    library.close()
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        print(markdown(results))
    return 0
