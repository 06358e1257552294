"""The invisible mark: a keyed spread-spectrum pattern in the low frequencies of the luminance.

Embedding. A tile of TILE x TILE cells holds one keyed +-1 chip per cell; the cells are dealt
out among the CODED_BITS payload bits (~36 cells each) and each bit's sign multiplies its chips
(spread spectrum with repetition). The tile is repeated over the frame with CELLS_PER_SIDE cells
across the frame's shorter side, whatever the resolution, and rendered smoothly (bilinear between
cell centres), so the mark lives in the low frequencies that scaling and H.264 keep. The pattern is
computed once per frame size and added to B, G and R alike (a pure luminance change) with two
saturating uint8 operations: a fraction of a millisecond at 720p.

Detection. The luminance is reduced to a small working map (WORK_PX pixels per nominal cell),
high-passed and clipped (the picture is the noise: whitening it and taming its edges is most of
the gain). For each candidate cell size (a crop changes the side the cell size is derived from,
by up to 11%) the map is sampled at half-cell spacing and folded modulo the tile; cyclic
correlations with every bit's chips give, at every offset (a crop moves the origin), one value
per bit. Their energy (sum of squares) says whether the mark is there without knowing the
payload; their signs at the best offset are the payload, checked by a CRC-8. Maps of many frames
are averaged before the search, so a video is judged on seconds of footage, not one frame.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import cv2
import numpy as np

TILE = 32
"""Cells per tile side: the payload's spreading length is TILE*TILE/CODED_BITS cells per bit."""
CELLS_PER_SIDE = 64
"""Cells across the frame's shorter side (a 720p cell is 11 px, a 240-px frame's 3.75 px; the
shorter side, so that portrait video gets as many cells as landscape): finer cells meet
less picture content (its spectrum falls with frequency), coarser ones survive more compression;
at 40 the 480-px test clips did not reach a usable z-score, at 64 they do after CRF 30 and 0.5x."""
WORK_PX = 4
"""Working-map pixels per nominal cell at detection."""
CLIP = 0.3
"""Residuals are clipped at CLIP robust standard deviations before correlating."""
KEY = b"facecam-provenance-watermark-v1"
VERSION = 1
VERSION_BITS = 4
SESSION_BITS = 16
CRC_BITS = 8
CODED_BITS = VERSION_BITS + SESSION_BITS + CRC_BITS
TARGET_RMS = 2.35
"""Root-mean-square change per pixel and channel, in 8-bit levels: 20 log10(255/2.35) = 40.7 dB;
rounding to whole levels costs ~0.1 dB, clipping at black and white gives some back
(measured in benchmarks/results/watermark.md)."""
SCALES = tuple(float(s) for s in np.geomspace(0.97, 1.14, 14))
"""Candidate ratios true cell / nominal cell: 1.0 for scaling alone, up to 1/0.9 for a 10% crop."""
Z_FOUND = 9.0
"""Strength (best over every offset and scale) from which a map carries the mark. Unmarked footage
reaches 6.5 (median) to 7.7 (max over 232 clips), marked 2-s clips 18 or more after every change
benchmarked (benchmarks/results/watermark.md): the best of ~90k offsets and scales of a chi-square with CODED_BITS degrees of
freedom (energy 28 + 9**2 = 109 has a tail of ~1e-11 per try)."""
Z_FRAME = 6.0
"""Strength at an already known offset and scale (one test, no search) from which one frame counts
as carrying the mark (energy 64: a tail of ~2e-4 per frame)."""


def _rng(label: str) -> np.random.Generator:
    seed = int.from_bytes(hashlib.sha256(KEY + label.encode()).digest()[:8], "little")
    return np.random.default_rng(seed)


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
    return (CHIPS * bits[BIT_OF_CELL]).astype(np.float32)


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
        pattern = _render(self._tile, width, height, min(width, height) / CELLS_PER_SIDE)
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
        elif picture.shape[2] == 4:  # BGRA (a face-only overlay): mark the colour, keep alpha
            marked = picture.copy()
            marked[:, :, :3] = self.embed(np.ascontiguousarray(picture[:, :, :3]))
            return marked
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
    factor = WORK_PX * CELLS_PER_SIDE / min(width, height)
    work_w, work_h = max(8, round(width * factor)), max(8, round(height * factor))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    small = cv2.resize(y, (work_w, work_h), interpolation=interpolation).astype(np.float32)
    # Remove what is smooth at the scale of a few cells (the picture, not the mark)...
    residual = small - cv2.blur(small, (WORK_PX + 1, WORK_PX + 1), borderType=cv2.BORDER_REFLECT)
    # ...and tame edges and texture, the big, non-Gaussian part of what is left: clipping hard
    # (near a sign detector) raised the strength on the test pictures by 25-80% over 2.5 sigma.
    spread = float(np.median(np.abs(residual))) * 1.4826 + 1e-3
    return np.clip(residual, -CLIP * spread, CLIP * spread) / spread


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


# Each coded bit's chips as they appear at half-cell sampling (the matched filters), and their
# spectra for correlating at every offset at once.
_BIT_TEMPLATES = np.stack([_half_cell(np.where(bit == BIT_OF_CELL, CHIPS, 0).astype(np.float32))
                           for bit in range(CODED_BITS)])
