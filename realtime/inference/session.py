"""The one place that creates ONNX Runtime sessions: `--device auto|cpu|cuda|tensorrt`.

Order of preference: TensorRT (fp16, engine and timing caches under
`models/.cache/<onnxruntime version>/`), then CUDA, then CPU. ONNX Runtime falls back silently
when a provider cannot load (a missing libcudnn, libnvinfer...), so after creating a session we
read `session.get_providers()` and say what really runs: a one-line warning when a provider of
the plan did not load, an error when the user explicitly asked for it (`--device cuda`).

Provider options follow the ONNX Runtime execution-provider documentation (names are the
`provider_options` keys of the Python API, values strings).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from realtime.inference.errors import DeviceError, ModelCorruptError

log = logging.getLogger(__name__)

TENSORRT = "TensorrtExecutionProvider"
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
PROVIDER_FOR_DEVICE = {"tensorrt": TENSORRT, "cuda": CUDA, "cpu": CPU}
DEVICES = ("auto", "cpu", "cuda", "tensorrt")

_INSTALL_GPU = ("install the GPU build: pip uninstall onnxruntime && pip install 'facecam[gpu]' "
                "(onnxruntime and onnxruntime-gpu must never be installed together)")


@dataclass(frozen=True)
class SessionConfig:
    """How sessions are created; built from the `inference` settings group."""

    device: str = "auto"
    cache_root: Path | None = None
    """Folder that receives `<onnxruntime version>/tensorrt/` (engines, timing cache)."""
    io_binding: bool = True
    cuda_graph: bool = False
    trt_fp16: bool = True
    # 3 is TensorRT's default; 4-5 search longer for faster kernels, 0-2 build faster.
    trt_builder_level: int = 3
    trt_workspace_bytes: int = 4 << 30
    device_id: int = 0
    warm_up: bool = True

    @classmethod
    def from_settings(cls, settings: Any) -> SessionConfig:
        """From a Settings (or its `inference` group)."""
        from realtime.inference.store import models_dir

        inference = getattr(settings, "inference", settings)
        return cls(device=inference.device, cache_root=models_dir(inference) / ".cache",
                   io_binding=inference.io_binding, cuda_graph=inference.cuda_graph)


def ort_version() -> str:
    import onnxruntime

    return onnxruntime.__version__


def engine_cache_dir(cache_root: Path, version: str | None = None) -> Path:
    """`<cache_root>/<onnxruntime version>/tensorrt`: engines are only valid for the ONNX
    Runtime + TensorRT build that made them, so a version upgrade starts a fresh folder."""
    return cache_root / (version or ort_version()) / "tensorrt"


def tensorrt_options(config: SessionConfig, cache_dir: Path) -> dict[str, str]:
    cache = str(cache_dir)
    return {
        "device_id": str(config.device_id),
        "trt_fp16_enable": "True" if config.trt_fp16 else "False",
        "trt_engine_cache_enable": "True",
        "trt_engine_cache_path": cache,
        "trt_timing_cache_enable": "True",
        "trt_timing_cache_path": cache,
        "trt_builder_optimization_level": str(config.trt_builder_level),
        "trt_max_workspace_size": str(config.trt_workspace_bytes),
        "trt_cuda_graph_enable": "True" if config.cuda_graph else "False",
    }


def cuda_options(config: SessionConfig) -> dict[str, str]:
    return {
        "device_id": str(config.device_id),
        # Face crops have fixed shapes: the exhaustive search runs once, at warm-up.
        "cudnn_conv_algo_search": "EXHAUSTIVE",
        "arena_extend_strategy": "kSameAsRequested",
        "do_copy_in_default_stream": "1",
        "enable_cuda_graph": "1" if config.cuda_graph else "0",
    }


def preload_tensorrt() -> bool:
    """Make libnvinfer loadable by ONNX Runtime; True when it is.

    The `tensorrt-cu13` wheel puts its libraries in the `tensorrt_libs` package, which is not on
    the loader's search path: loading them here (RTLD_GLOBAL) lets ONNX Runtime's own
    dlopen("libnvinfer.so.10") find the copy already in the process.
    """
    names = ("nvinfer_10.dll",) if sys.platform == "win32" else ("libnvinfer.so.10",)
    folders: list[Path | None] = [None]
    with contextlib.suppress(ImportError):
        import tensorrt_libs

        folders.insert(0, Path(tensorrt_libs.__file__).parent)
    mode = getattr(ctypes, "RTLD_GLOBAL", 0)
    for folder in folders:
        for name in names:
            try:
                ctypes.CDLL(str(folder / name) if folder else name, mode=mode)
                return True
            except OSError:
                continue
    return False


def plan_providers(device: str, available: Sequence[str], config: SessionConfig,
                   cache_dir: Path | None, tensorrt_found: bool) -> list[tuple[str, dict[str, str]]]:
    """The providers (with options) to ask ONNX Runtime for, best first.

    Raises DeviceError when an explicitly requested provider is not in this ONNX Runtime build.
    """
    if device not in DEVICES:
        raise DeviceError(f"unknown device {device!r}; choose one of: {', '.join(DEVICES)}")
    cpu: tuple[str, dict[str, Any]] = (CPU, {})
    if device == "cpu":
        return [cpu]
    cuda = (CUDA, cuda_options(config))
    trt_options = tensorrt_options(config, cache_dir or Path("models/.cache/tensorrt"))
    if device == "cuda":
        if CUDA not in available:
            raise DeviceError(f"--device cuda: this ONNX Runtime has no CUDA provider; {_INSTALL_GPU}")
        return [cuda, cpu]
    if device == "tensorrt":
        if TENSORRT not in available:
            raise DeviceError(f"--device tensorrt: this ONNX Runtime has no TensorRT provider; "
                              f"{_INSTALL_GPU}, then pip install 'facecam[tensorrt]'")
        if not tensorrt_found:
            raise DeviceError("--device tensorrt: the TensorRT libraries (libnvinfer.so.10) are not "
                              "installed; pip install 'facecam[tensorrt]', or use --device cuda")
        plan = [(TENSORRT, trt_options)]
        if CUDA in available:
            plan.append(cuda)  # TensorRT hands the nodes it cannot run to CUDA
        return [*plan, cpu]
    plan = []
    if TENSORRT in available and tensorrt_found:
        plan.append((TENSORRT, trt_options))
    if CUDA in available:
        plan.append(cuda)
    return [*plan, cpu]


def check_providers(device: str, planned: Sequence[str], used: Sequence[str], what: str) -> list[str]:
    """Compare what was asked with what ONNX Runtime really runs.

    Raises DeviceError when the explicitly requested provider did not load; returns (and logs)
    one warning line per planned provider that did not load otherwise.
    """
    missing = [name for name in planned if name not in used]
    wanted = PROVIDER_FOR_DEVICE.get(device)
    running = used[0] if used else "nothing"
    if device in ("cuda", "tensorrt") and wanted in missing:
        raise DeviceError(f"{what}: --device {device} asked for {wanted}, but it failed to load "
                          f"(ONNX Runtime fell back to {running}); check the CUDA/cuDNN"
                          f"{'/TensorRT' if device == 'tensorrt' else ''} libraries (run again "
                          f"with --debug to see ONNX Runtime's reason) or use --device auto")
    warnings = [f"{what}: {name} did not load, running on {running}" for name in missing]
    for line in warnings:
        log.warning(line)
    return warnings


_NUMPY_TYPES = {
    "tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
    "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}


def static_shape(shape: Sequence[Any], fill: int = 1) -> tuple[int, ...]:
    """A model's declared shape with symbolic or unknown dimensions replaced by `fill`."""
    return tuple(dim if isinstance(dim, int) and dim > 0 else fill for dim in shape)


