"""`facecam doctor`: what this machine can do, in one readable report.

Each check says ok, warn (works, but something is missing or slower) or FAIL (the default
engine cannot run), with what to do about it. Exit status 0 when the embedded default (MediaPipe
face mesh + mesh swap, no download, CPU) can run here, 2 otherwise. Nothing is downloaded and
nothing is changed; a virtual camera is opened for a moment only to see that it works.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

OK, WARN, FAIL, INFO = "ok", "warn", "FAIL", "info"

# A 69-byte ONNX graph (y = Identity(x), opset 13): a session that loads it proves a provider
# really works here, which `get_available_providers()` alone does not (it lists CUDA even when
# the CUDA libraries are missing).
_PROBE_MODEL = base64.b64decode(
    "CAc6OwoQCgF4EgF5IghJZGVudGl0eRIFcHJvYmVaDwoBeBIKCggIARIECgIIAWIPCgF5EgoKCAgBEgQKAggBQgQKABAN")


@dataclass(frozen=True)
class Check:
    section: str
    name: str
    status: str
    detail: str
    essential: bool = False
    """A FAIL here means the embedded default cannot run."""


def _run(command: list[str], timeout: float = 5.0) -> str | None:
    """stdout of a helper program, None when it is absent or fails."""
    if shutil.which(command[0]) is None:
        return None
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


# -- the default engine ---------------------------------------------------------------------------
def check_system_libraries(load: Callable[[str], object] = ctypes.CDLL) -> list[Check]:
    """libGL and GLib: OpenCV (pulled by MediaPipe) needs both at import on Linux."""
    if not sys.platform.startswith("linux"):
        return []
    checks = []
    for library, package in (("libGL.so.1", "libgl1"), ("libglib-2.0.so.0", "libglib2.0-0")):
        try:
            load(library)
            checks.append(Check("system", library, OK, "found"))
        except OSError:
            checks.append(Check("system", library, FAIL,
                                f"missing: OpenCV cannot load without it; install it "
                                f"(Debian/Ubuntu: sudo apt install {package})", essential=True))
    return checks


def check_core() -> list[Check]:
    checks = [Check("core", "python", OK if (3, 11) <= sys.version_info[:2] <= (3, 12) else FAIL,
                    f"{platform.python_version()} ({sys.executable})",
                    essential=True)]
    try:
        import numpy

        checks.append(Check("core", "numpy", OK, numpy.__version__, essential=True))
    except ImportError as error:
        checks.append(Check("core", "numpy", FAIL, f"cannot import: {error}", essential=True))
    try:
        import cv2

        checks.append(Check("core", "opencv", OK, cv2.__version__, essential=True))
    except ImportError as error:
        checks.append(Check("core", "opencv", FAIL, f"cannot import: {error}", essential=True))
    try:
        import av

        codecs = av.codecs_available
        missing = [c for c in ("libx264", "aac") if c not in codecs]
        checks.append(Check("core", "pyav", WARN if missing else OK,
                            f"{av.__version__}" + (f"; no {', '.join(missing)} encoder: recordings "
                                                   "will fail" if missing else "; H.264 + AAC encoders"),
                            essential=True))
    except ImportError as error:
        checks.append(Check("core", "pyav", FAIL, f"cannot import: {error}", essential=True))
    return checks


def check_embedded_engine() -> Check:
    """MediaPipe's face mesh loads and runs: the default swap and animation need nothing else."""
    try:
        import numpy as np

        from realtime.faces import create_detector
        from realtime.settings import FaceSettings

        detector = create_detector(FaceSettings(), static=True)
        try:
            detector.detect(np.zeros((240, 320, 3), dtype=np.uint8))
        finally:
            detector.close()
        from realtime.faces.mediapipe_mesh import import_mediapipe

        mediapipe = import_mediapipe()
        return Check("engine", "embedded face mesh", OK,
                     f"MediaPipe {mediapipe.__version__} face mesh runs on the CPU: the default "
                     "mesh swap and animation need no download", essential=True)
    except Exception as error:
        return Check("engine", "embedded face mesh", FAIL,
                     f"{type(error).__name__}: {error}; reinstall with `make venv` "
                     "(needs mediapipe==0.10.21 on Python 3.11/3.12)", essential=True)


