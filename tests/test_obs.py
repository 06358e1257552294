"""Creating the overlay's Browser Source through obs-websocket v5, against a fake OBS that speaks
the protocol (Hello, Identify with the password challenge, Request/RequestResponse) on 127.0.0.1."""

from __future__ import annotations

import json
import threading

import pytest

from realtime.errors import OutputError
from realtime.output.obs import INPUT_NAME, add_browser_source, auth_string


class FakeObs:
    def __init__(self, password: str | None = None, existing: bool = False) -> None:
        from websockets.sync.server import serve

        self.password = password
        self.inputs: dict[str, dict] = {INPUT_NAME: {"inputKind": "browser_source", "inputSettings": {}}} \
            if existing else {}
        self.requests: list[str] = []
        self.server = serve(self.handle, "127.0.0.1", 0)
        self.port = self.server.socket.getsockname()[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def handle(self, socket) -> None:
        hello: dict = {"obsWebSocketVersion": "5.5.0", "rpcVersion": 1}
        if self.password:
            hello["authentication"] = {"challenge": "c2hhbGxlbmdl", "salt": "c2FsdA=="}
        socket.send(json.dumps({"op": 0, "d": hello}))
        identify = json.loads(socket.recv())
        assert identify["op"] == 1
        if self.password and identify["d"].get("authentication") != auth_string(self.password, "c2FsdA==",
                                                                                 "c2hhbGxlbmdl"):
            socket.close(4009, "Authentication failed.")
            return
        socket.send(json.dumps({"op": 2, "d": {"negotiatedRpcVersion": 1}}))
        for message in socket:
            request = json.loads(message)["d"]
            kind, data = request["requestType"], request.get("requestData", {})
            self.requests.append(kind)
            status, response = {"result": True, "code": 100}, {}
            if kind == "GetCurrentProgramScene":
                response = {"currentProgramSceneName": "Stream"}
            elif kind == "GetInputSettings":
                if data["inputName"] in self.inputs:
                    response = self.inputs[data["inputName"]]
                else:
                    status = {"result": False, "code": 600, "comment": "No source was found"}
            elif kind == "CreateInput":
                self.inputs[data["inputName"]] = {"inputKind": data["inputKind"], "scene": data["sceneName"],
                                                  "inputSettings": data["inputSettings"]}
            elif kind == "SetInputSettings":
                self.inputs[data["inputName"]]["inputSettings"] = data["inputSettings"]
            socket.send(json.dumps({"op": 7, "d": {"requestType": kind, "requestId": request["requestId"],
                                                   "requestStatus": status, "responseData": response}}))

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def obs():
    servers = []

    def make(**options) -> FakeObs:
        servers.append(FakeObs(**options))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def test_creates_the_browser_source_in_the_current_scene(obs):
    fake = obs(password="hunter2")
    line = add_browser_source(fake.url, "http://127.0.0.1:8765/", 1280, 720, password="hunter2")
    assert "Stream" in line
    created = fake.inputs[INPUT_NAME]
    assert created["inputKind"] == "browser_source" and created["scene"] == "Stream"
    assert created["inputSettings"]["url"] == "http://127.0.0.1:8765/"
    assert (created["inputSettings"]["width"], created["inputSettings"]["height"]) == (1280, 720)


def test_an_existing_source_is_pointed_at_the_new_url(obs):
    fake = obs(existing=True)
    add_browser_source(fake.url, "http://127.0.0.1:9000/", 640, 360, password="")
    assert "CreateInput" not in fake.requests
    assert fake.inputs[INPUT_NAME]["inputSettings"]["url"] == "http://127.0.0.1:9000/"


def test_wrong_or_missing_password_and_no_obs_are_one_clear_line(obs, monkeypatch):
    fake = obs(password="hunter2")
    monkeypatch.delenv("OBS_WEBSOCKET_PASSWORD", raising=False)
    with pytest.raises(OutputError, match="OBS_WEBSOCKET_PASSWORD"):
        add_browser_source(fake.url, "http://x/", 640, 360)
    with pytest.raises(OutputError, match="refused the websocket password"):
        add_browser_source(fake.url, "http://x/", 640, 360, password="wrong")
    fake.close()
    with pytest.raises(OutputError, match="cannot reach OBS"):
        add_browser_source(fake.url, "http://x/", 640, 360, password="hunter2", timeout=2)
    assert INPUT_NAME not in fake.inputs


def test_overlay_output_adds_itself_to_obs(obs, monkeypatch):
    from realtime.engine import Engine
    from realtime.settings import Settings
    from tests.test_overlay import free_port

    fake = obs(password="pw")
    monkeypatch.setenv("OBS_WEBSOCKET_PASSWORD", "pw")
    port = free_port()
    settings = Settings().replace(input="demo", size=(320, 180), outputs=("overlay",), overlay_port=port,
                                  overlay_obs=fake.url)
    engine = Engine(settings).start()
    try:
        assert fake.inputs[INPUT_NAME]["inputSettings"]["url"] == f"http://127.0.0.1:{port}/"
        assert fake.inputs[INPUT_NAME]["inputSettings"]["width"] == 320
    finally:
        engine.stop()
