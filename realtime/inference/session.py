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
import functools
import logging
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from realtime.inference.errors import (
    DeviceError,
    ModelCorruptError,
    OptionRefusedError,
    OutOfMemoryError,
    ProviderFailedError,
)

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


def tensorrt_options(config: SessionConfig, cache_dir: Path, precision: str = "fp16",
                     cuda_graph: bool | None = None) -> dict[str, str]:
    """`precision` comes from the model's catalogue entry: FasterLivePortrait
    (warmshao/FasterLivePortrait scripts/all_onnx2trt.sh) builds every LivePortrait engine in
    fp16 except the motion extractor, kept in fp32. `cuda_graph` is False for models with
    dynamic shapes (see graph_allowed)."""
    cache = str(cache_dir)
    graph = config.cuda_graph if cuda_graph is None else cuda_graph
    return {
        "device_id": str(config.device_id),
        "trt_fp16_enable": "True" if config.trt_fp16 and precision != "fp32" else "False",
        "trt_engine_cache_enable": "True",
        "trt_engine_cache_path": cache,
        "trt_timing_cache_enable": "True",
        "trt_timing_cache_path": cache,
        "trt_builder_optimization_level": str(config.trt_builder_level),
        "trt_max_workspace_size": str(config.trt_workspace_bytes),
        "trt_cuda_graph_enable": "True" if graph else "False",
    }


# facefusion/facefusion facefusion/execution.py resolve_cudnn_conv_algo_search: DEFAULT on these
# GPUs (EXHAUSTIVE misbehaves there), EXHAUSTIVE everywhere else.
_CUDNN_DEFAULT_GPUS = ("GeForce GTX 1630", "GeForce GTX 1650", "GeForce GTX 1660")


@functools.lru_cache(maxsize=1)
def gpu_names() -> tuple[str, ...]:
    """The NVIDIA GPUs' product names (without "NVIDIA"), from nvidia-smi as FaceFusion reads
    them; empty when there is no nvidia-smi."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return ()
    try:
        out = subprocess.run([smi, "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(line.replace("NVIDIA", "").strip() for line in out.splitlines() if line.strip())


def cudnn_search(names: Sequence[str]) -> str:
    """cuDNN's convolution algorithm search for these GPUs, as FaceFusion chooses it."""
    return "DEFAULT" if any(name.replace("NVIDIA", "").strip().startswith(_CUDNN_DEFAULT_GPUS)
                            for name in names) else "EXHAUSTIVE"


def cuda_options(config: SessionConfig, cuda_graph: bool | None = None,
                 gpus: Sequence[str] | None = None) -> dict[str, str]:
    graph = config.cuda_graph if cuda_graph is None else cuda_graph
    return {
        "device_id": str(config.device_id),
        "cudnn_conv_algo_search": cudnn_search(gpu_names() if gpus is None else gpus),
        "arena_extend_strategy": "kSameAsRequested",
        "do_copy_in_default_stream": "1",
        # ONNX Runtime captures the graph on the first Run and replays it ignoring new feeds:
        # only for models whose every input and output has a fixed shape (graph_allowed).
        "enable_cuda_graph": "1" if graph else "0",
    }


def graph_allowed(path: str | Path) -> bool:
    """Whether a CUDA graph can serve this model: every graph input and output has a fixed
    shape (the graph replays on fixed device buffers of those shapes). Read from the file."""
    try:
        import onnx
    except ImportError:
        return False
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # the session creation reports a bad file
        return False
    initializers = {init.name for init in model.graph.initializer}
    for value in [*model.graph.input, *model.graph.output]:
        if value.name in initializers:
            continue
        dims = value.type.tensor_type.shape.dim
        if not dims or any(not dim.HasField("dim_value") or dim.dim_value <= 0 for dim in dims):
            return False
    return True


def preload_tensorrt() -> bool:
    """Make libnvinfer and libnvonnxparser loadable by ONNX Runtime; True when both are.

    The `tensorrt-cu13` wheel puts its libraries in the `tensorrt_libs` package, which is not on
    the loader's search path: loading them here (RTLD_GLOBAL) lets ONNX Runtime's own
    dlopen("libnvinfer.so.10") find the copy already in the process. The TensorRT provider of
    onnxruntime-gpu 1.31 links both libraries, major 10 (readelf of the wheel's
    libonnxruntime_providers_tensorrt.so).
    """
    wanted = ((("nvinfer_10.dll",), ("nvonnxparser_10.dll",)) if sys.platform == "win32"
              else (("libnvinfer.so.10",), ("libnvonnxparser.so.10",)))
    folders: list[Path | None] = [None]
    with contextlib.suppress(ImportError):
        import tensorrt_libs

        folders.insert(0, Path(tensorrt_libs.__file__).parent)
    mode = getattr(ctypes, "RTLD_GLOBAL", 0)

    def loads(names: tuple[str, ...]) -> bool:
        for folder in folders:
            for name in names:
                try:
                    ctypes.CDLL(str(folder / name) if folder else name, mode=mode)
                    return True
                except OSError:
                    continue
        return False

    return all([loads(names) for names in wanted])


