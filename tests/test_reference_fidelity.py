"""Issue 14: the neural adapters run as their reference implementations do (FaceFusion,
LivePortrait, FasterLivePortrait), checked with stand-ins that would fail if an input were
swapped, and the session factory's decisions (CUDA graphs, failures, trial runs, precision)."""

from __future__ import annotations

import dataclasses
import logging

import cv2
import numpy as np
import pytest

from realtime.animate.liveportrait import DRIVING_CROP, SOURCE_CROP, LivePortraitAnimator, crop_matrix
from realtime.faces.source import SourceLibrary
from realtime.frame import Frame
from realtime.inference import session as session_module
from realtime.inference import standins
from realtime.inference.errors import (
    ModelCorruptError,
    ModelMismatchError,
    OptionRefusedError,
    OutOfMemoryError,
    ProviderFailedError,
)
from realtime.inference.manifest import load_manifest
from realtime.inference.session import (
    CPU,
    CUDA,
    SessionConfig,
    classify_failure,
    create_session,
    cudnn_search,
    graph_allowed,
    plan_providers,
    tensorrt_options,
)
from realtime.inference.store import ModelStore
from realtime.settings import Settings

pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def source():
    library = SourceLibrary()
    yield library.get(None)
    library.close()


def _store(folder, **kwargs):
    real = load_manifest()
    paths = standins.liveportrait_set(folder, **kwargs)
    return ModelStore(folder, {name: dataclasses.replace(real[name], sha256=None, size=None)
                               for name in paths})


