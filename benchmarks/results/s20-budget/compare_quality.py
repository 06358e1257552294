"""Main vs branch from two `quality_swap --written --json` files: per pair the metrics a viewer
notices, and the goals.

    python benchmarks/results/s20-budget/compare_quality.py quality_swap_main.json quality_swap_branch.json"""

import json
import sys
from pathlib import Path

main, branch = (json.loads(Path(path).read_text()) for path in sys.argv[1:3])
metrics = ["identity_retrieval", "distance_to_source", "seam_max", "sharpness_match", "glasses_kept",
           "background_psnr_db", "tone_de", "grain_ratio", "jitter_above_input_pct"]
print("| pair | " + " | ".join(metrics) + " |")
print("|---|" + "---|" * len(metrics))
rows = {(p["source"], p["target"]): p for p in branch["pairs"]}
for before in main["pairs"]:
    after = rows.get((before["source"], before["target"]))
    if after is None or before["source"].startswith("("):
        continue
    print(f"| {before['source']} -> {before['target']} | "
          + " | ".join(f"{before[m]:.3f} -> {after[m]:.3f}" for m in metrics) + " |")
print()
goals = {g["metric"]: g for g in branch["goals"]}
for goal in main["goals"]:
    after = goals[goal["metric"]]
    print(f"- {goal['label']}: {goal.get('photo')} -> {after.get('photo')} (pass {goal['pass']} -> {after['pass']})")