_BIT_TEMPLATES -= _BIT_TEMPLATES.mean(axis=(1, 2), keepdims=True)
_BIT_SPECTRA = np.conj(np.fft.rfft2(_BIT_TEMPLATES))
_FLAT_TEMPLATES = _BIT_TEMPLATES.reshape(CODED_BITS, -1)


@dataclass(frozen=True)
class Sync:
    scale: float
    shift: tuple[int, int]
    """(rows, cols) in half cells: where the tile's origin sits in the folded map."""


@dataclass(frozen=True)
class Detection:
    z: float
    """Strength: sqrt(max(0, energy - CODED_BITS)), about the z-score a receiver that knew the
    payload would see. Unmarked footage reaches ~5-6 at its best offset; see Z_FOUND."""
    sync: Sync
    soft_bits: np.ndarray
    """Per coded bit: its normalised correlation at the sync (positive = 1)."""

    @property
    def found(self) -> bool:
        return self.z >= Z_FOUND

    @property
    def energy(self) -> float:
        return float(np.sum(self.soft_bits ** 2))

    @property
    def payload(self) -> tuple[int, int] | None:
        return decode_payload((self.soft_bits > 0).astype(np.uint8))


def _whitened_spectrum(folded: np.ndarray) -> np.ndarray:
    spectrum = np.fft.rfft2(folded - folded.mean())
    # Half-way to phase-only correlation: flattens what is left of the picture's 1/f spectrum.
    spectrum /= np.sqrt(np.abs(spectrum)) + 1e-6
    return spectrum


def _spreads(spectrum: np.ndarray) -> np.ndarray:
    """Per bit, the standard deviation over all offsets of its correlation surface, from the
    spectrum alone (Parseval; the surfaces have zero mean since the templates do)."""
    size = 2 * TILE
    weights = np.full(spectrum.shape[1], 2.0)
    weights[0] = weights[-1] = 1.0  # rfft: the first and the Nyquist columns are not mirrored
    power = np.abs(spectrum[None] * _BIT_SPECTRA) ** 2
    return np.sqrt(np.einsum("bij,j->b", power, weights)) / size ** 2


def _surfaces(folded: np.ndarray) -> np.ndarray:
    """(CODED_BITS, 2T, 2T): each bit's cyclic correlation over every half-cell offset, in units
    of its own spread over the offsets (so ~N(0, 1) each where there is no mark)."""
    spectrum = _whitened_spectrum(folded)
    surfaces = np.fft.irfft2(spectrum[None] * _BIT_SPECTRA, s=folded.shape)
    return surfaces / (_spreads(spectrum)[:, None, None] + 1e-12)


def _bits_at(folded: np.ndarray, shift: tuple[int, int]) -> np.ndarray:
    """The normalised correlations at one offset only (what _surfaces gives there, cheaper)."""
    spectrum = _whitened_spectrum(folded)
    whitened = np.fft.irfft2(spectrum, s=folded.shape)
    aligned = np.roll(whitened, (-shift[0], -shift[1]), axis=(0, 1))
    return (_FLAT_TEMPLATES @ aligned.ravel()) / (_spreads(spectrum) + 1e-12)


def _strength(energy: np.ndarray | float) -> np.ndarray | float:
    # Without a mark the energy is chi-square with CODED_BITS degrees of freedom (mean CODED_BITS).
    return np.sqrt(np.maximum(np.asarray(energy) - CODED_BITS, 0.0))


def _best_at(work: np.ndarray, scales) -> tuple[float, float, tuple[int, int], np.ndarray]:
    """(strength, scale, shift, soft bits) of the best offset over `scales`.

    The payload is unknown, so presence is judged without it: the sum over bits of the squared
    correlations (an energy detector) uses the whole pattern for synchronisation, and the signs
    at the best offset are the bits."""
    best = None
    for scale in scales:
        surfaces = _surfaces(_fold(work, float(scale)))
        energy = np.einsum("bij,bij->ij", surfaces, surfaces)
        index = np.unravel_index(int(np.argmax(energy)), energy.shape)
        if best is None or energy[index] > best[0]:
            best = (float(energy[index]), float(scale), (int(index[0]), int(index[1])),
                    surfaces[:, index[0], index[1]].copy())
    return best


def search(work: np.ndarray, scales: tuple[float, ...] = SCALES) -> Detection:
    """Find the mark in a working map (or the mean of several) over every scale and offset."""
    coarse = _best_at(work, scales)
    # The coarse grid can be 0.6% off: enough to drift half a cell across a frame, which costs
    # the payload more than the presence. Refine around the best scale.
    step = (SCALES[1] / SCALES[0]) ** 0.5
    fine = _best_at(work, coarse[1] * np.geomspace(1 / step, step, 7))
    energy, scale, shift, bits = max(coarse, fine, key=lambda item: item[0])
    return Detection(z=float(_strength(energy)), sync=Sync(scale, shift), soft_bits=bits)


def strength_at(work: np.ndarray, sync: Sync) -> float:
    """The strength of one map at a known scale and offset (a single test, no search)."""
    return float(_strength(np.sum(_bits_at(_fold(work, sync.scale), sync.shift) ** 2)))


def detect(picture: np.ndarray) -> Detection:
    """Search one picture."""
    return search(working_map(picture))