def _horizontal_shift(a: np.ndarray, b: np.ndarray, margin: int) -> int:
    """The dx (pixels) that best maps `a` onto `b` (b[x + dx] ~ a[x])."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    errors = {dx: np.abs(a[:, margin:-margin] - b[:, margin + dx:b.shape[1] - margin + dx]).mean()
              for dx in range(-margin + 1, margin)}
    return min(errors, key=errors.get)


# -- 1: stitcher and generator get source = driven keypoints, target = the portrait's ----------
def test_portrait_moves_the_way_the_driver_moves(tmp_path, source):
    animator = LivePortraitAnimator(Settings(), store=_store(tmp_path))
    animator.set_source(source)
    image, face = source.image, source.face
    reference = animator.animate(Frame(0, image, 0), [face])
    # the driver's face moves 24 px to the right inside an unchanged face crop
    moved_driver = cv2.warpAffine(image, np.float32([[1, 0, 24], [0, 1, 0]]), image.shape[1::-1],
                                  borderMode=cv2.BORDER_REPLICATE)
    moved = animator.animate(Frame(1, moved_driver, 0), [face])
    x0, y0, x1, y1 = face.box
    gray = lambda im: cv2.cvtColor(im[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)  # noqa: E731
    # with the inputs swapped the stand-ins move the portrait the other way (or not at all)
    assert _horizontal_shift(gray(reference), gray(moved), 30) >= 10


def test_stitcher_standin_reveals_its_input_order(tmp_path):
    paths = standins.liveportrait_set(tmp_path)
    stitcher = create_session(paths["liveportrait_stitcher"], SessionConfig(device="cpu"))
    driven, portrait = np.ones((1, 21, 3), np.float32), np.zeros((1, 21, 3), np.float32)
    (out,) = stitcher.run({"source": driven, "target": portrait})
    np.testing.assert_allclose(out, 0.9, atol=1e-6)  # follows `source`


# -- 11: the LivePortrait crop of crop_config.py, rolled upright --------------------------------
def test_liveportrait_crop_is_the_references_and_upright(source):
    landmarks = source.face.landmarks.copy()
    centre = landmarks[:, :2].mean(axis=0)
    turn = cv2.getRotationMatrix2D(tuple(map(float, centre)), 25, 1.0)
    rolled = landmarks.copy()
    rolled[:, :2] = cv2.transform(landmarks[None, :, :2].astype(np.float64), turn)[0]
    for points in (landmarks, rolled):
        matrix = crop_matrix(points, SOURCE_CROP)
        inside = cv2.transform(points[None, :, :2].astype(np.float64), matrix.astype(np.float64))[0]
        eyes = inside[[33, 263]]
        # eyes level in the crop whatever the roll of the head
        assert abs(eyes[1, 1] - eyes[0, 1]) < 0.02 * abs(eyes[1, 0] - eyes[0, 0])
    # scale 2.3 (portrait) is a looser crop than 2.2 (driving): the face is smaller in it
    span = lambda m: np.ptp(cv2.transform(landmarks[None, :, :2].astype(np.float64), m.astype(np.float64))[0][:, 0])  # noqa: E731
    ratio = span(crop_matrix(landmarks, DRIVING_CROP)) / span(crop_matrix(landmarks, SOURCE_CROP))
    assert ratio == pytest.approx(2.3 / 2.2, rel=1e-3)


# -- 5: outputs by position; unverified names warn, element counts are checked ---------------------
def test_motion_outputs_read_by_position_with_other_names(tmp_path, source, caplog):
    names = tuple(f"{i}" for i in range(7))  # an export with numbered outputs
    with caplog.at_level(logging.WARNING):
        animator = LivePortraitAnimator(Settings(), store=_store(tmp_path, motion_names=names))
    assert "used by position" in caplog.text
    animator.set_source(source)
    out = animator.animate(Frame(0, source.image, 0), [source.face])
    assert out.shape == source.image.shape


def test_unverified_io_rejects_a_different_element_count():
    spec = load_manifest()["liveportrait_stitcher"]
    assert not spec.io_verified
    assert spec.check_io({"source": (1, 21, 3), "target": (1, 21, 3)}, {"out": (1, 63)})  # a warning
    with pytest.raises(ModelMismatchError, match="elements"):
        spec.check_io({"source": (1, 21, 3), "target": (1, 21, 3)}, {"output": (1, 20, 3)})


# -- 2: a CUDA graph only for static-shape models ------------------------------------------------
def test_cuda_graph_never_offered_to_dynamic_shape_models(tmp_path):
    dynamic = standins.recogniser(tmp_path / "w600k.onnx")  # batch "N"
    static = standins.identity_swapper(tmp_path / "swap.onnx", batch=1)
    assert not graph_allowed(dynamic) and graph_allowed(static)
    config = SessionConfig(cuda_graph=True)
    plan = dict(plan_providers("cuda", [CUDA, CPU], config, tmp_path, False, cuda_graph=graph_allowed(dynamic)))
    assert plan[CUDA]["enable_cuda_graph"] == "0"
    plan = dict(plan_providers("cuda", [CUDA, CPU], config, tmp_path, False, cuda_graph=graph_allowed(static)))
    assert plan[CUDA]["enable_cuda_graph"] == "1"


def test_dynamic_model_under_graph_option_follows_its_input(tmp_path):
    session = create_session(standins.recogniser(tmp_path / "w600k.onnx"), SessionConfig(cuda_graph=True))
    assert not session.cuda_graph
    rng = np.random.default_rng(0)
    first = session.run({"input.1": rng.random((1, 3, 112, 112), dtype=np.float32)})[0]
    second = session.run({"input.1": rng.random((2, 3, 112, 112), dtype=np.float32)})[0]
    assert second.shape == (2, 512) and not np.allclose(first[0], second[0])


# -- 4: a tensor kept on the device is bound, never turned into an object array ---------------------
def test_graph_buffers_take_an_ortvalue_feed(tmp_path):
    session = create_session(standins.identity_swapper(tmp_path / "swap.onnx"), SessionConfig(device="cpu"))
    session.cuda_graph = True  # the fixed-buffer path, on this machine's CPU buffers
    session._bind_graph_buffers()
    rng = np.random.default_rng(1)
    latent = np.zeros((1, 512), np.float32)
    for _ in range(2):
        target = rng.random((1, 3, 128, 128), dtype=np.float32)
        kept = session.to_device(target)
        np.testing.assert_array_equal(session.run({"target": kept, "source": latent})[0], target)
        np.testing.assert_array_equal(session.run({"target": kept, "source": latent})[0], target)


# -- 3: session failures classified ----------------------------------------------------------------
def _unsupported_op_model(path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Frobnicate", ["x"], ["y"], domain="com.example")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20),
                                                    helper.make_opsetid("com.example", 1)])
    model.ir_version = 9
    onnx.save(model, str(path))
    return path


def test_a_load_failure_that_is_not_corruption_says_so(tmp_path):
    path = _unsupported_op_model(tmp_path / "custom.onnx")
    with pytest.raises(ProviderFailedError) as raised:
        create_session(path, SessionConfig(device="cpu"))
    assert "fetch it again" not in str(raised.value) and "will not help" in str(raised.value)


def test_failures_get_their_own_advice(tmp_path):
    path, config = tmp_path / "m.onnx", SessionConfig(cuda_graph=True)
    oom = classify_failure(RuntimeError("CUDA failure 2: out of memory"), path, "swapper", CUDA, config)
    assert isinstance(oom, OutOfMemoryError) and "fetch" not in str(oom)
    graph = classify_failure(RuntimeError("CUDA graph capture failed: operation not permitted"), path,
                             "swapper", CUDA, config)
    assert isinstance(graph, OptionRefusedError) and "cuda_graph=false" in str(graph)
    trt = classify_failure(RuntimeError("TensorRT EP failed to create engine from network"), path,
                           "swapper", "TensorrtExecutionProvider", config)
    assert isinstance(trt, ProviderFailedError) and "fetch" not in str(trt)
    corrupt = classify_failure(RuntimeError("[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : Load model "
                                            "failed: Protobuf parsing failed."), path, "swapper", CPU, config)
    assert isinstance(corrupt, ModelCorruptError)


# -- 6: a trial run decides the provider ----------------------------------------------------------
def test_trial_run_moves_a_model_the_provider_cannot_run(tmp_path, monkeypatch, caplog):
    """CPU-only machine: the decision logic, with the CUDA build step failing as ONNX Runtime's
    5-D GridSample does on CUDA (FasterLivePortrait#36)."""
    import onnxruntime

    path = standins.liveportrait_set(tmp_path)["liveportrait_generator"]
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: [CUDA, CPU])
    real_build = session_module._build
    attempts = []

    def build(ort, path, what, config, plan, *rest):
        attempts.append(plan[0][0])
        if plan[0][0] == CUDA:
            raise session_module._TrialFailed(ProviderFailedError("x"), "Only 4-D tensor is supported")
        return real_build(ort, path, what, config, plan, *rest)

    monkeypatch.setattr(session_module, "_build", build)
    with caplog.at_level(logging.WARNING):
        model = create_session(path, SessionConfig(device="auto"), name="generator")
    assert attempts == [CUDA, CPU] and model.provider == CPU
    line = f"generator: {CUDA} cannot run this model (Only 4-D tensor is supported); running it on {CPU} instead"
    assert line in caplog.text and line in model.warnings


