"""`facecam models list|fetch|verify|path|build-engines`: the neural models, by name."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from realtime.inference.manifest import ModelSpec
from realtime.inference.store import ModelStore

log = logging.getLogger("facecam")

EXIT_OK = 0
EXIT_USER = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models-dir", metavar="DIR",
                        help="model folder (default: $FACECAM_MODELS, else the project's models/)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True,
                                    parser_class=type(parser))
    actions.add_parser("list", help="the catalogue: sizes, licences, what is downloaded")
    fetch = actions.add_parser("fetch", help="download models (resumes; checks the SHA-256)")
    fetch.add_argument("names", nargs="+", metavar="NAME", help="model or set name, or 'all'")
    fetch.add_argument("--force", action="store_true", help="download again even if present")
    verify = actions.add_parser("verify", help="hash every downloaded model; report damaged ones")
    verify.add_argument("names", nargs="*", metavar="NAME", help="default: every downloaded model")
    verify.add_argument("--repair", action="store_true", help="fetch damaged models again")
    path = actions.add_parser("path", help="where a model's file is (or will be)")
    path.add_argument("name", metavar="NAME")
    build = actions.add_parser("build-engines",
                               help="create (and warm up) sessions now: builds TensorRT engines "
                                    "into the cache so the first run starts fast")
    build.add_argument("names", nargs="*", metavar="NAME", help="default: every downloaded model")
    build.add_argument("--device", choices=("auto", "cpu", "cuda", "tensorrt"), default="tensorrt")


def _store(args: argparse.Namespace) -> ModelStore:
    from realtime.inference.store import models_dir

    return ModelStore(models_dir(args) if args.models_dir else None)


def _size(spec: ModelSpec) -> str:
    return f"{spec.size / 1e6:.0f} MB" if spec.size else "?"


def _bar_factory(args: argparse.Namespace):
    if args.json or args.quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    def factory(spec: ModelSpec):
        bar = tqdm(desc=spec.file, total=spec.size, unit="B", unit_scale=True, unit_divisor=1024,
                   file=sys.stderr, dynamic_ncols=True, leave=False)

        def progress(done: int, total: int | None) -> None:
            if total and bar.total != total:
                bar.total = total
            bar.update(done - bar.n)
            if total and done >= total:
                bar.close()

        return progress

    return factory


def _list(store: ModelStore, args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    for spec in store.specs.values():
        path = store.file_path(spec)
        rows.append({"name": spec.name, "set": spec.set, "task": spec.task, "file": spec.file,
                     "size": spec.size, "downloaded": path.exists(), "licence": spec.licence,
                     "sha256": spec.sha256 or "trust on first use", "description": spec.description})
    from realtime.swap.dfm import dfm_files

    for path in dfm_files(store.root):  # DeepFaceLab models the user put there (--swapper dfm)
        rows.append({"name": path.stem, "set": None, "task": "swap (dfm)", "file": path.name,
                     "size": path.stat().st_size, "downloaded": True,
                     "licence": "as its author set (DeepFaceLab model)", "sha256": "-",
                     "description": "DeepFaceLab model: --swapper dfm with dfm_model = " + path.stem})
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        state = "downloaded" if row["downloaded"] else "-"
        size = f"{row['size'] / 1e6:.0f} MB" if row["size"] else "?"
        print(f"{row['name']:<{width}}  {size:>7}  {state:<10}  {row['licence']}")
    print(f"\nfolder: {store.root}   fetch with: facecam models fetch NAME (sets: "
          f"{', '.join(sorted({s.set for s in store.specs.values() if s.set})) or 'none'})")
    print("InsightFace weights (inswapper, w600k_r50) are for non-commercial research only.")
    return EXIT_OK


def _fetch(store: ModelStore, args: argparse.Namespace) -> int:
    results = []
    for spec in store.expand(args.names):
        if not args.quiet and not args.json:
            print(f"{spec.file} ({_size(spec)}, licence: {spec.licence})", file=sys.stderr)
        result = store.fetch(spec, force=args.force, progress_factory=_bar_factory(args))
        results.append({"name": spec.name, "path": str(result.path), "status": result.status,
                        "detail": result.detail})
    if args.json:
        print(json.dumps(results, indent=2))
    elif not args.quiet:
        for row in results:
            print(f"{row['name']}: {row['path']} ({row['detail'] or row['status']})")
    return EXIT_OK


def _verify(store: ModelStore, args: argparse.Namespace) -> int:
    specs = store.expand(args.names) if args.names else [
        s for s in store.specs.values() if (store.root / s.file).exists()]
    results = []
    for spec in specs:
        check = store.check(spec, full=True)
        if check.status == "corrupt" and args.repair:
            check = store.fetch(spec, progress_factory=_bar_factory(args))
        results.append(check)
    bad = [c for c in results if c.status not in ("ok",)]
    if args.json:
        print(json.dumps([{"name": c.spec.name, "status": c.status, "detail": c.detail}
                          for c in results], indent=2))
    elif not args.quiet:
        if not results:
            print("no model is downloaded yet; see `facecam models list`")
        for check in results:
            hint = f"  -> run `{check.spec.fetch_command}`" if check.status != "ok" else ""
            print(f"{check.spec.name}: {check.status}{' (' + check.detail + ')' if check.detail else ''}{hint}")
    if bad:
        names = " ".join(sorted({c.spec.set or c.spec.name for c in bad}))
        print(f"facecam: error: {len(bad)} model(s) damaged or missing; run `facecam models fetch "
              f"{names}`", file=sys.stderr)
        return EXIT_USER
    return EXIT_OK


def _build(store: ModelStore, args: argparse.Namespace) -> int:
    from realtime.inference.session import SessionConfig, create_session

    specs = store.expand(args.names) if args.names else [
        s for s in store.specs.values() if (store.root / s.file).exists()]
    if not specs:
        print("facecam: error: no model is downloaded; run `facecam models fetch NAME` first",
              file=sys.stderr)
        return EXIT_USER
    config = SessionConfig(device=args.device, cache_root=store.root / ".cache")
    rows = []
    for spec in specs:
        session = create_session(store.require(spec.name), config, name=spec.name)
        rows.append({"name": spec.name, "providers": session.providers})
        if not args.json and not args.quiet:
            print(f"{spec.name}: {', '.join(session.providers)}")
    if args.json:
        print(json.dumps(rows, indent=2))
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    store = _store(args)
    if args.action == "path":
        print(store.path(args.name))
        return EXIT_OK
    return {"list": _list, "fetch": _fetch, "verify": _verify, "build-engines": _build}[args.action](
        store, args)
