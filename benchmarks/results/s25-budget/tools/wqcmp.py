# ruff: noqa  (measurement scripts of benchmarks/results/s25-budget, kept as they were run; scratch paths /tmp/s25-budget)
"""Per pair: main run 1 / main run 2 / 9dcbb79 on the written benchmark (quality_swap --written JSONs)."""
import json
runs = [json.load(open(f"/tmp/s25-budget/{x}/quality_swap.json"))["pairs"] for x in ("wq_main", "wq_main2", "wq_half")]
key = lambda p: (p["source"], p["target"])
idx = [{key(p): p for p in r} for r in runs]
cols = [("distance_to_source", 3), ("seam_max", 1), ("seam_median", 1), ("sharpness_match", 2), ("grain_ratio", 2), ("jitter_above_input_pct", 0)]
print("| pair | " + " | ".join(c for c, _ in cols) + " |")
print("|---|" + "---|" * len(cols))
for p in runs[0]:
    if p["target"] not in ("d13.mp4", "d3.mp4"): continue
    k = key(p)
    cells = [" / ".join(f"{i[k][c]:.{n}f}" if k in i else "-" for i in idx) for c, n in cols]
    print(f"| {p['source'].replace('.jpg','')} > {p['target'][:-4]} | " + " | ".join(cells) + " |")
