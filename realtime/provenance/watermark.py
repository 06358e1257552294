"""The invisible mark: a keyed spread-spectrum pattern in the low frequencies of the luminance.

Embedding. A tile of TILE x TILE cells holds one value per cell: a keyed +-1 synchronisation
pattern plus the payload bits, each bit spread over ~25 keyed cells (spread-spectrum with
repetition). The tile is repeated over the frame with CELLS_PER_HEIGHT cells per frame height,
whatever the resolution, and rendered smoothly (bilinear between cell centres), so the mark lives
in the low frequencies that scaling and H.264 keep. The rendered pattern is computed once per
frame size and added to B, G and R alike (a pure luminance change) with two saturating uint8 ops.

Detection. The luminance is reduced to a small working map (WORK_PX pixels per nominal cell),
high-passed and clipped (image content is the noise: whitening it and taming its edges is most
of the gain), then for each candidate cell size (cropping changes the frame height the cell
size is derived from by up to ~11%) the map is sampled at half-cell spacing and folded modulo the
tile. A cyclic cross-correlation with the sync pattern finds the offset (cropping moves the
origin); its peak, as a z-score over all offsets, says whether the mark is there. The payload
bits are read at that offset and checked by a CRC-8. Maps of many frames are averaged before the
search, so a video is judged on seconds of footage, not one frame.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import cv2
import numpy as np

TILE = 32
"""Cells per tile side: the payload's spreading length is TILE*TILE/CODED_BITS cells per bit."""
CELLS_PER_HEIGHT = 64
"""Cells per frame height (a 720p cell is 11 px, a 240-px frame's cell 3.75 px): finer cells meet
less picture content (its spectrum falls with frequency), coarser ones survive more compression;
at 40 the 480-px test clips did not reach a usable z-score, at 64 they do after CRF 30 and 0.5x."""
WORK_PX = 4
"""Working-map pixels per nominal cell at detection."""
KEY = b"facecam-provenance-watermark-v1"
VERSION = 1
VERSION_BITS = 4
SESSION_BITS = 16
CRC_BITS = 8
CODED_BITS = VERSION_BITS + SESSION_BITS + CRC_BITS
TARGET_RMS = 2.3
"""Root-mean-square change per pixel and channel, in 8-bit levels: PSNR = 20 log10(255/2.3) = 40.9 dB."""
SYNC_SHARE = 0.45
"""Part of the pattern's energy spent on synchronisation; the rest carries the payload."""
SCALES = tuple(float(s) for s in np.geomspace(0.97, 1.14, 14))
"""Candidate ratios true cell / nominal cell: 1.0 for scaling alone, up to 1/0.9 for a 10% crop."""
Z_FOUND = 7.0
"""Sync z-score (best over every offset and scale) above which a map carries the mark. Unmarked
footage stays below ~5 (the maximum of ~60k nearly Gaussian correlations)."""
Z_FRAME = 4.0
"""z-score at an already known offset and scale (one test, no search) for one frame to count."""


def _rng(label: str) -> np.random.Generator:
    seed = int.from_bytes(hashlib.sha256(KEY + label.encode()).digest()[:8], "little")
    return np.random.default_rng(seed)


SYNC = _rng("sync").choice(np.array([-1.0, 1.0], dtype=np.float32), size=(TILE, TILE))
# Which coded bit each cell carries, and the keyed chip (+-1) that whitens it.
BIT_OF_CELL = (_rng("cells").permutation(TILE * TILE) % CODED_BITS).reshape(TILE, TILE)
CHIPS = _rng("chips").choice(np.array([-1.0, 1.0], dtype=np.float32), size=(TILE, TILE))


# -- payload -----------------------------------------------------------------------------------
def crc8(bits: np.ndarray) -> int:
    """CRC-8 (polynomial 0x07) over a bit sequence."""
    crc = 0
    for bit in bits:
        top = ((crc >> 7) & 1) ^ int(bit)
        crc = ((crc << 1) & 0xFF) ^ (0x07 if top else 0)
    return crc


def _int_bits(value: int, count: int) -> list[int]:
    return [(value >> (count - 1 - i)) & 1 for i in range(count)]


def encode_payload(session: int, version: int = VERSION) -> np.ndarray:
    """CODED_BITS bits: version, session id, CRC-8 of both."""
    if not 0 <= session < 1 << SESSION_BITS:
        raise ValueError(f"session id must fit in {SESSION_BITS} bits")
    data = _int_bits(version, VERSION_BITS) + _int_bits(session, SESSION_BITS)
    return np.array(data + _int_bits(crc8(np.array(data)), CRC_BITS), dtype=np.uint8)


