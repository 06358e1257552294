"""cross_sources.py ABL_FOLDER: for main's written outputs in the ablation folder, the dlib distance of every
5th frame to each source photo: is the output nearer its own source than to the other sources?"""
import sys
from pathlib import Path

import numpy as np

from benchmarks.identity import IdentityModel
from benchmarks.quality_swap import decode, embed_face
from benchmarks.quality_written import landmarks_of
from realtime.faces.source import SourceLibrary

folder = Path(sys.argv[1])
model, library = IdentityModel(), SourceLibrary()
sources = ["s12.jpg", "s42.jpg", "s9.jpg", "s10.jpg"]
embedded = {name: model.embed(library.get(f"../shared/media/{name}").image) for name in sources}
print("| output | " + " | ".join(sources) + " | frames nearest its own source |")
print("| --- " * (len(sources) + 2) + "|")
for path in sorted(folder.glob("main_*.mp4")):
    own = path.name.split("_")[1]
    images, _ = decode(path, 30)
    marks = landmarks_of(images[::5])
    rows = []
    for image, mark in zip(images[::5], marks, strict=True):
        found = embed_face(model, image, mark)
        if found is not None:
            rows.append([model.distance(found, embedded[name]) for name in sources])
    table = np.array(rows)
    nearest = float(np.mean(np.argmin(table, axis=1) == sources.index(own)))
    cells = " | ".join(f"{value:.3f}" for value in table.mean(axis=0))
    print(f"| {path.stem[5:]} | {cells} | {100 * nearest:.0f}% |")