# -- devices --------------------------------------------------------------------------------------
def _video_nodes(sysfs: Path = Path("/sys/class/video4linux")) -> list[tuple[str, str, bool]]:
    """(/dev/videoN, card name, is a loopback device) for every V4L2 node."""
    nodes: list[tuple[str, str, bool]] = []
    if not sysfs.is_dir():
        return nodes
    for entry in sorted(sysfs.iterdir(), key=lambda p: (len(p.name), p.name)):
        try:
            name = (entry / "name").read_text().strip()
        except OSError:
            name = "?"
        virtual = "/virtual/" in str(entry.resolve())
        nodes.append((f"/dev/{entry.name}", name, virtual))
    return nodes


def _formats(device: str) -> str:
    listing = _run(["v4l2-ctl", "-d", device, "--list-formats"])
    if listing is None:
        return ""
    found = [line.split("'")[1] for line in listing.splitlines() if "'" in line and "]" in line]
    return f"; formats {', '.join(dict.fromkeys(found))}" if found else ""


def _probe_camera(index: int) -> str | None:
    """WxH@fps of camera `index` as opened by default, or None when it does not open."""
    import cv2

    from realtime.capture.camera import _backend

    capture = cv2.VideoCapture(index, _backend())
    try:
        if not capture.isOpened():
            return None
        ok, image = capture.read()
        if not ok or image is None:
            return "opens, but delivers no picture (busy in another program?)"
        fps = capture.get(cv2.CAP_PROP_FPS)
        return f"{image.shape[1]}x{image.shape[0]} at {fps:.0f} fps by default"
    finally:
        capture.release()


def check_cameras(probe: bool = True) -> list[Check]:
    if sys.platform.startswith("linux"):
        cameras = [(d, n) for d, n, virtual in _video_nodes() if not virtual]
        if not cameras:
            return [Check("devices", "cameras", WARN, "none found (no /dev/video*); facecam uses "
                          "its demo clip, or --input FILE")]
        checks = []
        for device, name in cameras:
            index = int(device.removeprefix("/dev/video"))
            state = _probe_camera(index) if probe else None
            detail = f"{name}{_formats(device)}" + (f"; {state}" if state else "")
            if probe and state is None:
                from realtime.capture.camera import busy_message

                checks.append(Check("devices", device, WARN, f"{name}: {busy_message(index)}"))
            else:
                checks.append(Check("devices", device, OK, detail))
        return checks
    if not probe:
        return [Check("devices", "cameras", INFO, "not probed")]
    found = [(i, s) for i in range(4) if (s := _probe_camera(i)) is not None]
    if not found:
        return [Check("devices", "cameras", WARN, "none opened (indexes 0-3); check camera permissions")]
    return [Check("devices", f"camera {i}", OK, state) for i, state in found]


def check_virtual_camera(try_open: bool = True) -> list[Check]:
    from realtime.output.virtualcam import install_hint

    try:
        import pyvirtualcam
    except ImportError as error:
        return [Check("devices", "virtual camera", WARN, f"pyvirtualcam missing ({error}); "
                      "pip install pyvirtualcam")]
    backends = sorted(pyvirtualcam.camera.BACKENDS)
    checks = []
    if sys.platform.startswith("linux"):
        loaded = Path("/sys/module/v4l2loopback").exists()
        loopbacks = [f"{d} ({n})" for d, n, virtual in _video_nodes() if virtual]
        if not loaded:
            return [Check("devices", "virtual camera", WARN, f"v4l2loopback is not loaded; {install_hint()}")]
        checks.append(Check("devices", "v4l2loopback", OK if loopbacks else WARN,
                            f"devices: {', '.join(loopbacks)}" if loopbacks else
                            f"loaded but no device; {install_hint()}"))
    if not try_open:
        return checks + [Check("devices", "virtual camera", INFO, f"backends: {', '.join(backends)}")]
    try:
        with pyvirtualcam.Camera(320, 240, 30, fmt=pyvirtualcam.PixelFormat.BGR) as camera:
            detail = f"{camera.backend} at {camera.device} works (--output vcam)"
        checks.append(Check("devices", "virtual camera", OK, detail))
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        checks.append(Check("devices", "virtual camera", WARN,
                            f"none usable ({first}); {install_hint()}"))
    return checks


