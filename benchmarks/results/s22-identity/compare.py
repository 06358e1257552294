"""Per-pair and group table of written-benchmark JSON files (benchmarks.quality_swap --written --json):
python compare.py NAME:FILE.json ... -> Markdown on stdout."""

import json
import math
import sys

METRICS = [("identity_retrieval", "retrieval", 1), ("distance_to_source", "d(source)", 3),
           ("distance_to_target", "d(target)", 3), ("expression_error", "expression err", 4),
           ("landmark_error", "landmark err", 4), ("pose_error_deg", "pose °", 2),
           ("jitter_above_input_pct", "jitter %", 1), ("seam_max", "seam max", 2),
           ("seam_frames_over_goal", "seam frames > 3", 0), ("sharpness_match", "sharpness", 2),
           ("edge_de", "edge ΔE", 2), ("tone_de", "skin ΔE", 2)]
PHOTOS, PAINTINGS = ("s12.jpg", "s42.jpg"), ("s9.jpg", "s10.jpg")


def load(path):
    with open(path) as handle:
        text = handle.read()
    return json.loads(text[text.index("{"):])


def mean(values):
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return sum(values) / len(values) if values else float("nan")


def main():
    runs = [(arg.split(":", 1)[0], load(arg.split(":", 1)[1]))
            for arg in sys.argv[1:]]
    names = [name for name, _ in runs]
    print("| group: metric | " + " | ".join(names) + " |")
    print("| --- |" + " --- |" * len(names))
    for group, members in (("photos (s12, s42)", PHOTOS), ("paintings (s9, s10)", PAINTINGS)):
        for key, label, digits in METRICS:
            cells = []
            for _, run in runs:
                pairs = [p for p in run["pairs"] if p["source"] in members]
                if key == "seam_max":
                    value = max(p[key] for p in pairs)
                elif key == "seam_frames_over_goal":
                    value = sum(p[key] for p in pairs)
                else:
                    value = mean([p.get(key) for p in pairs])
                if key == "identity_retrieval":
                    value *= 100 if value <= 1 else 1
                cells.append(f"{value:.{digits}f}")
            print(f"| {group}: {label} | " + " | ".join(cells) + " |")
    print()
    print("Per pair, d(source) / retrieval / expression err / seam max / sharpness: " + " | ".join(names))
    print()
    print("| pair | " + " | ".join(names) + " |")
    print("| --- |" + " --- |" * len(names))
    keys = [(p["source"], p["target"]) for p in runs[0][1]["pairs"] if p["source"] != "(passthrough)"]
    for source, target in keys:
        cells = []
        for _, run in runs:
            p = next(q for q in run["pairs"] if (q["source"], q["target"]) == (source, target))
            r = p["identity_retrieval"] * (100 if p["identity_retrieval"] <= 1 else 1)
            cells.append(f"{p['distance_to_source']:.3f} / {r:.0f}% / {p['expression_error']:.4f} / "
                         f"{p['seam_max']:.1f} / {p['sharpness_match']:.2f}")
        print(f"| {source[:-4]} > {target[:-4]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