def is_static(shape: Sequence[Any]) -> bool:
    return all(isinstance(dim, int) and dim > 0 for dim in shape)


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[Any, ...]
    type: str

    @property
    def dtype(self) -> Any:
        return _NUMPY_TYPES.get(self.type, np.float32)


class ModelSession:
    """An ONNX Runtime session with the providers it really uses, and one `run`.

    `run(feeds)` takes numpy arrays (or ONNX Runtime OrtValues already on the device) and returns
    numpy arrays. With IO binding, inputs are bound once per call and outputs are allocated by
    ONNX Runtime on the device and copied back once; with a CUDA graph, inputs and outputs live
    in fixed device buffers (the graph replays on the same addresses) and inputs are updated in
    place. `run(..., on_device=True)` keeps the outputs as OrtValues for the next model.
    """

    def __init__(self, session: Any, name: str, path: Path, device: str, config: SessionConfig,
                 warnings: Sequence[str] = ()) -> None:
        self.session = session
        self.name = name
        self.path = path
        self.device = device
        self.providers: list[str] = list(session.get_providers())
        self.warnings = list(warnings)
        self.inputs = [TensorInfo(i.name, tuple(i.shape), i.type) for i in session.get_inputs()]
        self.outputs = [TensorInfo(o.name, tuple(o.shape), o.type) for o in session.get_outputs()]
        self.output_names = [o.name for o in self.outputs]
        on_gpu = self.provider in (CUDA, TENSORRT)
        self._device_type = "cuda" if on_gpu else "cpu"
        self._device_id = config.device_id if on_gpu else 0
        self.io_binding = bool(config.io_binding)
        self.cuda_graph = bool(config.cuda_graph and on_gpu and self.io_binding)
        if self.cuda_graph and not all(is_static(t.shape) for t in self.inputs + self.outputs):
            log.warning("%s: CUDA graphs need fixed shapes; running without one", name)
            self.cuda_graph = False
        self._binding: Any = session.io_binding() if self.io_binding else None
        self._graph_inputs: dict[str, Any] = {}
        self._graph_outputs: list[Any] = []
        if self.cuda_graph:
            self._bind_graph_buffers()

    @property
    def provider(self) -> str:
        """The provider that runs the model (ONNX Runtime's first, best one)."""
        return self.providers[0] if self.providers else CPU

    def input(self, name: str) -> TensorInfo:
        return next(t for t in self.inputs if t.name == name)

    def _bind_graph_buffers(self) -> None:
        from onnxruntime import OrtValue

        for info in self.inputs:
            value = OrtValue.ortvalue_from_shape_and_type(static_shape(info.shape), info.dtype,
                                                          self._device_type, self._device_id)
            self._graph_inputs[info.name] = value
            self._binding.bind_ortvalue_input(info.name, value)
        for info in self.outputs:
            value = OrtValue.ortvalue_from_shape_and_type(static_shape(info.shape), info.dtype,
                                                          self._device_type, self._device_id)
            self._graph_outputs.append(value)
            self._binding.bind_ortvalue_output(info.name, value)

    def run(self, feeds: Mapping[str, Any], on_device: bool = False) -> list[Any]:
        if self._binding is None:
            return self.session.run(self.output_names, dict(feeds))
        binding = self._binding
        if self.cuda_graph:
            for name, value in feeds.items():
                self._graph_inputs[name].update_inplace(np.ascontiguousarray(value))
            self.session.run_with_iobinding(binding)
            if on_device:
                return list(self._graph_outputs)
            return [value.numpy() for value in self._graph_outputs]
        binding.clear_binding_inputs()
        binding.clear_binding_outputs()
        # The bound arrays may be used in place by ONNX Runtime: keep them alive until the run ends.
        keep_alive = []
        for name, value in feeds.items():
            if isinstance(value, np.ndarray):
                keep_alive.append(np.ascontiguousarray(value))
                binding.bind_cpu_input(name, keep_alive[-1])
            else:
                binding.bind_ortvalue_input(name, value)
        for name in self.output_names:
            binding.bind_output(name, self._device_type, self._device_id)
        self.session.run_with_iobinding(binding)
        del keep_alive
        if on_device:
            return list(binding.get_outputs())
        return binding.copy_outputs_to_cpu()

    def to_device(self, array: np.ndarray) -> Any:
        """An OrtValue on this session's device (to feed the same tensor many times)."""
        from onnxruntime import OrtValue

        return OrtValue.ortvalue_from_numpy(np.ascontiguousarray(array), self._device_type,
                                            self._device_id)

    def warm_up(self) -> float:
        """One run on zeros (dynamic dimensions as 1); returns its seconds. The first run is
        where cuDNN searches its algorithms and TensorRT builds engines for dynamic shapes."""
        feeds = {t.name: np.zeros(static_shape(t.shape), dtype=t.dtype) for t in self.inputs}
        start = time.perf_counter()
        self.run(feeds)
        return time.perf_counter() - start

    def describe(self) -> str:
        return f"{self.name}: running on {self.provider}" + (" + IO binding" if self.io_binding else "") + (
            " + CUDA graph" if self.cuda_graph else "")


