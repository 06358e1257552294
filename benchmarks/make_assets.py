"""Make the realism test assets in benchmarks/assets/ (see benchmarks/assets/README.md).

    python -m benchmarks.make_assets                      # from ../shared/media and the hand photos here
    python -m benchmarks.make_assets --hands-from gcompris-qt-data_3.1-2_all.deb   # re-extract the hands too

What it makes, and from what:
- source_hand_cheek.jpg (+ source_hand_cheek_mask.png): s42.jpg with a real photograph of a hand
  (GCompris, GPL-3) resting on her cheek, colour-matched to her skin: a source whose own occluder
  must never reach the output;
- source_open_mouth.jpg (+ source_open_mouth_mask.png): s42.jpg with its mouth opened by facecam's
  own mesh animator, driven from a closed-mouth to an open-mouth frame of d10.mp4 (the mouth
  interior is d10's, colour-matched): a source whose open mouth must never reach the output;
- d10_hand.mp4 (+ d10_hand.json): the first seconds of d10.mp4 with a real photograph of a fist
  (GCompris) held in front of her mouth, following her face; the JSON holds, per frame, the affine
  transform of the hand picture, so the hand's pixels are known exactly (hand_alpha()).

Deterministic: the same media and hand photos give the same pictures (the clip's H.264 bytes may
differ between encoder versions, its pixels barely).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "benchmarks" / "assets"
DEFAULT_MEDIA = Path(os.environ.get("FACECAM_MEDIA", ROOT.parent / "shared" / "media"))

# The hand photographs, as GCompris ships them (activity "leftright", Debian gcompris-qt-data 3.1-2,
# in rcc/leftright.rcc at :/gcompris/src/activities/leftright/resource/).
HAND_FILES = ("main_droite_dessus_0.webp", "poing_droit_dessus_0.webp", "poing_gauche_paume_0.webp")
CHEEK_HAND = "hand_main_droite_dessus_0.webp"   # the back of a right hand, fingers to the right
FIST = "hand_poing_droit_dessus_0.webp"          # a right fist seen from the back, wrist to the left

CLIP_SOURCE = "d10.mp4"
CLIP_FRAMES = 120          # 4 s at 30 fps
CLIP_CRF = 20
OPEN_MOUTH_DRIVER = ("d10.mp4", 58, 99)   # (video, closed-mouth frame, open-mouth frame)


def read_rgba(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim != 3 or image.shape[2] != 4:
        raise SystemExit(f"error: {path} is not an RGBA picture")
    return image


def extract_hands(deb: Path, out: Path) -> None:
    """Copy the hand photographs out of a gcompris-qt-data .deb (dpkg-deb, then Qt's own resource
    reader: the pictures sit in a compiled Qt resource file)."""
    from PyQt6.QtCore import QFile, QResource

    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["dpkg-deb", "-x", str(deb), folder], check=True)
        rcc = Path(folder) / "usr/share/gcompris-qt/rcc/leftright.rcc"
        if not QResource.registerResource(str(rcc)):
            raise SystemExit(f"error: no leftright.rcc in {deb}")
        for name in HAND_FILES:
            resource = QFile(f":/gcompris/src/activities/leftright/resource/{name}")
            if not resource.open(QFile.OpenModeFlag.ReadOnly):
                raise SystemExit(f"error: {name} not in {rcc}")
            (out / f"hand_{name}").write_bytes(bytes(resource.readAll()))


def _detect_still(image: np.ndarray):
    from realtime.faces import create_detector
    from realtime.settings import FaceSettings

    detector = create_detector(FaceSettings(max_faces=1, min_confidence=0.3), static=True)
    try:
        faces = detector.detect(image)
    finally:
        detector.close()
    if not faces:
        raise SystemExit("error: no face found")
    return faces[0]


def _match_skin(rgba: np.ndarray, skin_bgr: np.ndarray, amount: float = 0.8) -> np.ndarray:
    """Shift the hand's colour (LAB mean over its opaque pixels) towards the skin sample's, so the
    hand is a flesh-coloured occluder of the same complexion, as it would be in a real photo."""
    lab = cv2.cvtColor(rgba[:, :, :3], cv2.COLOR_BGR2LAB).astype(np.float32)
    opaque = rgba[:, :, 3] > 250
    skin = cv2.cvtColor(skin_bgr.reshape(-1, 1, 3), cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float32)
    shift = (np.median(skin, axis=0) - lab[opaque].mean(axis=0)) * amount
    lab += shift
    out = rgba.copy()
    out[:, :, :3] = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)
    return out


def _composite(image: np.ndarray, rgba: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`rgba` through the 2x3 `matrix` over `image`; returns the picture and the hand's alpha (0..1)."""
    height, width = image.shape[:2]
    warped = cv2.warpAffine(rgba, matrix, (width, height), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    alpha = warped[:, :, 3:4].astype(np.float32) / 255.0
    out = image.astype(np.float32) * (1 - alpha) + warped[:, :, :3].astype(np.float32) * alpha
    return np.clip(np.rint(out), 0, 255).astype(np.uint8), alpha[:, :, 0]


def _similarity(scale: float, angle_deg: float, anchor_src, anchor_dst) -> np.ndarray:
    """2x3 matrix: rotate by angle (counter-clockwise in the picture) and scale about anchor_src,
    then move anchor_src to anchor_dst."""
    matrix = cv2.getRotationMatrix2D((float(anchor_src[0]), float(anchor_src[1])), angle_deg, scale)
    matrix[:, 2] += np.asarray(anchor_dst, dtype=np.float64) - np.asarray(anchor_src, dtype=np.float64)
    return matrix


def _skin_sample(image: np.ndarray, landmarks: np.ndarray, indices=(50, 280, 101, 330)) -> np.ndarray:
    iod = float(np.linalg.norm(landmarks[33, :2] - landmarks[263, :2]))
    r = max(2, int(iod * 0.08))
    patches = []
    for index in indices:
        x, y = np.round(landmarks[index, :2]).astype(int)
        patches.append(image[y - r:y + r, x - r:x + r].reshape(-1, 3))
    return np.concatenate(patches)


def make_hand_cheek(media: Path, out: Path) -> None:
    image = cv2.imread(str(media / "s42.jpg"))
    face = _detect_still(image)
    landmarks = face.landmarks
    iod = float(np.linalg.norm(landmarks[33, :2] - landmarks[263, :2]))
    hand = _match_skin(read_rgba(out / CHEEK_HAND), _skin_sample(image, landmarks))
    # The hand rests on her left cheek (the picture's right): fingers up and leaning in towards
    # the nose, the knuckles on the cheekbone, the wrist down along the jaw and out of the picture.
    # Anchor: the middle of the back of the hand (x=150, y=105 in the 276x200 photo).
    cheek = landmarks[[280, 425, 411], :2].mean(axis=0)
    scale = 1.2 * iod / 200.0
    matrix = _similarity(scale, 80.0, (150, 105), cheek + np.array([0.12 * iod, 0.30 * iod]))
    picture, alpha = _composite(image, fade_wrist(hand, 0.22), matrix)
    cv2.imwrite(str(out / "source_hand_cheek.jpg"), picture, [cv2.IMWRITE_JPEG_QUALITY, 92])
    cv2.imwrite(str(out / "source_hand_cheek_mask.png"), np.rint(alpha * 255).astype(np.uint8),
                [cv2.IMWRITE_PNG_COMPRESSION, 9])


def make_open_mouth(media: Path, out: Path) -> None:
    from benchmarks.quality_swap import decode
    from realtime.animate.mesh import MeshAnimator
    from realtime.faces.source import SourceLibrary
    from realtime.faces.topology import topology
    from realtime.frame import Frame
    from realtime.settings import Settings

    video, closed, opened = OPEN_MOUTH_DRIVER
    frames, _ = decode(media / video, max(closed, opened) + 1)
    library = SourceLibrary()
    source = library.get(str(media / "s42.jpg"))
    animator = MeshAnimator(Settings())
    animator.set_source(source)
    picture = None
    for number, index in enumerate((closed, opened)):
        driver = _detect_still(frames[index])
        frame = Frame(index=number, image=frames[index], capture_ns=0, pts=number / 30.0, faces=[driver])
        picture = animator.animate(frame, [driver])
    library.close()
    cv2.imwrite(str(out / "source_open_mouth.jpg"), picture, [cv2.IMWRITE_JPEG_QUALITY, 92])
    # Where the mouth now is: the outer lips of the opened face, a little enlarged.
    landmarks = _detect_still(picture).landmarks
    mask = np.zeros(picture.shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(landmarks[topology().outer_lips, :2]).astype(np.int32)], 255)
    cv2.imwrite(str(out / "source_open_mouth_mask.png"), mask, [cv2.IMWRITE_PNG_COMPRESSION, 9])


