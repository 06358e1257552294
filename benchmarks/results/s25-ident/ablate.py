"""Identity ablation on written files (s25-ident, issue 13).

ablate.py OUT "s12.jpg>d10.mp4,s42.jpg>d3.mp4" [variant,variant...]

For each pair and variant: write FRAMES (30) frames with the real command line (`patched_cli.py`: one
step switched off through ABLATE, or a --set), then the dlib distance to the source photo on every 5th
frame (as benchmarks/quality_written.py measures it: MediaPipe landmarks found afresh on the written
frame, a crop of twice the face, dlib's ResNet), the landmark error against a passthrough written the
same way, and the jitter. Run from the worktree root with PYTHONPATH set to it. Rows: OUT/rows.jsonl."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.identity import IdentityModel
from benchmarks.quality_swap import POINTS_68, decode, embed_face, inter_ocular, jitter
from benchmarks.quality_written import landmarks_of
from realtime.faces.source import SourceLibrary

MEDIA = Path("../shared/media")
FRAMES = int(os.environ.get("FRAMES", 30))
EVERY = 5
VARIANTS = {
    "main": ([], ""),
    "shape_1": (["--set", "face_shape=1.0"], ""),
    "eyes_off": ([], "eyes_off"),
    "brows_off": ([], "brows_off"),
    "mouth_off": ([], "mouth_off"),
    "grain_0": (["--set", "grain=0"], ""),
    "fill_off": ([], "fill_off"),
    "gain_off": ([], "gain_off"),
    "limit_8": ([], "limit_8"),
    "noise_grain": ([], "noise_grain"),
    "spread_off": ([], "spread_off"),
    "shading_0": (["--set", "shading=0"], ""),
    "color_0.5": (["--set", "color_transfer=0.5"], ""),
}


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    pairs = [pair.split(">") for pair in sys.argv[2].split(",")]
    variants = sys.argv[3].split(",") if len(sys.argv) > 3 else list(VARIANTS)
    cli = [sys.executable, str(Path(__file__).with_name("patched_cli.py"))]
    model, library = IdentityModel(), SourceLibrary()
    source_embeddings: dict[str, np.ndarray] = {}
    references: dict[str, list] = {}
    for source, target in pairs:
        if source not in source_embeddings:
            source_embeddings[source] = model.embed(library.get(str(MEDIA / source)).image)
        if target not in references:
            path = out / f"pass_{target}.mp4"
            if not path.exists():
                subprocess.run([*cli, "run", "--input", str(MEDIA / target), "-o", str(path), "--no-label",
                                "--max-frames", str(FRAMES), "--quiet", "--mode", "passthrough"], check=True,
                               env={**os.environ, "ABLATE": ""})
            references[target] = landmarks_of(decode(path, FRAMES)[0])
        for variant in variants:
            extra, switch = VARIANTS[variant]
            path = out / f"{variant}_{source}_{target}.mp4"
            started = time.time()
            if not path.exists():
                subprocess.run([*cli, "run", "--input", str(MEDIA / target), "--source", str(MEDIA / source), "-o",
                                str(path), "--no-label", "--max-frames", str(FRAMES), "--quiet", *extra], check=True,
                               env={**os.environ, "ABLATE": switch})
            images, _ = decode(path, FRAMES)
            measured, reference = landmarks_of(images), references[target]
            distances, errors = [], []
            for index, image in enumerate(images):
                if measured[index] is not None and reference[index] is not None:
                    offsets = measured[index][POINTS_68, :2] - reference[index][POINTS_68, :2]
                    errors.append(float(np.linalg.norm(offsets, axis=1).mean()) / max(inter_ocular(reference[index]), 1))
                if index % EVERY == 0:
                    found = embed_face(model, image, measured[index] if measured[index] is not None else reference[index])
                    if found is not None:
                        distances.append(model.distance(found, source_embeddings[source]))
            row = {"variant": variant, "source": source, "target": target, "d_source": float(np.mean(distances)),
                   "per_frame": distances, "landmark_error": float(np.mean(errors)), "jitter": jitter(measured),
                   "input_jitter": jitter(reference), "seconds": round(time.time() - started, 1)}
            print(json.dumps(row), flush=True)
            with open(out / "rows.jsonl", "a") as rows:
                rows.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