@contextlib.contextmanager
def _engine_build_progress(what: str, enabled: bool) -> Iterator[None]:
    """Keep the user informed while TensorRT builds an engine (minutes, no progress of its own):
    a ticking elapsed-time bar on a terminal, one log line otherwise."""
    if not enabled:
        yield
        return
    log.info("%s: building the TensorRT engine (first start only; this can take minutes)...", what)
    if not sys.stderr.isatty():
        yield
        return
    from tqdm import tqdm

    stop = threading.Event()
    bar = tqdm(desc=f"TensorRT engine for {what}", unit="s", bar_format="{desc}: {elapsed}",
               file=sys.stderr, leave=False)

    def tick() -> None:
        while not stop.wait(1.0):
            bar.refresh()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        bar.close()


def create_session(path: str | Path, config: SessionConfig | None = None, name: str | None = None,
                   threads: int = 0) -> ModelSession:
    """A ModelSession for the model file at `path`, on the best provider `config.device` allows.

    Raises DeviceError (provider missing or failed with an explicit device), ModelCorruptError
    (the file is not a loadable model).
    """
    config = config or SessionConfig()
    path = Path(path)
    what = name or path.stem
    try:
        import onnxruntime as ort
    except ImportError:
        raise DeviceError("neural models need ONNX Runtime: pip install 'facecam[cpu]' "
                          "(or 'facecam[gpu]' for NVIDIA GPUs)") from None
    available = ort.get_available_providers()
    tensorrt_found = TENSORRT in available and preload_tensorrt()
    if CUDA in available and hasattr(ort, "preload_dlls"):
        # CUDA/cuDNN from the nvidia-* pip packages (onnxruntime-gpu >= 1.21 knows where).
        with contextlib.suppress(Exception):
            ort.preload_dlls()
    cache_dir = None
    if config.cache_root is not None:
        cache_dir = engine_cache_dir(Path(config.cache_root), ort.__version__)
    plan = plan_providers(config.device, available, config, cache_dir, tensorrt_found)
    if cache_dir is not None and plan[0][0] == TENSORRT:
        cache_dir.mkdir(parents=True, exist_ok=True)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Provider load failures are reported by check_providers in one line, not ORT's log spam;
    # with --debug, ONNX Runtime says why (the missing library) itself.
    options.log_severity_level = 1 if log.isEnabledFor(logging.DEBUG) else 3
    if threads:
        options.intra_op_num_threads = threads
    building = plan[0][0] == TENSORRT and (cache_dir is None or not any(cache_dir.glob("*.engine")))
    with _engine_build_progress(what, building):
        try:
            session = ort.InferenceSession(str(path), sess_options=options,
                                           providers=[p for p, _ in plan],
                                           provider_options=[o for _, o in plan])
        except Exception as error:  # ORT raises its own Fail/InvalidProtobuf/NoSuchFile types
            if not path.exists():
                raise
            raise ModelCorruptError(f"{path.name} cannot be loaded by ONNX Runtime "
                                    f"({str(error).splitlines()[0][:160]}); run `facecam models "
                                    "verify` and fetch it again") from None
        warnings = check_providers(config.device, [p for p, _ in plan], session.get_providers(), what)
        model = ModelSession(session, what, path, config.device, config, warnings)
        if config.warm_up:
            model.warm_up()
    log.info("%s", model.describe())  # the provider that really runs, never silent
    return model
