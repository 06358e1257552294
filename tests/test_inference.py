"""The session factory: provider plans and options, what really runs, IO binding, errors."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from realtime.inference import standins
from realtime.inference.errors import DeviceError, ModelCorruptError, ModelMismatchError
from realtime.inference.manifest import load_manifest
from realtime.inference.session import (
    CPU,
    CUDA,
    TENSORRT,
    SessionConfig,
    check_providers,
    create_session,
    cuda_options,
    engine_cache_dir,
    plan_providers,
    tensorrt_options,
)

ALL = [TENSORRT, CUDA, CPU]


def test_tensorrt_options_fp16_caches_and_builder_level(tmp_path):
    cache = engine_cache_dir(tmp_path / ".cache", "1.32.0")
    assert cache == tmp_path / ".cache" / "1.32.0" / "tensorrt"
    options = tensorrt_options(SessionConfig(trt_builder_level=5), cache)
    assert options["trt_fp16_enable"] == "True"
    assert options["trt_engine_cache_enable"] == "True" and options["trt_engine_cache_path"] == str(cache)
    assert options["trt_timing_cache_enable"] == "True" and options["trt_timing_cache_path"] == str(cache)
    assert options["trt_builder_optimization_level"] == "5"
    assert all(isinstance(v, str) for v in options.values())  # ORT's Python API wants strings


def test_cuda_options_graph_switch():
    assert cuda_options(SessionConfig())["enable_cuda_graph"] == "0"
    assert cuda_options(SessionConfig(cuda_graph=True))["enable_cuda_graph"] == "1"
    assert cuda_options(SessionConfig(device_id=1))["device_id"] == "1"


def test_plans_per_device(tmp_path):
    config = SessionConfig()
    names = lambda plan: [p for p, _ in plan]  # noqa: E731
    assert names(plan_providers("cpu", ALL, config, tmp_path, True)) == [CPU]
    assert names(plan_providers("cuda", ALL, config, tmp_path, True)) == [CUDA, CPU]
    assert names(plan_providers("tensorrt", ALL, config, tmp_path, True)) == [TENSORRT, CUDA, CPU]
    assert names(plan_providers("auto", ALL, config, tmp_path, True)) == [TENSORRT, CUDA, CPU]
    # auto skips TensorRT when its libraries are absent, and GPU providers on a CPU build
    assert names(plan_providers("auto", ALL, config, tmp_path, False)) == [CUDA, CPU]
    assert names(plan_providers("auto", [CPU], config, tmp_path, False)) == [CPU]


def test_explicit_device_missing_is_an_error(tmp_path):
    with pytest.raises(DeviceError, match="onnxruntime-gpu"):
        plan_providers("cuda", [CPU], SessionConfig(), tmp_path, False)
    with pytest.raises(DeviceError, match="libnvinfer"):
        plan_providers("tensorrt", ALL, SessionConfig(), tmp_path, False)


def test_fallback_is_never_silent(caplog):
    with caplog.at_level(logging.WARNING):
        warnings = check_providers("auto", [CUDA, CPU], [CPU], "swapper")
    assert warnings == [f"swapper: {CUDA} did not load, running on {CPU}"]
    assert warnings[0] in caplog.text
    with pytest.raises(DeviceError, match="--device cuda"):
        check_providers("cuda", [CUDA, CPU], [CPU], "swapper")
    assert check_providers("cuda", [CUDA, CPU], [CUDA, CPU], "swapper") == []


@pytest.mark.parametrize("io_binding", [False, True])
def test_session_runs_and_reports_providers(tmp_path, io_binding):
    path = standins.identity_swapper(tmp_path / "swap.onnx", batch="N")
    session = create_session(path, SessionConfig(device="cpu", io_binding=io_binding))
    assert session.providers == [CPU] and session.provider == CPU
    target = np.random.default_rng(0).random((2, 3, 128, 128), dtype=np.float32)
    (output,) = session.run({"target": target, "source": np.zeros((1, 512), np.float32)})
    np.testing.assert_array_equal(output, target)
    # an input kept as an OrtValue (on the session's device) is accepted too
    kept = session.to_device(target)
    np.testing.assert_array_equal(session.run({"target": kept, "source": np.zeros((1, 512), np.float32)})[0],
                                  target)


def test_auto_on_cpu_build_runs_on_cpu_without_warning(tmp_path, caplog):
    path = standins.identity_swapper(tmp_path / "swap.onnx")
    with caplog.at_level(logging.WARNING):
        session = create_session(path, SessionConfig(device="auto", cache_root=tmp_path / ".cache"))
    import onnxruntime

    if CUDA not in onnxruntime.get_available_providers():
        assert session.providers == [CPU] and "did not load" not in caplog.text


def test_corrupt_model_file_says_verify(tmp_path):
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ModelCorruptError, match="facecam models verify"):
        create_session(path, SessionConfig(device="cpu"))


def test_manifest_io_check_names_the_difference(tmp_path):
    spec = load_manifest()["inswapper_128"]
    path = standins.identity_swapper(tmp_path / "swap.onnx")
    session = create_session(path, SessionConfig(device="cpu", warm_up=False))
    spec.check_io({t.name: t.shape for t in session.inputs}, {t.name: t.shape for t in session.outputs})
    with pytest.raises(ModelMismatchError, match="'source'"):
        spec.check_io({"target": (1, 3, 128, 128)}, {"output": (1, 3, 128, 128)})
    with pytest.raises(ModelMismatchError, match="shape"):
        spec.check_io({"target": (1, 3, 256, 256), "source": (1, 512)}, {"output": (1, 3, 128, 128)})


def test_five_d_gridsample_runs_on_this_onnxruntime_cpu(tmp_path):
    """The claim the README makes for LivePortrait's generator: 5-D GridSample (opset 20) on CPU."""
    paths = standins.liveportrait_set(tmp_path)
    session = create_session(paths["liveportrait_generator"], SessionConfig(device="cpu"))
    volume = np.random.default_rng(0).random((1, 32, 16, 64, 64), dtype=np.float32)
    points = np.zeros((1, 21, 3), np.float32)
    (image,) = session.run({"feature_volume": volume, "source": points, "target": points})
    assert image.shape == (1, 3, 512, 512) and np.isfinite(image).all()


def test_heavy_standin_has_inswapper_interface(tmp_path):
    path = standins.heavy_swapper(tmp_path / "heavy.onnx", width=32, blocks=2)
    session = create_session(path, SessionConfig(device="cpu"))
    (out,) = session.run({"target": np.zeros((1, 3, 128, 128), np.float32),
                          "source": np.zeros((1, 512), np.float32)})
    assert out.shape == (1, 3, 128, 128)
    assert Path(path).stat().st_size > 0 and standins.parameter_count(path) > 512 * 512


def test_gpu_benchmark_script_smoke_on_cpu(tmp_path):
    """The script the GPU run will use: on CPU with a tiny stand-in, every case must report."""
    import json

    from benchmarks import gpu_inference

    out = tmp_path / "gpu.json"
    assert gpu_inference.main(["--devices", "cpu", "--quick", "--workdir", str(tmp_path / "w"),
                               "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["models"] and not [row for row in results["models"] if "error" in row]
    assert {row["mode"] for row in results["models"]} == {"numpy", "iobinding"}
    assert all(row["matches_plain"] for row in results["models"])  # outputs follow new inputs
    assert results["pipeline"][0]["frames"] == 3 and not results["pipeline"][0]["errors"]
    assert results["gridsample"][0]["gridsample_providers"] == [CPU]
