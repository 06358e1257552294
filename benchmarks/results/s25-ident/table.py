"""table.py ROWS (rows.jsonl or ablation_rows.json): the ablation table in markdown: distance to the source
per pair and variant, its change from main's, and the landmark error and jitter over the input."""
import json
import sys

with open(sys.argv[1]) as file:
    text = file.read()
loaded = json.loads(text) if text.lstrip().startswith("[") else [json.loads(line) for line in text.splitlines() if line]
rows = {(r["variant"], r["source"][:-4] + ">" + r["target"][:-4]): r for r in loaded}
pairs = ["s12>d10", "s42>d3", "s12>d14", "s12>d6", "s42>d9", "s42>d13"]
variants = ["main", "shape_1", "eyes_off", "brows_off", "mouth_off", "grain_0", "fill_off", "gain_off", "limit_8",
            "noise_grain", "spread_off", "shading_0", "color_0.5"]
print("| variant | " + " | ".join(pairs) + " | mean (change) | landmark err | jitter vs input |")
print("| --- " * (len(pairs) + 4) + "|")
base = {pair: rows[("main", pair)]["d_source"] for pair in pairs}
for variant in variants:
    cells, changes, errors, jitters, values = [], [], [], [], []
    for pair in pairs:
        row = rows.get((variant, pair))
        if row is None:
            cells.append("")
            continue
        value = row["d_source"]
        values.append(value)
        changes.append(value - base[pair])
        errors.append(row["landmark_error"])
        jitters.append(row["jitter"] / row["input_jitter"] - 1)
        cells.append(f"{value:.3f}" if variant == "main" else f"{value:.3f} ({value - base[pair]:+.3f})")
    count = len(values)
    if count == 0:
        continue
    tail = f"{sum(values) / count:.3f}" + ("" if variant == "main" else f" ({sum(changes) / count:+.3f})")
    tail += f" [{count} pairs]" if count < len(pairs) else ""
    print(f"| {variant} | " + " | ".join(cells) + f" | {tail} | {sum(errors) / count:.4f} | "
          f"{100 * sum(jitters) / count:+.1f}% |")