def fade_wrist(rgba: np.ndarray, fraction: float = 0.30) -> np.ndarray:
    """The hand photo as composited: the cut end of the wrist (the photo's left edge) fades out
    over its first `fraction` so no straight cut edge is drawn over the face."""
    out = rgba.copy()
    width = rgba.shape[1]
    ramp = np.clip(np.arange(width, dtype=np.float32) / (fraction * width), 0, 1)
    out[:, :, 3] = np.rint(rgba[:, :, 3].astype(np.float32) * ramp[None, :]).astype(np.uint8)
    return out


def hand_alpha(assets: Path, index: int, shape: tuple[int, int], info: dict | None = None) -> np.ndarray:
    """The composited hand's alpha (0..1, height x width) in frame `index` of d10_hand.mp4."""
    info = info or json.loads((assets / "d10_hand.json").read_text())
    matrix = np.array(info["matrices"][index], dtype=np.float64)
    if not np.isfinite(matrix).all():
        return np.zeros(shape, dtype=np.float32)
    rgba = fade_wrist(read_rgba(assets / info["hand"]))
    alpha = cv2.warpAffine(rgba[:, :, 3], matrix, (shape[1], shape[0]), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return alpha.astype(np.float32) / 255.0


def make_hand_clip(media: Path, out: Path) -> None:
    import av

    from benchmarks.quality_swap import decode
    from realtime.faces import create_detector
    from realtime.settings import FaceSettings

    frames, fps = decode(media / CLIP_SOURCE, CLIP_FRAMES)
    detector = create_detector(FaceSettings(max_faces=1), static=False)
    first = frames[0]
    fist = None
    anchors, scales, angles = [], [], []
    for image in frames:
        faces = detector.detect(image)
        if not faces:
            anchors.append(None)
            continue
        landmarks = faces[0].landmarks
        if fist is None:
            fist = fade_wrist(_match_skin(read_rgba(out / FIST), _skin_sample(image, landmarks), 0.6))
        eyes = landmarks[263, :2] - landmarks[33, :2]
        anchors.append(landmarks[[13, 14, 61, 291], :2].mean(axis=0))
        scales.append(float(np.linalg.norm(eyes)))
        angles.append(float(np.degrees(np.arctan2(eyes[1], eyes[0]))))
    detector.close()
    if fist is None:
        raise SystemExit(f"error: no face in {CLIP_SOURCE}")
    # Smooth the face's motion (a hand held in front of the mouth moves with the head, not with
    # the landmarks' own jitter): a centred moving average over 9 frames.
    valid = [i for i, a in enumerate(anchors) if a is not None]
    points = np.array([anchors[i] for i in valid])
    kernel = np.ones(9) / 9
    smooth = np.stack([np.convolve(np.pad(points[:, k], 4, mode="edge"), kernel, mode="valid") for k in range(2)], 1)
    iod = float(np.median(scales))
    roll = float(np.median(angles))
    matrices: list = [[[float("nan")] * 3] * 2 for _ in frames]
    # The fist's knuckles (x=200, y=95 of the 273x200 photo) sit over the middle of the lips; the
    # wrist goes down and to the picture's left, as when someone coughs into a fist.
    for slot, index in enumerate(valid):
        wobble = 4.0 * np.sin(index / fps * 2 * np.pi * 0.5)  # a slow, small turn of the wrist
        matrix = _similarity(1.1 * iod / 150.0, 35.0 - roll + wobble, (175, 100),
                             smooth[slot] + (0.05 * iod, 0.15 * iod))
        matrices[index] = matrix.tolist()
    recorded = _recorded_placements(out / "d10_hand.json", len(frames))
    if recorded is not None:
        # The placements committed with the repository: MediaPipe's last digits differ between
        # runs and machines, and a clip rebuilt where it is missing (videos stay out of git) must
        # not rewrite a tracked file (every run of the swap bound tests did).
        matrices = recorded
    path = out / "d10_hand.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=round(fps))
        stream.width, stream.height = first.shape[1], first.shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(CLIP_CRF), "preset": "slow"}
        for index, image in enumerate(frames):
            matrix = np.array(matrices[index])
            if np.isfinite(matrix).all():
                image, _ = _composite(image, fist, matrix)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:, :, ::-1]), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    info = {"clip": CLIP_SOURCE, "frames": len(frames), "fps": fps, "hand": FIST,
            "note": "per frame, the 2x3 affine that carries the hand photo (after fade_wrist) into "
                    "the frame; NaN where no face was found", "matrices": matrices}
    if recorded is None:
        (out / "d10_hand.json").write_text(json.dumps(info, indent=None) + "\n")


