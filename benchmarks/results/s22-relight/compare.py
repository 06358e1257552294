"""Per pair: start / fix everywhere (1fe2c7c) / branch (eyes and brows only), from the written JSONs."""
import json
D = "/tmp/s22-relight/"
files = {"start": [D + "written_start.json", D + "written9_start.json"],
         "all": [D + "fixall/written_branch.json", D + "fixall/written9_branch.json"],
         "branch": [D + "written_branch.json", D + "written9_branch.json"]}
rows = {}
for tree, fs in files.items():
    for f in fs:
        for p in json.load(open(f))["pairs"]:
            if p["source"] != "(passthrough)":
                rows.setdefault((p["source"], p["target"]), {})[tree] = p
keys = [("distance_to_source", 3), ("identity_retrieval", 2), ("seam_frames_over_goal", 0), ("seam_max", 2), ("tone_de", 2)]
print("| pair | " + " | ".join(f"{k}: start / all / branch" for k, _ in keys) + " |")
print("|---" * (len(keys) + 1) + "|")
tot = {k: {t: 0.0 for t in files} for k, _ in keys}
for (s, t), r in sorted(rows.items()):
    cells = []
    for k, d in keys:
        for tree in files:
            tot[k][tree] += r[tree][k]
        cells.append(" / ".join(f"{r[tree][k]:.{d}f}" for tree in files))
    print(f"| {s[:-4]} > {t[:-4]} | " + " | ".join(cells) + " |")
n = len(rows)
print("| mean (seam frames: sum) | " + " | ".join(" / ".join((f"{tot[k][t]:.0f}" if k == "seam_frames_over_goal" else f"{tot[k][t] / n:.{max(d, 2)}f}") for t in files) for k, d in keys) + " |")
