"""One contract for every implementation of every stage kind (as aiortc runs every codec through
tests/codecs.py): start, a few frames, a settings change while running, close, no thread left.

Detectors, swappers and animators come from their registries, so an implementation registered
there is put through this harness with no edit here. Sources and outputs are chosen from the
`input` / `outputs` settings; every module of realtime/capture and realtime/output must be
exercised by a case below (or say why not), so a new one cannot skip the contract.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import cv2
import pytest

from realtime.engine import Engine
from realtime.settings import Settings, setting_names
from tests import fake_vcam
from tests.conftest import ROOT

SMALL = (320, 180)
FRAMES = 8


def _new_threads(before: set[threading.Thread], wait_s: float = 5.0) -> list[str]:
    """Threads started since `before` still alive after `wait_s` seconds."""
    deadline = time.monotonic() + wait_s
    while True:
        left = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def through_engine(settings: Settings, change: dict) -> Engine:
    """The harness: start, a few frames, `change` while running, the rest, close; no thread left."""
    before = set(threading.enumerate())
    engine = Engine(settings.replace(max_frames=FRAMES, live=False))
    engine.start()
    try:
        deadline = time.monotonic() + 120
        while engine.stats().frames_out < 3 and engine.running and time.monotonic() < deadline:
            time.sleep(0.02)
        engine.update(**change)
        assert engine.wait(120), "the run did not end"
    finally:
        engine.stop()
    assert engine.failure is None, engine.failure
    stats = engine.stats()
    assert stats.frames_out == FRAMES and not stats.errors, stats
    assert engine.settings.replace(**change) == engine.settings  # the change was taken
    left = _new_threads(before)
    assert not left, f"threads still alive: {left}"
    return engine


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """ONNX stand-ins under the real file names, with the project's catalogue (no download)."""
    pytest.importorskip("onnx")
    from realtime.inference import standins
    from realtime.inference.manifest import DEFAULT_MANIFEST

    folder = tmp_path_factory.mktemp("models")
    standins.identity_swapper(folder / "inswapper_128.onnx", batch="N")
    standins.recogniser(folder / "w600k_r50.onnx")
    standins.enhancer(folder / "gfpgan_1.4.onnx")
    standins.liveportrait_set(folder)
    if hasattr(standins, "dfm"):  # DeepFaceLab models (swapper 'dfm'), where this build has them
        standins.dfm(folder / "identity.dfm", resolution=224)
    text = DEFAULT_MANIFEST.read_text(encoding="utf-8")
    (folder / "manifest.toml").write_text("\n".join(
        line for line in text.splitlines() if not line.startswith(("sha256", "size"))), encoding="utf-8")
    return folder


def _base(models: Path, **changes) -> Settings:
    base = {"input": "demo", "size": SMALL, "outputs": ("null",), "device": "cpu",
            "models_dir": str(models)}
    return Settings().replace(**{**base, **changes})


# -- detectors ----------------------------------------------------------------------------------
def _detectors():
    from realtime.faces import DETECTORS

    return sorted(DETECTORS)


@pytest.mark.parametrize("name", _detectors())
def test_detector_contract(name):
    from realtime.capture.demo import DemoSource
    from realtime.faces import create_detector

    before = set(threading.enumerate())
    settings = Settings().replace(size=SMALL)
    source = DemoSource(settings.capture)
    detector = create_detector(settings, name=name)
    try:
        for index in range(4):
            faces = detector.detect(source.read().image)
            assert len(faces) == 1 and faces[0].landmarks.shape == (478, 3)
            if index == 1:  # a settings change while running: the whole Settings, as every stage
                detector.configure(settings.replace(max_faces=2, min_confidence=0.3))
    finally:
        detector.close()
        source.close()
    assert not _new_threads(before)


# -- swappers and animators (through the engine) ------------------------------------------------
def _registered(kind: str) -> list[str]:
    if kind == "swapper":
        from realtime.swap import SWAPPERS as table
    else:
        from realtime.animate import ANIMATORS as table
    return sorted(table)


# What an implementation needs besides its registered name (a model file of its own).
SWAPPER_NEEDS = {"dfm": lambda models: {"dfm_model": str(models / "identity.dfm")}}


@pytest.mark.parametrize("name", _registered("swapper"))
def test_swapper_contract(name, models):
    needs = SWAPPER_NEEDS.get(name, lambda models: {})(models)
    through_engine(_base(models, mode="swap", swapper=name, **needs), {"opacity": 0.6, "mouth_mask": True})


@pytest.mark.parametrize("name", _registered("animator"))
def test_animator_contract(name, models):
    through_engine(_base(models, mode="animate", animator=name), {"motion_strength": 0.5})