def plan_providers(device: str, available: Sequence[str], config: SessionConfig,
                   cache_dir: Path | None, tensorrt_found: bool, precision: str = "fp16",
                   cuda_graph: bool | None = None) -> list[tuple[str, dict[str, str]]]:
    """The providers (with options) to ask ONNX Runtime for, best first. `precision` and
    `cuda_graph` are the model's own (its catalogue entry; whether its shapes are fixed).

    Raises DeviceError when an explicitly requested provider is not in this ONNX Runtime build.
    """
    if device not in DEVICES:
        raise DeviceError(f"unknown device {device!r}; choose one of: {', '.join(DEVICES)}")
    cpu: tuple[str, dict[str, Any]] = (CPU, {})
    if device == "cpu":
        return [cpu]
    graph = bool(config.cuda_graph if cuda_graph is None else cuda_graph) and config.io_binding
    cuda = (CUDA, cuda_options(config, graph)) if CUDA in available else (CUDA, {})
    trt_options = tensorrt_options(config, cache_dir or Path("models/.cache/tensorrt"), precision, graph)
    if device == "cuda":
        if CUDA not in available:
            raise DeviceError(f"--device cuda: this ONNX Runtime has no CUDA provider; {_INSTALL_GPU}")
        return [cuda, cpu]
    if device == "tensorrt":
        if TENSORRT not in available:
            raise DeviceError(f"--device tensorrt: this ONNX Runtime has no TensorRT provider; "
                              f"{_INSTALL_GPU}, then pip install 'facecam[tensorrt]'")
        if not tensorrt_found:
            raise DeviceError("--device tensorrt: the TensorRT libraries (libnvinfer.so.10, "
                              "libnvonnxparser.so.10) are not installed; pip install 'facecam[tensorrt]', or use --device cuda")
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
                 warnings: Sequence[str] = (), cuda_graph: bool | None = None) -> None:
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
        wanted = config.cuda_graph if cuda_graph is None else cuda_graph
        self.cuda_graph = bool(wanted and on_gpu and self.io_binding)
        if self.cuda_graph and not all(is_static(t.shape) for t in self.inputs + self.outputs):
            log.warning("%s: CUDA graphs need fixed shapes; running without one", name)
            self.cuda_graph = False
        self._binding: Any = session.io_binding() if self.io_binding else None
        self._graph_inputs: dict[str, Any] = {}
        self._graph_fed: dict[str, Any] = {}
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
                self._feed_graph(name, value)
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

    def _feed_graph(self, name: str, value: Any) -> None:
        """Write a feed into the graph's fixed input buffer. An OrtValue (a tensor kept on the
        device, such as LivePortrait's feature volume) is copied in once, when it first
        arrives, and not again while the same OrtValue is fed: the replayed graph reads the
        buffer in place. (numpy of an OrtValue is not an array: np.ascontiguousarray(OrtValue)
        fails on ONNX Runtime 1.22 and copies GPU -> CPU -> GPU on every frame on 1.32.)"""
        if isinstance(value, np.ndarray):
            self._graph_inputs[name].update_inplace(np.ascontiguousarray(value))
            self._graph_fed.pop(name, None)
            return
        if self._graph_fed.get(name) is value:
            return
        self._graph_inputs[name].update_inplace(np.ascontiguousarray(value.numpy()))
        self._graph_fed[name] = value

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


def classify_failure(error: BaseException, path: Path, what: str, provider: str,
                     config: SessionConfig) -> Exception:
    """The one-line error a session-creation (or warm-up) failure deserves: only a file ONNX
    Runtime cannot parse is called damaged ("fetch it again"); an out-of-memory, a refused
    CUDA graph or a provider failure each say what to change instead."""
    message = str(error).strip()
    first = (message.splitlines() or [""])[0][:200]
    kind = type(error).__name__
    lowered = message.lower()
    if any(key in lowered for key in ("out of memory", "failed to allocate", "cudaerrormemoryallocation",
                                      "cuda_error_out_of_memory", "bad_alloc", "insufficient memory")):
        return OutOfMemoryError(f"{what}: {provider} ran out of memory ({first}); close other "
                                "programs using the GPU, run fewer models at once, or use --device cpu")
    if config.cuda_graph and ("graph" in lowered and ("cuda" in lowered or "capture" in lowered)):
        return OptionRefusedError(f"{what}: ONNX Runtime refused the CUDA graph ({first}); turn "
                                  "it off (--set cuda_graph=false); the model file is fine")
    corrupt = kind in ("InvalidProtobuf", "NoModel") or any(key in lowered for key in (
        "protobuf parsing failed", "invalid_protobuf", "does not have a graph", "model_path must not",
        "no graph was found", "unexpected end of file", "failed to load model because protobuf"))
    if corrupt:
        return ModelCorruptError(f"{path.name} cannot be loaded by ONNX Runtime ({first}); run "
                                 "`facecam models verify` and fetch it again")
    if provider in (CUDA, TENSORRT) or kind == "EPFail" or any(
            key in lowered for key in ("tensorrt", "cudnn", "cublas", "cuda error", "cuda failure", "nvinfer")):
        return ProviderFailedError(f"{what}: {provider} failed on this model ({first}); the file is "
                                   "fine: try --device cuda or --device cpu, or run with --debug")
    return ProviderFailedError(f"{what}: ONNX Runtime cannot run this model on {provider} "
                               f"({kind}: {first}); the file itself parsed, so fetching it again "
                               "will not help")


