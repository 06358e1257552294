# ruff: noqa  (measurement scripts of benchmarks/results/s24-budget, kept as they were run)
import itertools
import json
import sys

sys.path.insert(0, "/tmp/s24-budget")
from cmp_written import compare

out = {"random_mark": {}, "fixed_mark_0x2323": {}}
for src, tgt in (("s42", "d13"), ("s12", "d14")):
    def f(t):
        return f"/tmp/s24-budget/w_{t}_{src}_{tgt}.mp4"
    res = {"main1 vs main2": compare(f("main1"), f("main2"), tgt), "branch1 vs branch2": compare(f("bx1"), f("bx2"), tgt)}
    for m, b in itertools.product(("main1", "main2"), ("bx1", "bx2")):
        res[f"{m} vs branch{b[-1]}"] = compare(f(m), f(b), tgt)
    out["random_mark"][f"{src}>{tgt}"] = res
    def g(t):
        return f"/tmp/s24-budget/fm_{t}_{src}_{tgt}.mp4"
    fx = {"main vs branch (final)": compare(g("main"), g("branch2"), tgt)}
    if tgt == "d13":
        fx.update({"main vs main (2nd run)": compare(g("main"), g("main2"), tgt),
                   "main vs main + one pixel +1 a frame": compare(g("main"), g("trivial"), tgt),
                   "main vs first version (9dcbb79)": compare(g("main"), g("branch"), tgt),
                   "main vs first version without the crossover's half path": compare(g("main"), g("variant"), tgt),
                   "main vs exact gain/fill + zone at drawn resolution + half-res base": compare(g("main"), g("cur"), tgt),
                   "main vs exact gain/fill + zone at drawn resolution (3-tap, exact extents)": compare(g("main"), g("cur_nohalf"), tgt)})
    out["fixed_mark_0x2323"][f"{src}>{tgt}"] = fx
    # the first version, random marks
    def h(t):
        return f"/tmp/s24-budget/w_{t}_{src}_{tgt}.mp4"
    out["random_mark"][f"{src}>{tgt}"]["first version: main1 vs v1(br1)"] = compare(h("main1"), h("br1"), tgt)
    out["random_mark"][f"{src}>{tgt}"]["first version: main2 vs v1(br2)"] = compare(h("main2"), h("br2"), tgt)
    out["random_mark"][f"{src}>{tgt}"]["first version: br1 vs br2"] = compare(h("br1"), h("br2"), tgt)
    if tgt == "d13":
        for a, b in (("main1", "tv1"), ("main2", "tv2"), ("tv1", "tv2"), ("main1", "v1"), ("main2", "v2"), ("v1", "v2")):
            out["random_mark"][f"{src}>{tgt}"][f"extra: {a} vs {b}"] = compare(h(a), h(b), tgt)
json.dump(out, open("/tmp/s24-budget/written_final.json", "w"), indent=1)
for k, v in out.items():
    for pair, r in v.items():
        for name, x in r.items(): print(k, pair, name, x)