def decode_payload(bits: np.ndarray) -> tuple[int, int] | None:
    """(version, session) when the CRC holds, else None."""
    bits = np.asarray(bits, dtype=np.uint8)
    data, check = bits[:-CRC_BITS], bits[-CRC_BITS:]
    if crc8(data) != int("".join(map(str, check)), 2):
        return None
    version = int("".join(map(str, data[:VERSION_BITS])), 2)
    session = int("".join(map(str, data[VERSION_BITS:])), 2)
    return version, session


def tile_pattern(session: int, version: int = VERSION) -> np.ndarray:
    """The TILE x TILE cell values (unit power) for one payload."""
    bits = encode_payload(session, version).astype(np.float32) * 2 - 1
    message = CHIPS * bits[BIT_OF_CELL]
    tile = math.sqrt(SYNC_SHARE) * SYNC + math.sqrt(1 - SYNC_SHARE) * message
    return tile.astype(np.float32)


def _render(tile: np.ndarray, width: int, height: int, cell: float,
            origin: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """The periodic tile drawn over width x height pixels, `cell` pixels per cell, bilinear
    between cell centres (float32)."""
    xs = ((np.arange(width, dtype=np.float64) + 0.5 - origin[0]) / cell - 0.5) % TILE
    ys = ((np.arange(height, dtype=np.float64) + 0.5 - origin[1]) / cell - 0.5) % TILE
    map_x = np.broadcast_to(xs.astype(np.float32)[None, :], (height, width))
    map_y = np.broadcast_to(ys.astype(np.float32)[:, None], (height, width))
    return cv2.remap(tile, np.ascontiguousarray(map_x), np.ascontiguousarray(map_y),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)


# -- embedding ---------------------------------------------------------------------------------
class Watermarker:
    """Adds the mark of one session to pictures of any size (patterns cached per size)."""

    def __init__(self, session: int, version: int = VERSION, rms: float = TARGET_RMS) -> None:
        self.session = session
        self.version = version
        self.rms = rms
        self._tile = tile_pattern(session, version)
        self._cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def delta(self, width: int, height: int) -> np.ndarray:
        """The signed integer change per pixel (int16, height x width)."""
        pattern = _render(self._tile, width, height, height / CELLS_PER_HEIGHT)
        pattern *= self.rms / max(float(np.sqrt(np.mean(pattern ** 2))), 1e-6)
        return np.rint(pattern).astype(np.int16)

    def _planes(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        planes = self._cache.get((width, height))
        if planes is None:
            delta = self.delta(width, height)
            up = np.repeat(np.clip(delta, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)
            down = np.repeat(np.clip(-delta, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)
            if len(self._cache) >= 4:  # sizes rarely change; keep memory bounded anyway
                self._cache.clear()
            planes = self._cache[(width, height)] = (up, down)
        return planes

    def embed(self, picture: np.ndarray) -> np.ndarray:
        """A marked copy of a BGR uint8 picture (the input is left untouched)."""
        height, width = picture.shape[:2]
        up, down = self._planes(width, height)
        if picture.ndim == 2:
            up, down = up[:, :, 0], down[:, :, 0]
        elif picture.shape[2] != 3:
            raise ValueError("expected a BGR picture")
        marked = cv2.add(picture, up)
        cv2.subtract(marked, down, dst=marked)
        return marked


# -- detection ---------------------------------------------------------------------------------
def luminance(picture: np.ndarray) -> np.ndarray:
    if picture.ndim == 2:
        return picture
    return cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)


def working_map(picture: np.ndarray) -> np.ndarray:
    """The whitened luminance at WORK_PX pixels per nominal cell (float32); maps of frames of
    one clip can be averaged before `search`."""
    y = luminance(picture)
    height, width = y.shape
    work_h = WORK_PX * CELLS_PER_HEIGHT
    work_w = max(8, round(width * work_h / height))
    interpolation = cv2.INTER_AREA if height > work_h else cv2.INTER_LINEAR
    small = cv2.resize(y, (work_w, work_h), interpolation=interpolation).astype(np.float32)
    # Remove what is smooth at the scale of a few cells (the picture, not the mark)...
    residual = small - cv2.blur(small, (WORK_PX + 1, WORK_PX + 1), borderType=cv2.BORDER_REFLECT)
    # ...and tame edges, the remaining big, non-Gaussian part of the picture.
    spread = float(np.median(np.abs(residual))) * 1.4826 + 1e-3
    return np.clip(residual, -2.5 * spread, 2.5 * spread) / spread


def _fold(work: np.ndarray, scale: float) -> np.ndarray:
    """Sample `work` at half-cell spacing for cell = scale * WORK_PX and sum modulo the tile:
    (2*TILE, 2*TILE) mean values."""
    step = scale * WORK_PX / 2
    height, width = work.shape
    rows, cols = int(height / step), int(width / step)
    # Box-average one half cell around each sample, then sample at the half-cell centres.
    k = max(1, round(step))
    blurred = cv2.blur(work, (k, k), borderType=cv2.BORDER_REFLECT) if k > 1 else work
    matrix = np.float32([[step, 0, step / 2 - 0.5], [0, step, step / 2 - 0.5]])
    samples = cv2.warpAffine(blurred, matrix, (cols, rows),
                             flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
    period = 2 * TILE
    pad_r, pad_c = (-rows) % period, (-cols) % period
    samples = np.pad(samples, ((0, pad_r), (0, pad_c)))
    counts = np.pad(np.ones((rows, cols), np.float32), ((0, pad_r), (0, pad_c)))
    shape = (samples.shape[0] // period, period, samples.shape[1] // period, period)
    total = samples.reshape(shape).sum(axis=(0, 2))
    count = counts.reshape(shape).sum(axis=(0, 2))
    return total / np.maximum(count, 1)


def _half_cell(tile: np.ndarray) -> np.ndarray:
    """A tile as it appears at half-cell sampling (bilinear between cell centres)."""
    return _render(tile, 2 * TILE, 2 * TILE, 2.0)


_SYNC_HALF = _half_cell(SYNC)
_SYNC_HALF_FFT = np.conj(np.fft.rfft2(_SYNC_HALF - _SYNC_HALF.mean()))


@dataclass(frozen=True)
class Sync:
    scale: float
    shift: tuple[int, int]
    """(rows, cols) in half cells: where the tile's origin sits in the folded map."""


@dataclass(frozen=True)
class Detection:
    z: float
    """Sync peak z-score: the mark's strength (about 0-5 on unmarked footage)."""
    sync: Sync
    soft_bits: np.ndarray
    """Per coded bit: the correlation with its chips (positive = 1)."""

    @property
    def found(self) -> bool:
        return self.z >= Z_FOUND

    @property
    def payload(self) -> tuple[int, int] | None:
        return decode_payload((self.soft_bits > 0).astype(np.uint8))


def _correlate(folded: np.ndarray) -> np.ndarray:
    """Cyclic cross-correlation with the sync pattern over every half-cell offset, as z-scores."""
    centred = folded - folded.mean()
    spectrum = np.fft.rfft2(centred)
    # Half-way to phase-only correlation: flattens what is left of the picture's 1/f spectrum.
    spectrum /= np.sqrt(np.abs(spectrum)) + 1e-6
    surface = np.fft.irfft2(spectrum * _SYNC_HALF_FFT, s=centred.shape)
    spread = float(surface.std()) + 1e-12
    return (surface - surface.mean()) / spread


# Each coded bit's chips as they appear at half-cell sampling: reading a bit is a matched filter,
# which tolerates the half-cell uncertainty of the sync peak.
_BIT_TEMPLATES = np.stack([_half_cell(np.where(bit == BIT_OF_CELL, CHIPS, 0).astype(np.float32))
                           for bit in range(CODED_BITS)]).reshape(CODED_BITS, -1)


def _soft_bits(folded: np.ndarray, shift: tuple[int, int]) -> np.ndarray:
    """Per coded bit, its correlation with the folded map whose tile origin is at `shift`."""
    aligned = np.roll(folded - folded.mean(), (-shift[0], -shift[1]), axis=(0, 1))
    return _BIT_TEMPLATES @ aligned.ravel()


def _best_at(work: np.ndarray, scales) -> tuple[float, float, tuple[int, int], np.ndarray]:
    best = None
    for scale in scales:
        folded = _fold(work, float(scale))
        z = _correlate(folded)
        index = np.unravel_index(int(np.argmax(z)), z.shape)
        peak = float(z[index])
        if best is None or peak > best[0]:
            best = (peak, float(scale), (int(index[0]), int(index[1])), folded)
    return best


def search(work: np.ndarray, scales: tuple[float, ...] = SCALES) -> Detection:
    """Find the mark in a working map (or the mean of several) over every scale and offset."""
    peak, scale, shift, folded = _best_at(work, scales)
    # The coarse grid can be 0.6% off: enough to drift half a cell across a frame, which costs
    # the payload more than the sync. Refine around the best scale.
    step = (SCALES[1] / SCALES[0]) ** 0.5
    fine = scale * np.geomspace(1 / step, step, 9)
    peak, scale, shift, folded = max((peak, scale, shift, folded), _best_at(work, fine),
                                     key=lambda item: item[0])
    return Detection(z=peak, sync=Sync(scale, shift), soft_bits=_soft_bits(folded, shift))


def strength_at(work: np.ndarray, sync: Sync) -> float:
    """The sync z-score of one map at a known scale and offset (a single test, no search)."""
    return float(_correlate(_fold(work, sync.scale))[sync.shift])


def detect(picture: np.ndarray) -> Detection:
    """Search one picture."""
    return search(working_map(picture))