def _recorded_placements(path: Path, frames: int) -> list | None:
    """The per-frame matrices of an existing d10_hand.json made from the same clip, else None."""
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if info.get("clip") != CLIP_SOURCE or info.get("frames") != frames or len(info.get("matrices", ())) != frames:
        return None
    return info["matrices"]


def hand_clip(media: Path = DEFAULT_MEDIA, out: Path = ASSETS) -> Path:
    """benchmarks/assets/d10_hand.mp4, made from ../shared/media/d10.mp4 the first time it is asked
    for (videos stay out of git; the build is deterministic: the same bytes every time, ~7 s).
    FileNotFoundError when the shared media is absent."""
    path = out / "d10_hand.mp4"
    if not path.exists():
        if not (media / CLIP_SOURCE).exists():
            raise FileNotFoundError(media / CLIP_SOURCE)
        make_hand_clip(media, out)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.make_assets", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--media", type=Path, default=DEFAULT_MEDIA, help="folder of the shared test media")
    parser.add_argument("--out", type=Path, default=ASSETS, help="assets folder")
    parser.add_argument("--hands-from", type=Path, metavar="DEB",
                        help="re-extract the hand photos from Debian's gcompris-qt-data .deb "
                             "(apt-get download gcompris-qt-data)")
    parser.add_argument("--only", choices=("hand_cheek", "open_mouth", "hand_clip"), action="append")
    args = parser.parse_args(argv)
    missing = [n for n in ("s42.jpg", OPEN_MOUTH_DRIVER[0], CLIP_SOURCE) if not (args.media / n).exists()]
    if missing:
        print(f"error: not in {args.media}: {', '.join(missing)} (the shared test media)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    if args.hands_from:
        extract_hands(args.hands_from, args.out)
    steps = {"hand_cheek": make_hand_cheek, "open_mouth": make_open_mouth, "hand_clip": make_hand_clip}
    for name, step in steps.items():
        if not args.only or name in args.only:
            step(args.media, args.out)
            print(f"made {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
