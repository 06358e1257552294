"""The streaming overlay: a local web page with a transparent background for an OBS Browser Source.

Virtual cameras and WebRTC drop the alpha channel; a Browser Source keeps it on every OS that OBS
runs on, so this output serves one page (HTTP) and pushes frames to it (WebSocket), both from one
`websockets` server on 127.0.0.1. Another interface is served only when asked (`overlay_host`), and
then only to a URL that carries a random token.

What is opaque (`overlay_alpha`):
- `face`: the swapped face only, with the blend's own feathered mask (swap mode);
- `person`: the person cut out by MediaPipe's bundled selfie segmentation;
- `portrait`: animate mode's animated portrait cut out the same way (a live-portrait overlay);
- `frame`: everything (a plain picture source for OBS).
The provenance label stays opaque where it sits (its corner of the frame, see `label_box`) and the
invisible mark is in the pixels sent, so an overlay is as honest as any other output.

Wire format, chosen by measurement (`benchmarks/overlay.py`; 720p on this machine's CPU: WebP with
alpha 38-180 ms per frame, PNG with alpha 13 ms, one JPEG for the colour and one greyscale JPEG for
the alpha of only the regions that are opaque about 1 ms): one binary WebSocket message per frame =
uint32 (little-endian) header length, a JSON header, then for each region its colour JPEG and (when
it is not fully opaque) its alpha JPEG. The page puts the alpha into the colour's A channel.

Newest frame only, never a queue: `write` hands the finished frame to an encoder thread through a
one-frame slot (the engine never waits; an overtaken frame is dropped), and each viewer is sent the
newest encoded frame once it has taken the previous one, so a slow browser drops frames instead of
falling behind. Nothing is encoded while nobody watches.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import secrets
import struct
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib import resources
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

from realtime.errors import OutputError
from realtime.frame import Frame
from realtime.output import OutputFormat

log = logging.getLogger(__name__)

ALPHA_MODES = ("face", "person", "portrait", "frame")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
COLOUR_QUALITY = 85
ALPHA_QUALITY = 92

Box = tuple[int, int, int, int]


def label_box(settings, width: int, height: int) -> Box | None:
    """Where the visible label sits in a (width x height) picture, or None when it is off."""
    if settings is None or not settings.output.label:
        return None
    from realtime.provenance.label import Label

    x, y, w, h = Label(settings.provenance.label_text, settings.provenance.label_corner).box(width, height)
    return (x, y, x + w, y + h)


def merge_boxes(boxes: list[Box]) -> list[Box]:
    """Union boxes that overlap (the page writes regions with putImageData, which does not blend)."""
    merged: list[Box] = []
    for box in boxes:
        x0, y0, x1, y1 = box
        changed = True
        while changed:
            changed = False
            for other in list(merged):
                ox0, oy0, ox1, oy1 = other
                if x0 < ox1 and ox0 < x1 and y0 < oy1 and oy0 < y1:
                    merged.remove(other)
                    x0, y0, x1, y1 = min(x0, ox0), min(y0, oy0), max(x1, ox1), max(y1, oy1)
                    changed = True
        merged.append((x0, y0, x1, y1))
    return merged


@dataclass
class ViewerStats:
    """What the pages report back (once a second): frames painted and capture-to-paint latency."""

    painted: int = 0
    fps: float = 0.0
    latency_ms: list[float] = field(default_factory=list)


class PersonSegmenter:
    """MediaPipe's bundled selfie segmentation (ships in the mediapipe wheel; no download)."""

    def __init__(self) -> None:
        from realtime.faces.mediapipe_mesh import import_mediapipe

        mp = import_mediapipe()  # without sounddevice's start-up probing
        # model 1 (landscape, 144x256) is the cheaper one and is meant for video calls.
        self._model = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=1)

    def alpha(self, bgr: np.ndarray) -> np.ndarray:
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        mask = self._model.process(rgb).segmentation_mask
        return np.clip(mask * 255.0 + 0.5, 0, 255).astype(np.uint8)

    def close(self) -> None:
        self._model.close()


