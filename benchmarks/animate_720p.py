"""The animate stage's cost at 720p, the sizes a user has: the driver's frames scaled into a
1280x720 camera picture, the portrait fitted to 1280x720 (`portrait_size`), one OpenCV thread,
CPU time of MeshAnimator.animate per frame (p50, p90; the first frame left out).

    python -m benchmarks.animate_720p s9.jpg d3.mp4 90     # a portrait driven by a video
    python -m benchmarks.animate_720p self d10.mp4 90      # the video's frame 0 as the portrait

Run main and a branch interleaved in the same sitting: on a shared machine only ratios hold.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MEDIA = Path(os.environ.get("FACECAM_MEDIA", ROOT.parent / "shared" / "media"))


def to_720p(image: np.ndarray) -> np.ndarray:
    """The frame scaled to 720 rows, centred in a black 1280x720 picture (a webcam's frame)."""
    factor = 720 / image.shape[0]
    scaled = cv2.resize(image, (round(image.shape[1] * factor), 720), interpolation=cv2.INTER_CUBIC)[:, :1280]
    canvas = np.zeros((720, 1280, 3), np.uint8)
    left = (1280 - scaled.shape[1]) // 2
    canvas[:, left:left + scaled.shape[1]] = scaled
    return canvas


def main(argv: list[str]) -> int:
    from benchmarks.quality_animate import _settings, read_frames, track
    from realtime.animate.mesh import MeshAnimator
    from realtime.faces import create_detector
    from realtime.faces.source import SourceFace
    from realtime.frame import Frame
    from realtime.settings import FaceSettings

    portrait_name, video, count = argv[0], argv[1], int(argv[2]) if len(argv) > 2 else 90
    frames, fps = read_frames(MEDIA / video, count)
    frames = [to_720p(frame) for frame in frames]
    detector = create_detector(FaceSettings(), static=True)
    image = frames[0] if portrait_name == "self" else cv2.imread(str(MEDIA / portrait_name))
    face = max(detector.detect(image), key=lambda f: f.size)
    detector.close()
    tracked = track(frames, fps)
    animator = MeshAnimator(_settings(["portrait_size=[1280,720]"]))
    animator.set_source(SourceFace(path=portrait_name, image=image, face=face, faces=(face,)))
    cv2.setNumThreads(1)
    times = []
    for index, (frame, faces) in enumerate(zip(frames, tracked, strict=True)):
        started = time.process_time()
        animator.animate(Frame(index=index, image=frame, capture_ns=0, pts=index / fps, faces=faces), faces)
        times.append(time.process_time() - started)
    ms = np.array(times[1:]) * 1000
    print(json.dumps({"portrait": portrait_name, "video": video, "frames": len(frames),
                      "p50_ms": round(float(np.median(ms)), 2), "p90_ms": round(float(np.percentile(ms, 90)), 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