def create_session(path: str | Path, config: SessionConfig | None = None, name: str | None = None,
                   threads: int = 0, precision: str = "fp16") -> ModelSession:
    """A ModelSession for the model file at `path`, on the best provider `config.device` allows.

    A trial run at load (the warm-up) decides the provider: when a GPU provider accepts the
    model but cannot run one of its nodes (ONNX Runtime's CUDA GridSample registers for 5-D
    inputs but fails at run time, FasterLivePortrait issue #36), the model moves to the next
    provider of the plan, said in one line.

    Raises DeviceError (provider missing, failed with an explicit device, out of memory, an
    option refused), ModelCorruptError (ONNX Runtime cannot parse the file).
    """
    config = config or SessionConfig()
    path = Path(path)
    what = name or path.stem
    try:
        import onnxruntime as ort
    except ImportError:
        raise DeviceError("neural models need ONNX Runtime: pip install 'facecam[cpu]' "
                          "(or 'facecam[gpu]' for NVIDIA GPUs)") from None
    if not path.exists():
        raise FileNotFoundError(path)
    available = ort.get_available_providers()
    tensorrt_found = TENSORRT in available and preload_tensorrt()
    if CUDA in available and hasattr(ort, "preload_dlls"):
        # CUDA/cuDNN from the nvidia-* pip packages (onnxruntime-gpu >= 1.21 knows where).
        with contextlib.suppress(Exception):
            ort.preload_dlls()
    cache_dir = None
    if config.cache_root is not None:
        cache_dir = engine_cache_dir(Path(config.cache_root), ort.__version__)
    # A CUDA graph only for models whose every input and output has a fixed shape.
    graph = bool(config.cuda_graph and config.io_binding and config.device != "cpu"
                 and (CUDA in available or TENSORRT in available) and graph_allowed(path))
    if config.cuda_graph and not graph and config.device != "cpu":
        log.info("%s: no CUDA graph (the model has dynamic shapes)", what)
    plan = plan_providers(config.device, available, config, cache_dir, tensorrt_found, precision, graph)
    moved: list[str] = []
    while True:
        try:
            model = _build(ort, path, what, config, plan, cache_dir, threads, graph, moved)
            break
        except _TrialFailed as failed:
            if len(plan) <= 1:
                raise failed.error from None
            dropped, plan = plan[0][0], plan[1:]
            line = (f"{what}: {dropped} cannot run this model ({failed.reason}); running it on "
                    f"{plan[0][0]} instead")
            log.warning("%s", line)
            moved.append(line)
    log.info("%s", model.describe())  # the provider that really runs, never silent
    return model


class _TrialFailed(Exception):
    def __init__(self, error: Exception, reason: str) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason


def _build(ort: Any, path: Path, what: str, config: SessionConfig, plan: list, cache_dir: Path | None,
           threads: int, graph: bool, moved: list[str]) -> ModelSession:
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
            classified = classify_failure(error, path, what, plan[0][0], config)
            if isinstance(classified, ProviderFailedError) and plan[0][0] != CPU:
                raise _TrialFailed(classified, str(error).splitlines()[0][:120] if str(error) else
                                   type(error).__name__) from None
            raise classified from None
        warnings = check_providers(config.device, [p for p, _ in plan], session.get_providers(), what)
        model = ModelSession(session, what, path, config.device, config, [*moved, *warnings], graph)
        if config.warm_up:
            try:
                model.warm_up()
            except Exception as error:  # the trial run: a node this provider cannot run
                classified = classify_failure(error, path, what, model.provider, config)
                if model.provider != CPU and not isinstance(classified, OutOfMemoryError):
                    raise _TrialFailed(classified, str(error).splitlines()[0][:120] if str(error) else
                                       type(error).__name__) from None
                raise classified from None
    return model