class OverlayOutput:
    """`-o overlay`: serve the overlay page and push every finished frame to its viewers."""

    name = "overlay"
    live = True

    def __init__(self, stream: OutputFormat, settings=None, *, host: str | None = None,
                 port: int | None = None) -> None:
        try:
            import websockets  # noqa: F401
        except ImportError:  # pragma: no cover - a dependency of the package
            raise OutputError("the overlay needs the 'websockets' package: pip install websockets") from None
        output_settings = settings.output if settings is not None else None
        self.host = host or (output_settings.overlay_host if output_settings else "127.0.0.1")
        wanted_port = port if port is not None else (output_settings.overlay_port if output_settings else 8765)
        self.alpha_mode = output_settings.overlay_alpha if output_settings else "face"
        self._settings = settings
        self._stream = stream
        # A page on another interface than loopback can be opened by anyone on the network: only
        # with a token that is printed to the user alone.
        self.token = None if self.host in LOOPBACK_HOSTS else secrets.token_urlsafe(16)
        self._page = resources.files("realtime.output").joinpath("overlay_page.html").read_text("utf-8")
        self._slot: Frame | None = None
        self._slot_lock = threading.Lock()
        self._slot_ready = threading.Event()
        self._closing = threading.Event()
        self._latest: tuple[int, bytes] | None = None
        self._viewers: set = set()
        self._viewer_stats: dict[int, ViewerStats] = {}
        self._segmenter: PersonSegmenter | None = None
        self._warned: set[str] = set()
        self.frames_encoded = 0
        self.frames_dropped = 0
        self.encode_ms: list[float] = []
        self._loop = asyncio.new_event_loop()
        self._changed: asyncio.Condition | None = None
        started = threading.Event()
        failure: list[BaseException] = []
        self._server_thread = threading.Thread(target=self._serve, args=(wanted_port, started, failure),
                                               name="overlay-server", daemon=True)
        self._server_thread.start()
        started.wait(10)
        if failure:
            raise OutputError(f"overlay: cannot listen on {self.host}:{wanted_port}: {failure[0]}")
        self._encoder = threading.Thread(target=self._encode_loop, name="overlay-encoder", daemon=True)
        self._encoder.start()
        log.warning("overlay: %s  (OBS: add a Browser Source with this URL, size %dx%d)",
                    self.url, *stream.size)
        obs_url = output_settings.overlay_obs if output_settings else None
        if obs_url:
            from realtime.output.obs import add_browser_source

            try:  # the page works without OBS's help: a failure here is a warning, not an error
                log.warning("%s", add_browser_source(obs_url, self.url, *stream.size))
            except OutputError as error:
                log.warning("overlay: %s", error)

    # -- the server ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = f"?token={self.token}" if self.token else ""
        return f"http://{host}:{self.port}/{query}"

    def _serve(self, port: int, started: threading.Event, failure: list[BaseException]) -> None:
        from websockets.asyncio.server import serve

        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            self._changed = asyncio.Condition()
            try:
                server = await serve(self._viewer, self.host, port, process_request=self._http,
                                     max_size=2 ** 16, compression=None)
            except OSError as error:
                failure.append(error)
                started.set()
                return
            self.port = server.sockets[0].getsockname()[1]
            started.set()
            async with server:
                while not self._closing.is_set():
                    await asyncio.sleep(0.1)
                server.close()
                await server.wait_closed()

        try:
            self._loop.run_until_complete(main())
        finally:
            self._loop.close()

    def _authorised(self, path: str) -> bool:
        if self.token is None:
            return True
        supplied = parse_qs(urlsplit(path).query).get("token", [""])[0]
        return secrets.compare_digest(supplied, self.token)

    def _http(self, connection, request):
        """Serve the page at / and let /ws upgrade; everything else is 404, a missing token 403."""
        path = urlsplit(request.path).path
        if not self._authorised(request.path):
            return connection.respond(HTTPStatus.FORBIDDEN, "this overlay needs the token in its URL\n")
        if path == "/ws":
            return None  # the WebSocket handshake goes on
        if path in ("/", "/index.html"):
            response = connection.respond(HTTPStatus.OK, self._page)
            response.headers["Content-Type"] = "text/html; charset=utf-8"
            response.headers["Cache-Control"] = "no-store"
            return response
        return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")

    async def _viewer(self, websocket) -> None:
        self._viewers.add(websocket)
        reader = asyncio.ensure_future(self._read_stats(websocket))
        sent = -1
        changed = self._changed
        if changed is None:  # the server loop made it before any page could connect
            raise RuntimeError("overlay viewer before the server started")
        try:
            while not self._closing.is_set():
                async with changed:
                    await changed.wait_for(functools.partial(self._has_news, sent))
                latest = self._latest
                if self._closing.is_set() or latest is None:
                    break
                sent, payload = latest
                # Awaiting the send is the back-pressure: frames published meanwhile overwrite
                # _latest, so a slow page skips them instead of queueing them.
                await websocket.send(payload)
        except Exception:  # a page that goes away ends its own loop only
            pass
        finally:
            reader.cancel()
            self._viewers.discard(websocket)

    def _has_news(self, last_sent: int) -> bool:
        return self._closing.is_set() or (self._latest is not None and self._latest[0] != last_sent)

    async def _read_stats(self, websocket) -> None:
        async for message in websocket:
            try:
                report = json.loads(message)
                stats = self._viewer_stats.setdefault(id(websocket), ViewerStats())
                stats.painted = int(report.get("painted", 0))
                stats.fps = float(report.get("fps", 0.0))
                stats.latency_ms.extend(float(v) for v in report.get("latency_ms", [])[-600:])
                del stats.latency_ms[:-5000]
            except (ValueError, TypeError, AttributeError):
                continue

    async def _publish(self, item: tuple[int, bytes]) -> None:
        self._latest = item
        if self._changed is None:  # not serving yet: nobody to tell
            return
        async with self._changed:
            self._changed.notify_all()

    @property
    def viewers(self) -> int:
        return len(self._viewers)

    def viewer_stats(self) -> list[ViewerStats]:
        return list(self._viewer_stats.values())

    # -- frames -------------------------------------------------------------------------------
    def configure(self, settings) -> None:
        """Called between frames when settings change (the alpha mode can change live)."""
        self._settings = settings
        self.alpha_mode = settings.output.overlay_alpha

    def write(self, frame: Frame) -> None:
        if not self._viewers:
            return
        with self._slot_lock:
            if self._slot is not None:
                self.frames_dropped += 1
            self._slot = frame
        self._slot_ready.set()

    def _encode_loop(self) -> None:
        while not self._closing.is_set():
            if not self._slot_ready.wait(0.2):
                continue
            with self._slot_lock:
                frame, self._slot = self._slot, None
                self._slot_ready.clear()
            if frame is None:
                continue
            try:
                started = time.perf_counter()
                payload = self.encode(frame)
                self.encode_ms.append((time.perf_counter() - started) * 1000)
                del self.encode_ms[:-2000]
                self.frames_encoded += 1
                publish = self._publish((frame.index, payload))
                try:
                    asyncio.run_coroutine_threadsafe(publish, self._loop)
                except RuntimeError:  # the server's loop has ended: facecam is closing the overlay
                    publish.close()
            except Exception as error:  # the engine never stops for a viewer
                self._warn_once("encode", f"overlay: a frame could not be encoded: {error}")

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning("%s", message)

    def alpha_regions(self, frame: Frame, picture: np.ndarray) -> tuple[list[Box], np.ndarray | None]:
        """The boxes to send and the alpha map (None: fully opaque) for the current mode."""
        height, width = picture.shape[:2]
        mode = self.alpha_mode
        settings = self._settings
        current_mode = getattr(settings, "mode", "swap")
        if mode == "portrait" and current_mode != "animate":
            self._warn_once("portrait", "overlay: 'portrait' cuts out an animated portrait (animate mode); "
                                        "in this mode it cuts out the person")
        if mode == "face" and current_mode == "animate":
            self._warn_once("face-animate", "overlay: 'face' shows swapped faces; in animate mode use "
                                            "'portrait' (showing the label only until then)")
        if mode == "frame":
            return [(0, 0, width, height)], None
        alpha = np.zeros((height, width), np.uint8)
        boxes: list[Box] = []
        if mode == "face":
            opacity = settings.blend.opacity if settings is not None else 1.0
            mirror = bool(settings.output.mirror) if settings is not None else False
            for layer in frame.layers:
                x0, y0, x1, y1 = layer.box
                layer_alpha = np.clip(layer.alpha * (255.0 * opacity) + 0.5, 0, 255).astype(np.uint8)
                if mirror:  # the output stage mirrored the picture after the blend
                    layer_alpha = layer_alpha[:, ::-1]
                    x0, x1 = width - x1, width - x0
                region = alpha[y0:y1, x0:x1]
                np.maximum(region, layer_alpha[: region.shape[0], : region.shape[1]], out=region)
                boxes.append((x0, y0, x1, y1))
        else:
            if self._segmenter is None:
                self._segmenter = PersonSegmenter()
            alpha = self._segmenter.alpha(picture)
            ys, xs = np.nonzero(alpha > 8)
            if len(xs):
                boxes.append((int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1))
        label = label_box(settings, width, height)
        if label is not None:
            x0, y0, x1, y1 = label
            alpha[y0:y1, x0:x1] = 255  # the label is never see-through
            boxes.append(label)
        return merge_boxes(boxes), alpha

    def encode(self, frame: Frame) -> bytes:
        picture = frame.output if frame.output is not None else frame.result
        height, width = picture.shape[:2]
        boxes, alpha = self.alpha_regions(frame, picture)
        regions = []
        blobs: list[bytes] = []
        for x0, y0, x1, y1 in boxes:
            if x1 <= x0 or y1 <= y0:
                continue
            ok, colour = cv2.imencode(".jpg", picture[y0:y1, x0:x1], [cv2.IMWRITE_JPEG_QUALITY, COLOUR_QUALITY])
            if not ok:
                raise OutputError("JPEG encoding failed")
            region = {"x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0, "colour": len(colour), "alpha": 0}
            blobs.append(colour.tobytes())
            if alpha is not None:
                ok, plane = cv2.imencode(".jpg", alpha[y0:y1, x0:x1], [cv2.IMWRITE_JPEG_QUALITY, ALPHA_QUALITY])
                if not ok:
                    raise OutputError("JPEG encoding failed")
                region["alpha"] = len(plane)
                blobs.append(plane.tobytes())
            regions.append(region)
        # Capture time on the wall clock, so the page (another process) can measure the latency.
        capture_ms = (time.time_ns() - (time.monotonic_ns() - frame.capture_ns)) / 1e6
        header = json.dumps({"seq": frame.index, "w": width, "h": height, "capture_ms": capture_ms,
                             "sent_ms": time.time_ns() / 1e6, "regions": regions}).encode()
        return struct.pack("<I", len(header)) + header + b"".join(blobs)

    def close(self) -> None:
        if self._closing.is_set():
            return
        self._closing.set()
        self._slot_ready.set()

        async def wake() -> None:
            if self._changed is not None:
                async with self._changed:
                    self._changed.notify_all()

        with contextlib.suppress(RuntimeError):  # the loop already ended
            asyncio.run_coroutine_threadsafe(wake(), self._loop)
        self._encoder.join(5)
        self._server_thread.join(5)
        if self._segmenter is not None:
            self._segmenter.close()
