"""python trace.py <out.json> <cli args...>: the cli run with each source_detail_gain (raw) and what the blend used logged."""

import atexit
import json
import runpy
import sys

from realtime.blend import stage

log = {"raw": [], "used": [], "sigma": []}
orig = stage.source_detail_gain


def spy(image, target, weight, sigma):
    g = orig(image, target, weight, sigma)
    log["raw"].append(g)
    log["sigma"].append(sigma)
    return g


stage.source_detail_gain = spy
osd = stage.source_detail


def spy2(image, gain, sigma):
    log["used"].append(gain)
    return osd(image, gain, sigma)


stage.source_detail = spy2
out = sys.argv[1]


def _dump() -> None:
    with open(out, "w") as f:
        json.dump(log, f)


atexit.register(_dump)
sys.argv = ["realtime.cli"] + sys.argv[2:]
runpy.run_module("realtime.cli", run_name="__main__")