def check_display() -> list[Check]:
    from realtime.output import display_available

    checks = []
    if display_available():
        where = os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY") or "the desktop"
        checks.append(Check("display", "display", OK, f"{where}: preview window and `facecam gui` can open"))
    else:
        checks.append(Check("display", "display", WARN, "no display (DISPLAY/WAYLAND_DISPLAY unset): "
                            "runs write to a file or the virtual camera instead of a window"))
    try:
        from PyQt6.QtCore import QT_VERSION_STR

        checks.append(Check("display", "PyQt6", OK, f"Qt {QT_VERSION_STR}"))
    except ImportError as error:
        checks.append(Check("display", "PyQt6", WARN, f"cannot import ({error}): no `facecam gui`"))
    return checks


# -- acceleration and models ----------------------------------------------------------------------
def check_onnxruntime() -> list[Check]:
    try:
        import onnxruntime as ort
    except ImportError:
        return [Check("inference", "onnxruntime", WARN, "not installed: neural models unavailable "
                      "(the embedded engine does not need it); pip install 'facecam[cpu]' or '[gpu]'")]
    with contextlib.suppress(Exception):
        ort.set_default_logger_severity(4)  # probing providers that fail is expected: stay quiet
    checks = [Check("inference", "onnxruntime", OK, ort.__version__)]
    loads: list[str] = []
    fails: list[str] = []
    for provider in ort.get_available_providers():
        if provider == "AzureExecutionProvider":
            continue  # a remote-call provider, not a place to run models
        try:
            session = ort.InferenceSession(_PROBE_MODEL, providers=[provider])
            (loads if provider in session.get_providers() else fails).append(provider)
        except Exception:
            fails.append(provider)
    short = [p.removesuffix("ExecutionProvider") for p in loads]
    checks.append(Check("inference", "providers that load", OK if loads else WARN,
                        ", ".join(short) or "none"))
    if fails:
        checks.append(Check("inference", "providers listed but not loading", WARN,
                            ", ".join(p.removesuffix("ExecutionProvider") for p in fails) +
                            ": their libraries (CUDA, cuDNN, TensorRT) are missing or mismatched"))
    return checks


# ONNX Runtime's TensorRT provider (libonnxruntime_providers_tensorrt.so of onnxruntime-gpu
# 1.31.1, read with readelf) needs both of these, of TensorRT major 10.
TENSORRT_LIBRARIES = ("libnvinfer.so.10", "libnvonnxparser.so.10")


