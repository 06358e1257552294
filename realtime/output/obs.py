"""Create the overlay's Browser Source in a running OBS through obs-websocket (protocol v5, built
into OBS 28 and later): `--set overlay_obs=ws://127.0.0.1:4455`, the password (if OBS asks for one)
in the environment variable OBS_WEBSOCKET_PASSWORD, never in a settings file.

Protocol: obsproject/obs-websocket docs/generated/protocol.md — Hello (op 0) -> Identify (op 1,
with `authentication` = base64(sha256(base64(sha256(password + salt)) + challenge)) when Hello
carries an `authentication` challenge) -> Identified (op 2) -> Request (op 6) / RequestResponse
(op 7). Requests used: GetCurrentProgramScene, GetInputSettings (is it there already?),
CreateInput (inputKind "browser_source") or SetInputSettings to point an existing one at the URL.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import uuid

from realtime.errors import OutputError

log = logging.getLogger(__name__)

INPUT_NAME = "facecam overlay"
RPC_VERSION = 1


def auth_string(password: str, salt: str, challenge: str) -> str:
    secret = base64.b64encode(hashlib.sha256((password + salt).encode()).digest()).decode()
    return base64.b64encode(hashlib.sha256((secret + challenge).encode()).digest()).decode()


def add_browser_source(obs_url: str, page_url: str, width: int, height: int, *,
                       password: str | None = None, timeout: float = 5.0) -> str:
    """Create (or update) the 'facecam overlay' Browser Source in OBS's current scene; returns a
    line saying what was done. Raises OutputError with one clear line when OBS cannot be reached."""
    from websockets.exceptions import ConnectionClosed, WebSocketException
    from websockets.sync.client import connect
    from websockets.typing import Subprotocol

    password = password if password is not None else os.environ.get("OBS_WEBSOCKET_PASSWORD")
    try:
        with connect(obs_url, open_timeout=timeout, subprotocols=[Subprotocol("obswebsocket.json")]) as socket:
            hello = json.loads(socket.recv(timeout))
            if hello.get("op") != 0:
                raise OutputError(f"{obs_url} is not obs-websocket (no Hello)")
            identify: dict = {"rpcVersion": RPC_VERSION, "eventSubscriptions": 0}
            challenge = hello.get("d", {}).get("authentication")
            if challenge:
                if not password:
                    raise OutputError("OBS asks for its websocket password: set OBS_WEBSOCKET_PASSWORD")
                identify["authentication"] = auth_string(password, challenge["salt"], challenge["challenge"])
            socket.send(json.dumps({"op": 1, "d": identify}))
            identified = json.loads(socket.recv(timeout))
            if identified.get("op") != 2:
                raise OutputError("OBS refused the connection (wrong password?)")

            def request(kind: str, data: dict | None = None) -> dict:
                request_id = uuid.uuid4().hex
                socket.send(json.dumps({"op": 6, "d": {"requestType": kind, "requestId": request_id,
                                                       "requestData": data or {}}}))
                while True:
                    reply = json.loads(socket.recv(timeout))
                    if reply.get("op") == 7 and reply["d"].get("requestId") == request_id:
                        return reply["d"]

            settings = {"url": page_url, "width": int(width), "height": int(height),
                        "reroute_audio": False, "shutdown": False}
            existing = request("GetInputSettings", {"inputName": INPUT_NAME})
            if existing.get("requestStatus", {}).get("result"):
                request("SetInputSettings", {"inputName": INPUT_NAME, "inputSettings": settings})
                return f"OBS: '{INPUT_NAME}' now shows {page_url}"
            scene = request("GetCurrentProgramScene")
            scene_name = scene.get("responseData", {}).get("currentProgramSceneName")
            if not scene_name:
                raise OutputError("OBS did not say which scene is current")
            created = request("CreateInput", {"sceneName": scene_name, "inputName": INPUT_NAME,
                                              "inputKind": "browser_source", "inputSettings": settings,
                                              "sceneItemEnabled": True})
            status = created.get("requestStatus", {})
            if not status.get("result"):
                raise OutputError(f"OBS could not create the Browser Source: {status.get('comment', 'no reason given')}")
            return f"OBS: added the Browser Source '{INPUT_NAME}' to scene '{scene_name}'"
    except OutputError:
        raise
    except ConnectionClosed as error:
        if error.rcvd is not None and error.rcvd.code == 4009:  # obs-websocket: AuthenticationFailed
            raise OutputError("OBS refused the websocket password (OBS_WEBSOCKET_PASSWORD)") from None
        raise OutputError(f"OBS closed the connection ({error})") from None
    except (OSError, TimeoutError, WebSocketException, ValueError) as error:
        raise OutputError(f"cannot reach OBS at {obs_url} ({error}); in OBS: Tools > WebSocket Server "
                          "Settings > Enable") from None