# -- capture sources and outputs -----------------------------------------------------------------
def _picture(path: Path) -> Path:
    from realtime.capture.builtin import demo_person

    cv2.imwrite(str(path), cv2.resize(demo_person(), SMALL))
    return path


def _video(path: Path, frames: int = FRAMES + 2) -> Path:
    import av

    from realtime.capture.builtin import demo_person

    picture = cv2.resize(demo_person(), SMALL)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = SMALL[0], SMALL[1], "yuv420p"
        for _ in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


SOURCE_CASES = {
    # module: the capture settings that open such a source (a function of a temporary folder)
    "realtime.capture.demo": lambda tmp: {"input": "demo"},
    "realtime.capture.image": lambda tmp: {"input": str(_picture(tmp / "p.png")), "loop": True},
    "realtime.capture.video": lambda tmp: {"input": str(_video(tmp / "v.mp4"))},
}
SOURCES_NOT_RUN = {
    "realtime.capture.camera": "needs a camera device; its faults are tested with a fake in test_camera",
    "realtime.capture.reconnect": "wraps a camera (test_camera)",
    "realtime.capture.builtin": "not a source: the built-in pictures the demo source uses",
}

OUTPUT_CASES = {
    "realtime.output.null": lambda tmp: "null",
    "realtime.output.recorder": lambda tmp: str(tmp / "out.mp4"),
    # A video source makes a numbered sequence (one picture would keep only the last frame).
    "realtime.output.picture": lambda tmp: str(tmp / "out-%05d.png"),
    "realtime.output.virtualcam": lambda tmp: "vcam",
    "realtime.output.window": lambda tmp: "window",
    "realtime.output.overlay": lambda tmp: "overlay",  # (branch issue15) when this build has it
}
OUTPUTS_NOT_RUN = {
    "realtime.output.stage": "not an output: the stage that feeds them",
    "realtime.output.obs": "not an output: adds the overlay page to OBS (tested against a fake server)",
    "realtime.output.paths": "not an output: the partial names and locks the file outputs write through",
}


def _modules(package: str) -> set[str]:
    folder = ROOT / package.replace(".", "/")
    return {f"{package}.{path.stem}" for path in folder.glob("*.py") if path.stem != "__init__"}


def test_every_source_and_output_module_has_a_contract_case():
    assert _modules("realtime.capture") - set(SOURCE_CASES) - set(SOURCES_NOT_RUN) == set()
    assert _modules("realtime.output") - set(OUTPUT_CASES) - set(OUTPUTS_NOT_RUN) == set()


@pytest.mark.parametrize("module", sorted(SOURCE_CASES))
def test_source_contract(module, models, tmp_path):
    engine = through_engine(_base(models, mode="passthrough", **SOURCE_CASES[module](tmp_path)),
                            {"mirror": True})
    assert type(engine.source).__module__ == module


@pytest.fixture
def fake_vcam_backend(monkeypatch):
    import pyvirtualcam.camera

    monkeypatch.setattr(pyvirtualcam.camera, "BACKENDS", {"facecam-fake": fake_vcam.FakeCameraBackend})
    return fake_vcam.FakeCameraBackend


@pytest.mark.parametrize("module", sorted(OUTPUT_CASES))
def test_output_contract(module, models, tmp_path, fake_vcam_backend):
    if module not in _modules("realtime.output"):
        pytest.skip(f"{module} is not in this build")
    spec = OUTPUT_CASES[module](tmp_path)
    if spec == "window" and not os.environ.get("DISPLAY"):
        pytest.skip("the OpenCV window needs a display")
    extra = {"overlay_port": 0} if "overlay_port" in setting_names() else {}  # any free port
    settings = _base(models, mode="passthrough", outputs=(spec,), vcam_backend="facecam-fake", **extra)
    engine = Engine(settings)  # the harness, watching which output class was opened
    before = set(threading.enumerate())
    engine.start()
    opened = [type(output).__module__ for output in engine.outputs]
    engine.stop()
    assert not _new_threads(before)
    assert opened == [module]
    through_engine(settings, {"label": False})
    if module == "realtime.output.recorder":
        assert Path(spec).stat().st_size > 1000
    if module == "realtime.output.picture":
        pictures = sorted(Path(spec).parent.glob("out-*.png"))
        assert pictures and all(p.stat().st_size > 1000 for p in pictures)
    if module == "realtime.output.virtualcam":
        assert fake_vcam_backend.instances[-1].closed and fake_vcam_backend.instances[-1].sent


def test_the_harness_notices_a_thread_left_behind():
    before = set(threading.enumerate())
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="left-behind", daemon=True)
    thread.start()
    try:
        assert _new_threads(before, wait_s=0.2) == ["left-behind"]
    finally:
        stop.set()
        thread.join()
    assert _new_threads(before, wait_s=0.2) == []