# -- 7: precision per model; 11: cuDNN search as FaceFusion chooses -------------------------------
def test_precision_per_model_motion_extractor_fp32(tmp_path):
    specs = load_manifest()
    assert specs["liveportrait_motion_extractor"].precision == "fp32"
    assert specs["liveportrait_generator"].precision == "fp16"
    assert tensorrt_options(SessionConfig(), tmp_path, "fp32")["trt_fp16_enable"] == "False"
    assert tensorrt_options(SessionConfig(), tmp_path, "fp16")["trt_fp16_enable"] == "True"


def test_cudnn_search_default_only_on_gtx16():
    assert cudnn_search(["NVIDIA GeForce GTX 1650"]) == "DEFAULT"
    assert cudnn_search(["GeForce GTX 1660 SUPER"]) == "DEFAULT"
    assert cudnn_search(["NVIDIA H200"]) == "EXHAUSTIVE"
    assert cudnn_search([]) == "EXHAUSTIVE"


# -- 8, 9: the GPU extras and doctor's TensorRT libraries -----------------------------------------
def test_gpu_extras_bring_cuda_and_the_tensorrt_major_onnxruntime_links():
    import tomllib
    from pathlib import Path

    extras = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert any(dep.startswith("onnxruntime-gpu[cuda,cudnn]") for dep in extras["gpu"])
    (trt,) = [dep for dep in extras["tensorrt"] if dep.startswith("tensorrt-cu13")]
    assert "<11" in trt  # libnvinfer.so.10: TensorRT 10.x


