"""Quality benchmarks on the real videos in ../shared/media.

    python -m benchmarks.quality swap     [options]   # issue: classical swap quality
    python -m benchmarks.quality animate  [options]   # issue: live portraits (self-reenactment)

Each kind lives in its own module (`benchmarks/quality_<kind>.py`) with `add_arguments(parser)`
and `run(args) -> int`; results land in benchmarks/results/ as JSON + Markdown (+ PNG).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

KINDS = {
    "swap": "benchmarks.quality_swap",
    "animate": "benchmarks.quality_animate",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quality", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="kind", required=True)
    modules = {}
    for kind, module_name in KINDS.items():
        try:
            modules[kind] = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue
        modules[kind].add_arguments(sub.add_parser(kind, help=(modules[kind].__doc__ or "").split("\n")[0]))
    args = parser.parse_args(argv)
    return modules[args.kind].run(args)


if __name__ == "__main__":
    sys.exit(main())