def check_tensorrt_libraries(providers: list[str] | None = None,
                             load: Callable[[str], object] | None = None,
                             folders: list[Path] | None = None) -> list[Check]:
    """Whether ONNX Runtime's TensorRT provider can find its libraries: the system's, or the
    ones the `tensorrt-cu13` 10.x wheel installs in its `tensorrt_libs` package."""
    if providers is None:
        try:
            import onnxruntime as ort
        except ImportError:
            return []
        providers = ort.get_available_providers()
    if "TensorrtExecutionProvider" not in providers:
        return []
    load = load or (lambda name: ctypes.CDLL(name, mode=getattr(ctypes, "RTLD_GLOBAL", 0)))
    if folders is None:
        folders = []
        with contextlib.suppress(ImportError):
            import tensorrt_libs  # type: ignore[import-not-found]

            folders.append(Path(tensorrt_libs.__file__).parent)
    checks = []
    for library in TENSORRT_LIBRARIES:
        found = None
        for candidate in [*(str(folder / library) for folder in folders), library]:
            try:
                load(candidate)
                found = candidate
                break
            except OSError:
                continue
        checks.append(Check("inference", library, OK if found else WARN, f"found ({found})" if found else
                            "missing: the TensorRT provider cannot load; pip install 'facecam[tensorrt]' "
                            "(tensorrt-cu13 10.x: ONNX Runtime links TensorRT 10, not 11), or use --device cuda"))
    return checks


def check_gpu() -> list[Check]:
    listing = _run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version",
                    "--format=csv,noheader"])
    if listing is None:
        return [Check("inference", "GPU", INFO, "no NVIDIA GPU found (nvidia-smi): neural models run "
                      "on the CPU, slowly; the embedded engine is CPU-only anyway")]
    gpus = [line.strip() for line in listing.splitlines() if line.strip()]
    return [Check("inference", f"GPU {i}", OK, gpu) for i, gpu in enumerate(gpus)]


def check_models(verify: bool = False) -> list[Check]:
    try:
        from realtime.inference.store import ModelStore
    except ImportError:
        return [Check("models", "catalogue", INFO, "no model catalogue in this version; the "
                      "embedded engine needs no model")]
    try:
        store = ModelStore()
    except Exception as error:
        return [Check("models", "catalogue", WARN, f"cannot read the model catalogue: {error}")]
    checks = []
    for spec in store.specs.values():
        result = store.check(spec, full=verify)
        status = {"ok": OK, "missing": INFO}.get(result.status, WARN)
        detail = {"ok": "present and verified" if verify else "present",
                  "missing": f"not downloaded ({getattr(spec, 'fetch_command', 'facecam models fetch')})"
                  }.get(result.status, f"{result.status}: {result.detail}")
        checks.append(Check("models", spec.name, status, detail))
    return checks or [Check("models", "catalogue", INFO, "empty")]


# -- the command ----------------------------------------------------------------------------------
def diagnose(probe_devices: bool = True, verify_models: bool = False) -> list[Check]:
    checks = check_system_libraries()
    checks += check_core()
    if not any(c.status == FAIL for c in checks):
        checks.append(check_embedded_engine())
    checks += check_cameras(probe=probe_devices)
    checks += check_virtual_camera(try_open=probe_devices)
    checks += check_display()
    checks += check_onnxruntime()
    checks += check_tensorrt_libraries()
    checks += check_gpu()
    checks += check_models(verify=verify_models)
    return checks


def default_can_run(checks: list[Check]) -> bool:
    essential = [c for c in checks if c.essential]
    return bool(essential) and all(c.status != FAIL for c in essential) and \
        any(c.name == "embedded face mesh" for c in essential)


def report(checks: list[Check]) -> str:
    lines, section = [], None
    for check in checks:
        if check.section != section:
            section = check.section
            lines.append(f"{section}:")
        lines.append(f"  {check.status:<4}  {check.name}: {check.detail}")
    verdict = ("the embedded default can run here (facecam run)" if default_can_run(checks) else
               "the embedded default cannot run here: fix the FAIL lines above")
    lines.append(verdict)
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-probe", action="store_true",
                        help="do not open cameras or the virtual camera (only list them)")
    parser.add_argument("--verify", action="store_true",
                        help="hash every downloaded model file (slow for big models)")


def run(args: argparse.Namespace) -> int:
    checks = diagnose(probe_devices=not args.no_probe, verify_models=args.verify)
    ready = default_can_run(checks)
    if args.json:
        print(json.dumps({"default_can_run": ready, "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        print(report(checks))
    return 0 if ready else 2