def test_doctor_checks_both_tensorrt_libraries():
    from realtime.doctor import OK, WARN, check_tensorrt_libraries

    def load(name):
        if "nvonnxparser" in name:
            raise OSError(name)

    checks = check_tensorrt_libraries(["TensorrtExecutionProvider", CPU], load=load, folders=[])
    assert [(c.name, c.status) for c in checks] == [("libnvinfer.so.10", OK), ("libnvonnxparser.so.10", WARN)]
    assert "tensorrt" in checks[1].detail
    assert check_tensorrt_libraries([CPU], load=load, folders=[]) == []


# -- 10: GFPGAN gets the 512 FFHQ crop of the frame after the swap is pasted ------------------------
def _swap_store(folder, **swapper):
    real = load_manifest()
    files = {"inswapper_128": standins.identity_swapper(folder / "inswapper_128.onnx", **swapper),
             "w600k_r50": standins.recogniser(folder / "w600k_r50.onnx"),
             "gfpgan_1_4": standins.enhancer(folder / "gfpgan_1.4.onnx", lift=0.0)}
    return ModelStore(folder, {name: dataclasses.replace(real[name], sha256=None, size=None) for name in files})


def test_enhancer_input_is_the_ffhq_crop_of_the_pasted_frame(tmp_path, source):
    from realtime.faces.topology import five_points
    from realtime.inference.align import FFHQ_UNIT, similarity_matrix
    from realtime.swap.inswapper import InswapperSwapper
    from tests.conftest import psnr

    swapper = InswapperSwapper(Settings().replace(enhancer="gfpgan"), store=_swap_store(tmp_path))
    swapper.set_source(source)
    seen = []
    session = swapper.enhancer.session
    original_run = session.run
    session.run = lambda feeds, **kw: seen.append(next(iter(feeds.values()))) or original_run(feeds, **kw)
    swapper.swap(Frame(0, source.image, 0), [source.face])
    (blob,) = seen
    given = ((blob[0].transpose(1, 2, 0)[:, :, ::-1] + 1.0) * 127.5).clip(0, 255).astype(np.uint8)
    # the identity swap pastes the face back unchanged: the input must be the frame's own crop,
    # hair, forehead and jaw included (not the 128 px crop upscaled with a smeared border)
    to_ffhq = similarity_matrix(five_points(source.face.landmarks), FFHQ_UNIT * 512)
    expected = cv2.warpAffine(source.image, to_ffhq, (512, 512), flags=cv2.INTER_CUBIC,
                              borderMode=cv2.BORDER_REPLICATE)
    assert psnr(given, expected) >= 30.0


# -- 11: a dynamic-batch swapper gets one source row per face; the wrong mirror is gone ------------
def test_dynamic_batch_swapper_gets_the_source_tiled(tmp_path, source):
    from realtime.swap.inswapper import InswapperSwapper

    swapper = InswapperSwapper(Settings(), store=_swap_store(tmp_path, batch="N", source_batch="N"))
    swapper.set_source(source)
    image, face = source.image, source.face
    frame = np.ascontiguousarray(np.hstack([image, image]))
    other = dataclasses.replace(face, landmarks=face.landmarks + np.float32([image.shape[1], 0, 0]),
                                box=(face.box[0] + image.shape[1], face.box[1], face.box[2] + image.shape[1],
                                     face.box[3]), track_id=1)
    assert swapper.batched
    assert len(swapper.swap(Frame(0, frame, 0), [face, other])) == 2


def test_inswapper_urls_serve_the_pinned_bytes_only():
    spec = load_manifest()["inswapper_128"]
    assert spec.sha256.startswith("e4a3f0")
    assert "https://github.com/facefusion/facefusion-assets/releases/download/models/inswapper_128.onnx" \
        not in spec.urls
