"""The invisible mark: a keyed spread-spectrum pattern in the low frequencies of the luminance,
shaped by what the eye and face analysis tolerate.

Carrier. A tile of TILE x TILE cells holds one keyed +-1 chip per cell; the cells are dealt
out among the CODED_BITS payload bits (~36 cells each) and each bit's sign multiplies its chips
(spread spectrum with repetition). The tile is repeated over the frame with CELLS_PER_SIDE cells
across the frame's shorter side, whatever the resolution, and rendered smoothly (bilinear between
cell centres), so the mark lives in the low frequencies that scaling and H.264 keep (the same
resolution independence as TrustMark's residual, made at 256x256 and resized to the picture:
adobe/trustmark, python/trustmark/trustmark.py, `encode`).

Shaping (`strength_map`, `Watermarker.embed`). The carrier is scaled per 8-px block by a
perceptual mask after Video Seal's JND attenuation (contrast masking: strength follows the local
luminance gradient): +-1 level at most on flat areas (walls, sky, a green screen), up to PEAK
on texture; faces (with their hair line) are left exactly as they are; the whole picture's RMS
change is held to RMS_BUDGET. It changes B, G and R alike (luminance only, as Video Seal marks
Y). Like Video Seal's temporal propagation, each frame recomputes only part of the change (one
band in REFRESH_BANDS, plus wherever the picture lost texture) and reuses the rest.

Temporal key (`key_sign`, KEY_HALF). A mark this faint has little margin over the picture's own
still structure (a wall's banding, the codec's blocking), which averaging the frames of a still
scene keeps: CRF 30 keeps about two thirds of the mark's amplitude even on flat walls, and raising
the strength on texture (PEAK 4 -> 10) cost 4 dB of PSNR for almost nothing. So the pattern's sign
follows a key over time: + for KEY_HALF frames, - for the next KEY_HALF; the detector subtracts
the - frames' maps from the + frames', so the still picture cancels and the mark adds up (a
2-second clip of d3 at CRF 30: strength 7.1 -> 10.1 at the nominal sync; d9 5.5 -> 10.7).
The plain average of a whole key period holds no mark, so the averaging attack (the mark estimated
as the frames' mean residual) finds nothing to remove.

Detection. The luminance is reduced to a small working map (WORK_PX pixels per nominal cell),
high-passed and clipped (the picture is the noise: whitening it and taming its edges is most of
the gain). For each candidate cell size (a crop changes the side the cell size is derived from,
by up to 11%) the map is sampled at half-cell spacing and folded modulo the tile; cyclic
correlations with every bit's chips give, at every offset (a crop moves the origin), one value
per bit. Their energy (sum of squares) says whether the mark is there without knowing the
payload (tested first at the nominal sync, `search_nominal`: 45 tests instead of ~90k, so a lower
threshold holds the same false-alarm rate); their signs at the best offset are the payload (or
their complement, for a - frame), checked by a CRC-8. A video is judged on seconds of footage, not
one frame: the maps of its frames are summed by frame index modulo the key's period (`KeyedSums`),
and each of the KEY_HALF key phases (where the key's sign changes is unknown) and the plain average
are searched (`search_keyed`). One picture is searched alone: the energy does not depend on the sign.
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
SCALES = tuple(float(s) for s in np.geomspace(0.97, 1.14, 14))
"""Candidate ratios true cell / nominal cell: 1.0 for scaling alone, up to 1/0.9 for a 10% crop."""
Z_FOUND = 9.4
"""Strength (best over every offset and scale, and every key phase) from which a map carries the
mark: the best of ~90k offsets and scales for each of the KEY_HALF + 1 maps of a chi-square with
CODED_BITS degrees of freedom (energy 28 + 9.4**2 = 116 has a tail of ~1e-12 per try: the per-search
rate of the single map's former threshold 9, ~1.7e-11 per try, for 16 times the tries). Unmarked
footage: see benchmarks/results/watermark.md."""
NOMINAL_SCALES = tuple(float(s) for s in np.geomspace(0.995, 1.005, 5))
NOMINAL_SHIFTS = tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
"""The nominal sync: where the tile sits in a picture that was re-encoded, rescaled or recoloured but
not cropped (the cells are counted on the shorter side, so a rescale keeps them): cell ratio 1.0
(+-0.5%), origin at the corner (+-1 half cell). 45 tests instead of the full search's ~90k."""
Z_NOMINAL = 7.9
"""Strength at the nominal sync from which a map carries the mark: energy 28 + 7.9**2 = 90 has a
chi-square tail of ~1.7e-8 per test, the rate of the single map's former threshold 7.4 (2.6e-7 per
test over 45 tests) over the 45 tests of each of the KEY_HALF + 1 maps. Testing where an uncropped
picture keeps its mark first is what lets a clip that lost a third of the mark's amplitude (CRF 30,
0.5x) still be told from unmarked footage (benchmarks/results/watermark.md)."""
Z_MIRRORED = 8.2
"""Strength at the nominal sync of the picture mirrored back (`mirror`) from which a map that
was not found as it is carries the mark of a mirrored picture (a call app's or an editor's
horizontal flip, which the full search cannot undo: it turns the pattern, it does not move it).
Flipping the map back restores the nominal sync exactly, so the same 45 tests per map suffice;
energy 28 + 8.2**2 = 95 has a chi-square tail of ~6e-9 per test, adding a third of the nominal
search's false-alarm rate (a flipped clip of d3 reads ~18.7 there, unmarked clips <= 5)."""
ROTATIONS = (-5.0, -3.75, -2.5, -1.25, 1.25, 2.5, 3.75, 5.0)
"""Angles (degrees) by which the maps are turned back (`unrotate`) when the picture as it is, and
mirrored, did not reach the nominal thresholds: a recording turned about its centre (a tilted
phone, an editor's straighten tool) keeps its mark's cells, only turned, which no shift or scale
of the full search can undo (a 5 degree turn moves a 720p frame's corners by 64 px, almost 6
cells, against its centre). Turned back about the same centre, the tile sits at the nominal sync
again, so the nominal tests suffice, at one scale (a turn does not rescale). Steps of 1.25
degrees: the worst left-over turn, 0.625 degrees, shifts the cells by 0.35 cells at the edge of
the shorter side, 0.7 at a 16:9 frame's corners.
Like a template-matching sync (Pereira & Pun, "Robust template matching for affine resistant
image watermarks", IEEE TIP 2000) but searched exhaustively over a small range, because the
pattern carries no separate template. An editor's straighten tool also zooms so that the turned
picture fills the frame (1.09x for 5 degrees of a 512x480 picture, 1.15x at 16:9): that zoom
follows from the angle and the frame's shape (`fill_zoom`), so it is one more test per angle,
not a scale search. Larger angles and a turn combined with any other crop are not searched."""
Z_ROTATED = 8.5
"""Strength from which a map turned back by one of ROTATIONS carries the mark: 9 shifts x 2
zooms x 8 angles x the KEY_HALF + 1 maps = 2304 tests, energy 28 + 8.5**2 = 100.3 has a
chi-square tail of ~4.6e-10 per test, ~1e-6 per search (a tenth of the nominal search's). Unmarked footage
reached at most 6.4 (77 encoded clips, flipped, turned and straightened ones among them) and 6.6 (159 clips
never encoded): benchmarks/results/s17-mark/."""
KEY_HALF = 15
"""The temporal key: frame n carries +pattern when (n // KEY_HALF) is even, -pattern when odd
(`key_sign`). A detector that adds the maps of + frames and subtracts those of - frames keeps the
mark and cancels whatever the picture holds still (a wall's texture, banding, the codec's blocking),
which a plain average of frames keeps at full strength: that still structure, not the encoder's
loss, was what a 2-second clip lacked margin over (benchmarks/results/watermark.md). Classical
spread-spectrum video marks key their pattern over time the same way (US patent 6785401, Tektronix,
2004: a spatial pattern multiplied by a pseudo-noise sequence over N frames, the decoder
correlating to find the temporal offset; Lin & Delp, "Temporal synchronization in video
watermarking", Proc. SPIE 4675, 2002). Half a second per sign, because a per-frame flip (measured: also tried
every 4 and 10 frames, and a smooth cosine) is not kept by H.264 at CRF 30: its P-frames skip a
change of 1-2 levels, so only the I-frame's sign survives; a hard switch every 15 frames is coded
(the encoder's macroblock tree gives a change that lasts more bits), a gradual one is skipped.
Where the key's sign sits in a clip is unknown (a recording starts anywhere): the detector tries
the KEY_HALF phases (the other KEY_HALF are the same with the sign flipped)."""
KEY_PERIOD = 2 * KEY_HALF
WEIGHT_FLOOR = 0.01
"""Added to the frame-to-frame variance of the working maps before inverting it (`KeyedSums.weights`):
a clipped map moves by at most +-CLIP, a moving picture's residual gives ~CLIP**2 = 0.09, a
still wall's noise and the mark a few hundredths; the floor keeps a perfectly still area from
taking all the weight."""
WEIGHT_SPAN = 5
"""Working-map pixels (about a cell) over which that variance is averaged."""
Z_FRAME = 6.0
"""Strength at an already known offset and scale (one test, no search) from which one frame counts
as carrying the mark (energy 64: a tail of ~2e-4 per frame)."""


def key_sign(index: int) -> int:
    """+1 or -1: the sign of the pattern in frame `index` of a session (the temporal key)."""
    return 1 if (index // KEY_HALF) % 2 == 0 else -1


def key_switching(index: int) -> bool:
    """Whether frame `index` is the first of a key half after a switch (never frame 0, so that a
    still picture carries the whole mark). That frame carries the new sign's pattern one level
    weaker everywhere: a flat area's +-1 is 0 there, so a flat wall goes +1, 0, -1 and never
    steps by more than one level from frame to frame (the hard switch stepped it by two, a
    flicker twice a second in motion: benchmarks/results/s15_mark/); texture keeps almost all
    of it, and the switch stays a step that H.264 codes. A fade of a third of the pattern either
    side of the switch (+1, +1/3, -1/3, -1) cost a fifth of the strength after CRF 30 (the
    encoder skips the gradual part, see KEY_HALF)."""
    return index > 0 and index % KEY_HALF == 0
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
Box = tuple[int, int, int, int]
"""x0, y0, x1, y1 in pixels (x1/y1 exclusive), as realtime.frame.Box."""

MASK_SAMPLES = 180
"""The perceptual mask is measured on the luminance sampled every round(shorter side / 180) px
(a strided view, no filtering: aliased fine texture still counts as texture)."""
MASK_BLOCK = 2
"""Samples per mask block side (a 720p block is 8 px, a 480-px frame's 6 px): fine, so that
the 3x3 erosion in strength_map loses little texture."""
FLAT = 6.0
"""Mean |gradient| (levels between neighbouring samples, horizontal + vertical) up to which a
block counts as flat; webcam noise and H.264 grain on a plain wall sit at 1-5."""
FLAT_STRENGTH = 0.9
"""Strength on flat blocks, chosen so that no flat pixel moves by more than one level: the
unit-RMS carrier peaks at 1.53 and 0.9 is stored as 14/16, rint(0.875 * 1.53) = 1. About 60%
of a flat area's pixels move by one level, the rest not at all."""
TEXTURED = 24.0
"""Mean |gradient| from which a block takes the full strength (hair, foliage, fabric)."""
PEAK = 4.0
"""Strength on fully textured blocks, in levels per unit of the (unit-RMS) pattern."""
RMS_BUDGET = 1.2
"""Largest root-mean-square change over a whole picture, in levels (20 log10(255/1.2) = 46.5 dB),
counted after rounding: a picture that is textured everywhere gets a weaker mark."""
KEEP_OUT = 1.3
"""A face's landmark box is widened to a square KEEP_OUT times its longer side, centred, and
left exactly untouched (face, hair line, ears); `Watermarker.embed` widens it further, up to
KEEP_OUT_WIDE, where the rest of the frame has texture enough to carry the mark."""
KEEP_OUT_WIDE = 1.6
"""The widest keep-out (times the landmark box's longer side). MediaPipe's face mesh tracks in a
square 1.5x the landmark box (turned with the head): at 1.3x the mark's ring inside that crop
moves d13's tracked landmarks by 0.00107 of the eye distance even for a tracker whose first look
saw the unmarked frame, at 1.6x by exactly 0 (d10: 0.00108 -> 0; benchmarks/results/s19-mark/).
What is left is the tracker's first full-frame look, which any change of the frame moves (one
level on a 64x64 corner: 0.0013 on d13), and which no keep-out can spare."""
KEEP_OUT_POWER = 1600.0
"""How much mark (the sum over mask blocks of the mean squared change, before the RMS budget)
must stay outside the faces' squares in the frame's middle (10% in from each edge: what a 10%
crop keeps) for the keep-out to widen: a wider square is taken only where that much is left.
d13's ceiling keeps 1700-1900 at 1.6x and widens; d20 (its mark on the foliage at the top, the
face a third of the frame) keeps 1600-2000 at 1.3x and stays near it, as do the face-filled d3,
d6, d9, d10, d14 (400-1000): widening those cost the 10% crop its mark (d10's 16.2 -> 7.1, d20
found -> 8.2 < 9.4)."""
RAMP_END = 1.5
"""Outside a keep-out square narrower than this (times the landmark box's longer side) the mark
ramps up (`ramp_faces`): RAMP_START of its strength at the square's edge, all of it at RAMP_END,
the side of MediaPipe's tracking crop (a square 1.5x the landmark box, turned with the head)."""
RAMP_START = 0.3
"""The mark's share of its strength at the keep-out square's edge, where the ramp starts. A flat
block's +-1 level times less than ~0.37 rounds to 0, so the ring next to the square (the part of
the tracker's crop nearest the face) loses its +-1 on walls and keeps a weaker mark on hair: the
tracker's crop sees fewer changed pixels. Measured on d10 (the face 0.6 of the frame: its square
stays 1.3x), its benchmark clip tracked from frames 0 / 10 / 20 / 30 (a viewer's tracker starts
anywhere), landmark error over the eye distance, and its 10% crop + CRF 23 (found from 9.4):
none 0.00106 / 0.00097 / 0.00068 / 0.00066, crop 14.5; 0.3 to 1.5x 0.00068 / 0.00060 / 0.00044 /
0.00035, crop 11.9; 0.3 to 1.6x: mean 0.00054, crop 9.9; 0.4 to 1.5x: mean 0.00061, crop 12.6;
0.2 to 1.5x: mean 0.00049, crop 10.9; the 1.6x square (no mark in the crop at all): 0, crop 7.1
(benchmarks/results/s20-mark/). The face-filled frame leaves the mark no room outside the
tracker's crop that a 10% crop keeps: this is the trade between the two."""
KEEP_OUT_STEPS = (1.6, 1.55, 1.5, 1.45, 1.4, 1.35)
"""The wider squares tried, widest first."""
KEEP_OUT_SLEW = 0.04
"""Largest change of the keep-out factor from one choice to the next (every KEEP_OUT_EVERY
frames), so the square's edge never jumps (its ring would blink the mark on and off) when the
texture around the face changes."""
KEEP_OUT_EVERY = 2
"""The keep-out factor is chosen again every this many frames (the texture around a face
changes slowly; ~0.03 ms each time at 720p)."""
REFRESH_BANDS = 8
"""The mark's pixels are recomputed for one horizontal band in REFRESH_BANDS per frame (and
wherever the picture lost texture since); the other bands reuse the last frame's change."""
DETECTOR_SIDE = 128
"""The input side of MediaPipe's short-range face detector (face_detection_short_range.tflite),
which the face mesh's tracker runs on the whole frame for its first look at a face (and again
whenever it loses one): see `detector_lattice`."""
LATTICE_MAX_SHARE = 0.10
"""The largest share of a frame's pixels `detector_lattice` may take out of the mark: 1% at
1280x720 and 1920x1080, 4% at 640x480, 6% at 512x512 (integer steps read one pixel per sample);
a 480x480 frame's step 3.75 reads two of every ~4 columns (22% of the pixels), which would take a
fifth of the mark's amplitude (d20's 10% crop: 10.7 -> ~8.4 < Z_FOUND), so such frames keep the
mark there (d20's first look moved its tracked landmarks by 0.0003 of the eye distance)."""
_CARRIER_SCALE = 32  # |pattern| stored as uint8 in 1/32 levels
_MASK_SCALE = 16  # strength stored as uint8 in 1/16 levels


def face_keep_out(box: Box, width: int, height: int, factor: float = KEEP_OUT) -> Box:
    """The square `factor` times the longer side of a face's landmark box, about its centre: what
    the mark leaves alone (at least KEEP_OUT; `Watermarker.embed` widens it where it can)."""
    x0, y0, x1, y1 = box
    half = factor * max(x1 - x0, y1 - y0) / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (max(0, int(cx - half)), max(0, int(cy - half)),
            min(width, int(np.ceil(cx + half))), min(height, int(np.ceil(cy + half))))


def _lattice_axis(length: int, other: int) -> np.ndarray:
    """The pixel indices along an axis of `length` that the detector's resampling reads."""
    side = max(length, other)
    step, origin = side / DETECTOR_SIDE, (length - side) / 2
    # The square around the frame's centre (letterboxed) is mapped corner to corner onto the
    # detector's input: output pixel j reads the source at origin + j * step, bilinearly, the
    # position quantised to 1/32 pixel (OpenCV's INTER_LINEAR tables).
    positions = np.rint((origin + np.arange(DETECTOR_SIDE) * step) * 32) / 32
    floors = np.floor(positions)
    read = np.concatenate([floors, floors[positions != floors] + 1]).astype(np.int64)
    return np.unique(read[(read >= 0) & (read < length)])


def detector_lattice(width: int, height: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(rows, columns) of the pixels MediaPipe's face detector reads when it looks at a whole
    width x height frame, or None where they are more than LATTICE_MAX_SHARE of the frame.

    The detector sees the frame letterboxed into DETECTOR_SIDE x DETECTOR_SIDE by a bilinear
    warp without any prefiltering (mediapipe/calculators/tensor/image_to_tensor_converter_opencv.cc:
    cv::warpPerspective, INTER_LINEAR, the ROI's corners onto the tensor's), so it reads a sparse
    lattice of pixels: every 10th row and column of a 1280x720 frame, and nothing in between
    (checked pixel by pixel against mp.solutions.face_detection on d13, d10, d20 and d9:
    benchmarks/results/s20-mark/). The tracker's first look (on whatever frame a viewer's tracker
    starts) comes from that detection, and any change of it, however small, stays in every later
    frame's landmarks (one level on a 64x64 corner moved d13's by 0.0013 of the eye distance): the
    mark leaves the lattice alone, so the first look is the unmarked frame's, bit for bit."""
    columns, rows = _lattice_axis(width, height), _lattice_axis(height, width)
    if len(rows) * len(columns) > LATTICE_MAX_SHARE * width * height:
        return None
    return rows, columns


def ramp_faces(mask: np.ndarray, shape: tuple[int, ...], faces, factor: float) -> np.ndarray:
    """The block mask (uint8, changed in place) with each face's surroundings from its keep-out
    square (`factor`) out to RAMP_END weakened: RAMP_START of the strength at the square's edge,
    rising linearly (in the square's half side) to all of it at RAMP_END. Where two faces' rings
    overlap their weights multiply (a weaker mark there, never a stronger one)."""
    if factor >= RAMP_END or not len(faces):
        return mask
    rows, cols = mask.shape
    per_x, per_y = shape[1] / cols, shape[0] / rows
    slope = (1 - RAMP_START) / (RAMP_END - factor)
    for x0, y0, x1, y1 in faces:
        half = max(max(x1 - x0, y1 - y0) / 2, 1.0)
        reach = RAMP_END * half
        # The square's radius is the larger of the two axes' distances from the box centre, and
        # the ramp grows with it: the weight is the larger of the rows' and the columns' (an
        # outer maximum), below 1 only where both are, inside the RAMP_END square.
        weights = []
        for count, per, centre in ((rows, per_y, (y0 + y1) / 2), (cols, per_x, (x0 + x1) / 2)):
            first = max(0, int(np.ceil((centre - reach) / per - 0.5)))
            last = min(count, int(np.floor((centre + reach) / per - 0.5)) + 1)
            radius = np.abs(_block_centres(first, last, per) - centre) / half
            weights.append((first, last, np.clip(RAMP_START + (radius - factor) * slope, RAMP_START, 1.0)))
        (r0, r1, down), (c0, c1, across) = weights
        if r1 > r0 and c1 > c0:
            mask[r0:r1, c0:c1] = cv2.multiply(mask[r0:r1, c0:c1], np.maximum.outer(down, across),
                                              dtype=cv2.CV_8U)
    return mask


def _block_centres(first: int, last: int, per: float) -> np.ndarray:
    return (np.arange(first, last, dtype=np.float32) + 0.5) * np.float32(per)


def _rounded_power() -> np.ndarray:
    """Mean squared change rint(s * pattern)**2 for strengths s = 0, 1/8, ... 16 (the carrier's
    distribution does not depend on the payload or the size), s in 1/_MASK_SCALE levels."""
    sample = np.abs(_render(CHIPS, 8 * TILE, 8 * TILE, 8.0)).ravel()
    sample /= np.sqrt(np.mean(sample ** 2))
    strengths = np.arange(256, dtype=np.float32) / _MASK_SCALE
    return np.array([np.mean(np.rint(s * sample) ** 2) for s in strengths], np.float32)


_POWER = _rounded_power()
"""Indexed by a strength in 1/_MASK_SCALE levels."""
_POWER_LUT = _POWER.reshape(1, 256)
_TABLES: dict[float, np.ndarray] = {}
_CROSS3 = np.ones((3, 3), np.uint8)
_ONE = (1.0, 1.0, 1.0, 0.0)


def _mask_step(width: int, height: int) -> int:
    return max(1, round(min(width, height) / MASK_SAMPLES))


def strength_map(picture: np.ndarray, peak: float = PEAK, rms_budget: float = RMS_BUDGET,
                 keep_out=()) -> np.ndarray:
    """Per mask block, the mark's strength in levels (float32): the perceptual mask.

    Contrast masking after the JND heat maps Video Seal attenuates its mark with
    (facebookresearch/videoseal, videoseal/modules/jnd.py: the Sobel gradient magnitude of the
    luminance scales the watermark): strength grows with the local gradient, from FLAT_STRENGTH
    (at most +-1 level) on flat blocks (FLAT) to `peak` on textured ones (TEXTURED). A block
    keeps the smallest texture of its 3x3 neighbourhood, so that a flat block next to texture
    stays flat once the map is interpolated to pixels. The whole picture's RMS change is held
    to `rms_budget`."""
    return _mask_map(picture, peak, rms_budget, keep_out).astype(np.float32) / _MASK_SCALE


def _strength_table(peak: float) -> np.ndarray:
    """Mean |gradient| (0-255) -> strength in 1/_MASK_SCALE levels (uint8)."""
    texture = np.arange(256, dtype=np.float32)
    strength = FLAT_STRENGTH + np.clip((texture - FLAT) / (TEXTURED - FLAT), 0, 1) * (peak - FLAT_STRENGTH)
    return np.clip(np.rint(strength * _MASK_SCALE), 0, 255).astype(np.uint8)


def _mask_map(picture: np.ndarray, peak: float, rms_budget: float, keep_out=()) -> np.ndarray:
    """strength_map in 1/_MASK_SCALE levels (uint8), all in OpenCV's 8-bit paths (per frame)."""
    return _kept_out(_texture_mask(picture, peak), picture.shape, rms_budget, keep_out)


def _texture_mask(picture: np.ndarray, peak: float) -> np.ndarray:
    """The strength each block's texture allows (uint8, 1/_MASK_SCALE levels): _mask_map before
    the keep-out and the budget (a new array)."""
    step = _mask_step(picture.shape[1], picture.shape[0])
    # Green stands for the luminance (0.59 of it, and most of its texture) at a tenth of the cost.
    luma = np.ascontiguousarray(picture[::step, ::step] if picture.ndim == 2 else picture[::step, ::step, 1])
    rows, cols = luma.shape
    gradient = cv2.add(cv2.absdiff(luma[:-1, 1:], luma[:-1, :-1]), cv2.absdiff(luma[1:, :-1], luma[:-1, :-1]))
    grid = (max(1, (cols - 1) // MASK_BLOCK), max(1, (rows - 1) // MASK_BLOCK))
    # Whole blocks only (OpenCV's fast integer-factor path); the last few samples are dropped.
    whole = gradient[:grid[1] * MASK_BLOCK, :grid[0] * MASK_BLOCK]
    texture = cv2.resize(whole, grid, interpolation=cv2.INTER_AREA)
    texture = cv2.erode(texture, _CROSS3, borderType=cv2.BORDER_REPLICATE)
    table = _TABLES.get(peak)
    if table is None:
        table = _TABLES[peak] = _strength_table(peak)
    return cv2.LUT(texture, table)


def _kept_out(mask: np.ndarray, shape: tuple[int, ...], rms_budget: float, keep_out=()) -> np.ndarray:
    """A texture mask (changed in place) with the keep-out boxes' blocks zeroed and the whole
    picture's RMS change held to `rms_budget`."""
    per_x, per_y = shape[1] / mask.shape[1], shape[0] / mask.shape[0]
    # Blocks wholly inside a keep-out box carry nothing (embed restores those pixels anyway);
    # zeroing them here lets the budget count only the change really made.
    for x0, y0, x1, y1 in keep_out:
        mask[int(np.ceil(y0 / per_y)):int(y1 // per_y), int(np.ceil(x0 / per_x)):int(x1 // per_x)] = 0
    # The budget counts the change really made: rounding takes a weak mark mostly to 0 or +-1.
    power = float(np.mean(_POWER[mask]))
    if power > rms_budget ** 2:
        mask = cv2.convertScaleAbs(mask, alpha=rms_budget / np.sqrt(power))
    return mask


class Watermarker:
    """Adds the mark of one session to pictures of any size (the carrier cached per size)."""

    def __init__(self, session: int, version: int = VERSION, peak: float = PEAK,
                 rms_budget: float = RMS_BUDGET) -> None:
        self.session = session
        self.version = version
        self.peak = peak
        self.rms_budget = rms_budget
        self._tile = tile_pattern(session, version)
        self._size: tuple[int, int] | None = None
        self._frame = 0
        self._keep_out_factor: float | None = None

    def pattern(self, width: int, height: int) -> np.ndarray:
        """The unit-RMS carrier over width x height pixels (float32), before the mask."""
        pattern = _render(self._tile, width, height, min(width, height) / CELLS_PER_SIDE)
        pattern *= 1.0 / max(float(np.sqrt(np.mean(pattern ** 2))), 1e-6)
        return pattern

    def delta(self, picture: np.ndarray, keep_out=()) -> np.ndarray:
        """The signed change a fresh Watermarker makes to each pixel of `picture` (int16, height x
        width, read on green; B, G and R change alike unless they saturate)."""
        fresh = Watermarker(self.session, self.version, self.peak, self.rms_budget)
        marked = fresh.embed(picture, keep_out)
        if picture.ndim == 3:
            return marked[:, :, 1].astype(np.int16) - picture[:, :, 1]
        return marked.astype(np.int16) - picture

    def _prepare(self, width: int, height: int) -> None:
        pattern = self.pattern(width, height)
        magnitude = np.clip(np.rint(np.abs(pattern) * _CARRIER_SCALE), 0, 255).astype(np.uint8)
        self._carrier_up = np.where(pattern > 0, magnitude, 0).astype(np.uint8)
        self._carrier_down = np.where(pattern < 0, magnitude, 0).astype(np.uint8)
        lattice = detector_lattice(width, height)
        if lattice is not None:  # no change where the face detector looks (no cost per frame)
            self._carrier_up[np.ix_(*lattice)] = 0
            self._carrier_down[np.ix_(*lattice)] = 0
        self._up = np.zeros((height, width, 3), np.uint8)
        self._down = np.zeros((height, width, 3), np.uint8)
        self._switch_up = np.zeros((height, width, 3), np.uint8)
        self._switch_down = np.zeros((height, width, 3), np.uint8)
        self._used: np.ndarray | None = None
        self._size = (width, height)

    def _refresh(self, mask: np.ndarray, bands: list[tuple[int, int]]) -> None:
        """Recompute the change on the block rows [first, last) of each band from the block mask
        (uint8, in 1/_MASK_SCALE levels), interpolated to pixels (with a block row of context
        on each side, so that a band's edge matches the next band's)."""
        width, height = self._size
        block_rows = mask.shape[0]
        per_row = height / block_rows

        def pixel(row: int) -> int:
            return height if row >= block_rows else round(row * per_row)

        scale = 1.0 / (_CARRIER_SCALE * _MASK_SCALE)
        for first, last in bands:
            above, below = max(0, first - 1), min(block_rows, last + 1)
            full = cv2.resize(mask[above:below], (width, pixel(below) - pixel(above)),
                              interpolation=cv2.INTER_LINEAR)
            top, bottom = pixel(first), pixel(last)
            full = full[top - pixel(above):bottom - pixel(above)]
            rows = slice(top, bottom)
            up = cv2.multiply(self._carrier_up[rows], full, scale=scale)
            down = cv2.multiply(self._carrier_down[rows], full, scale=scale)
            cv2.merge([up, up, up], dst=self._up[rows])  # rows of a C-ordered array: in place
            cv2.merge([down, down, down], dst=self._down[rows])

    def keep_out_factor(self, mask: np.ndarray, faces, width: int, height: int) -> float:
        """The faces' keep-out squares, in times their landmark boxes' longer sides: the widest of
        KEEP_OUT_STEPS (KEEP_OUT_WIDE covers MediaPipe's tracking crop) that leaves KEEP_OUT_POWER
        of the mark (`mask`: the texture mask, per block) outside the squares in the frame's
        middle, else KEEP_OUT; moving at most KEEP_OUT_SLEW from the last frame's."""
        rows, cols = mask.shape
        per_x, per_y = width / cols, height / rows
        top, left = rows // 10, cols // 10
        # The mark's power per block in the frame's middle, summed over rectangles in O(1).
        power = cv2.LUT(mask[top:rows - top, left:cols - left], _POWER_LUT)
        total = cv2.integral(power, sdepth=cv2.CV_64F)
        inner_rows, inner_cols = power.shape

        def inside(x0: int, y0: int, x1: int, y1: int) -> float:
            r0, r1 = (min(inner_rows, max(0, r)) for r in (int(y0 // per_y) - top, -int(-y1 // per_y) - top))
            c0, c1 = (min(inner_cols, max(0, c)) for c in (int(x0 // per_x) - left, -int(-x1 // per_x) - left))
            return float(total[r1, c1] - total[r0, c1] - total[r1, c0] + total[r0, c0])

        target = KEEP_OUT
        for factor in KEEP_OUT_STEPS:
            # Faces' squares that overlap are counted twice: a conservative (narrower) choice.
            kept = float(total[-1, -1]) - sum(inside(*face_keep_out(box, width, height, factor)) for box in faces)
            if kept >= KEEP_OUT_POWER:
                target = factor
                break
        last = self._keep_out_factor
        if last is not None:
            target = float(np.clip(target, last - KEEP_OUT_SLEW, last + KEEP_OUT_SLEW))
        self._keep_out_factor = target
        return target

    def seek(self, index: int) -> None:
        """Mark the next picture as frame `index` of the output (the temporal key's phase), and
        the ones after it as index + 1, ...: a part of a video marked on its own."""
        self._frame = index

    def embed(self, picture: np.ndarray, keep_out=(), index: int | None = None, faces=()) -> np.ndarray:
        """A marked copy of a BGR uint8 picture (the input is left untouched). `keep_out`:
        boxes (x0, y0, x1, y1) left exactly as they are. `faces`: the faces' landmark boxes, each
        left alone in a square `keep_out_factor` times its longer side (`face_keep_out`).
        `index`: the picture's position in the output video, which sets the temporal key's
        phase (a batch chunk's pictures are not the file's first); None: the count of pictures
        this Watermarker marked so far.

        Temporal propagation as in Video Seal (facebookresearch/videoseal,
        videoseal/models/video_wam.py: a delta is made every `step_size` frames and reused for
        the next ones): each frame recomputes one band in REFRESH_BANDS of the change from its
        own mask, plus every band where its picture is flatter than when the change was made
        (so a flat area is never marked more than its own mask allows), and reuses the rest."""
        if picture.ndim == 3 and picture.shape[2] == 4:  # BGRA (a face-only overlay): keep alpha
            marked = picture.copy()
            marked[:, :, :3] = self.embed(np.ascontiguousarray(picture[:, :, :3]), keep_out, index, faces)
            return marked
        if picture.ndim == 2:
            return self.embed(cv2.cvtColor(picture, cv2.COLOR_GRAY2BGR), keep_out, index, faces)[:, :, 1].copy()
        if picture.ndim != 3 or picture.shape[2] != 3:
            raise ValueError("expected a BGR picture")
        height, width = picture.shape[:2]
        if self._size != (width, height):
            self._prepare(width, height)
        mask = _texture_mask(picture, self.peak)
        if len(faces):
            factor = self._keep_out_factor
            if factor is None or self._frame % KEEP_OUT_EVERY == 0:
                factor = self.keep_out_factor(mask, faces, width, height)
            keep_out = [*keep_out, *(face_keep_out(box, width, height, factor) for box in faces)]
            mask = ramp_faces(mask, picture.shape, faces, factor)
        mask = _kept_out(mask, picture.shape, self.rms_budget, keep_out)
        if self._used is None or self._used.shape != mask.shape:
            block_rows = mask.shape[0]
            self._band_of_row = np.arange(block_rows) * REFRESH_BANDS // block_rows
            edges = np.searchsorted(self._band_of_row, np.arange(REFRESH_BANDS + 1))
            self._spans = [(int(edges[b]), int(edges[b + 1])) for b in range(REFRESH_BANDS)]
            self._used = mask.copy()
            wanted = set(range(REFRESH_BANDS))
        else:
            wanted = {self._frame % REFRESH_BANDS}
            # Bands where a block lost texture since its change was made: redo them now (the
            # erosion in _mask_map makes the neighbours of a block that turned flat lose
            # theirs too, so every pixel interpolated from it is redone).
            lost = (self._used > mask).any(axis=1)
            if lost.any():
                wanted.update(self._band_of_row[lost].tolist())
        spans = [self._spans[b] for b in sorted(wanted) if self._spans[b][1] > self._spans[b][0]]
        for first, last in spans:
            self._used[first:last] = mask[first:last]
        self._refresh(self._used, spans)
        # The temporal key: +pattern for KEY_HALF frames, -pattern for the next KEY_HALF (the
        # same buffers with their roles swapped: no cost), one level weaker on the first frame
        # after a switch (flat areas step +1, 0, -1).
        index = self._frame if index is None else index
        up, down = (self._up, self._down) if key_sign(index) > 0 else (self._down, self._up)
        if key_switching(index):  # into buffers kept for it: a fresh 720p pair cost ~1.5 ms
            up = cv2.subtract(up, _ONE, dst=self._switch_up)
            down = cv2.subtract(down, _ONE, dst=self._switch_down)
        marked = cv2.add(picture, up)
        cv2.subtract(marked, down, dst=marked)
        for x0, y0, x1, y1 in keep_out:
            marked[y0:y1, x0:x1] = picture[y0:y1, x0:x1]
        self._frame += 1
        return marked


# -- detection ---------------------------------------------------------------------------------
def luminance(picture: np.ndarray) -> np.ndarray:
    if picture.ndim == 2:
        return picture
    return cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)


def keep_out_weights(shape: tuple[int, int], picture_shape: tuple[int, ...], boxes) -> np.ndarray | None:
    """A map of `shape` (a working or keyed map's) that is 0 inside the keep-out squares of the
    faces whose landmark boxes are `boxes` (in the pixels of a picture of `picture_shape`) and 1
    elsewhere, or None when there is no face.

    The embedder leaves those squares untouched, so there the map holds only the picture's own
    residual: noise to the correlation, and on a face-filled frame most of it (d20's keep-out is
    a third of the frame, half of it once a 10% crop took the marked edges). Zeroing them is
    the matched filter's weight for a region without signal; it depends on the faces, never on
    the pattern, so unmarked footage keeps its null statistics (the searches normalise by the
    spread over offsets of whatever map they get). d20's 10% crop at CRF 23: 7.3 -> 11.9 at
    its sync (benchmarks/results/s19-mark/)."""
    if not boxes:
        return None
    height, width = picture_shape[:2]
    rows, cols = shape
    weights = np.ones(shape, np.float32)
    for box in boxes:
        # The narrowest square (KEEP_OUT): the embedder may have widened it, not narrowed it.
        x0, y0, x1, y1 = face_keep_out(box, width, height)
        # Only map pixels wholly inside the square: its edge still carries the mark's rim.
        weights[int(np.ceil(y0 * rows / height)):int(y1 * rows / height),
                int(np.ceil(x0 * cols / width)):int(x1 * cols / width)] = 0.0
    return weights


def working_map(picture: np.ndarray) -> np.ndarray:
    """The whitened luminance at WORK_PX pixels per nominal cell (float32); maps of frames of
    one clip can be averaged before `search`."""
    residual, spread = _residual(picture)
    # ...and tame edges and texture, the big, non-Gaussian part of what is left: clipping hard
    # (near a sign detector) raised the strength on the test pictures by 25-80% over 2.5 sigma.
    return np.clip(residual, -CLIP * spread, CLIP * spread) / spread


def _residual(picture: np.ndarray) -> tuple[np.ndarray, float]:
    """(the luminance at WORK_PX pixels per nominal cell less what is smooth at the scale of a
    few cells: the mark and the picture's detail, not the picture; its robust spread)."""
    y = luminance(picture)
    height, width = y.shape
    factor = WORK_PX * CELLS_PER_SIDE / min(width, height)
    work_w, work_h = max(8, round(width * factor)), max(8, round(height * factor))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    small = cv2.resize(y, (work_w, work_h), interpolation=interpolation).astype(np.float32)
    residual = small - cv2.blur(small, (WORK_PX + 1, WORK_PX + 1), borderType=cv2.BORDER_REFLECT)
    return residual, float(np.median(np.abs(residual))) * 1.4826 + 1e-3


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
    nominal: bool = False
    """True when the sync is the nominal one (NOMINAL_SCALES, NOMINAL_SHIFTS): judged against
    Z_NOMINAL, a threshold for 45 tests, instead of Z_FOUND for the full search."""
    phase: int | None = None
    """The temporal key's phase the map was combined with (`KeyedSums.keyed`); None for a plain
    map (one picture, or frames simply averaged)."""
    mirrored: bool = False
    """Found in the map flipped left to right (`mirror`): the picture was mirrored; judged by
    Z_MIRRORED. Maps of single frames must be flipped too before `strength_at` (`turned`)."""
    rotation: float = 0.0
    """Degrees the map was turned back by (`unrotate`, one of ROTATIONS) to find the mark: the
    picture was turned by about that much; judged by Z_ROTATED. Maps of single frames must be
    turned too before `strength_at` (`turned`)."""

    @property
    def found(self) -> bool:
        if self.rotation:
            return self.z >= Z_ROTATED
        if self.mirrored:
            return self.z >= Z_MIRRORED
        return self.z >= (Z_NOMINAL if self.nominal else Z_FOUND)

    @property
    def energy(self) -> float:
        return float(np.sum(self.soft_bits ** 2))

    @property
    def payload(self) -> tuple[int, int] | None:
        return read_payload(self.soft_bits)


def read_payload(soft_bits: np.ndarray) -> tuple[int, int] | None:
    """(version, session) from soft bits of either sign: a frame carries the pattern or its
    negative (the temporal key), and no codeword's complement passes the CRC (checked over all
    2**16 session ids), so both readings cannot hold at once."""
    bits = (np.asarray(soft_bits) > 0).astype(np.uint8)
    return decode_payload(bits) or decode_payload(1 - bits)


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


def _best_at(work: np.ndarray, scales, shifts=None) -> tuple[float, float, tuple[int, int], np.ndarray]:
    """(strength, scale, shift, soft bits) of the best offset over `scales`.

    The payload is unknown, so presence is judged without it: the sum over bits of the squared
    correlations (an energy detector) uses the whole pattern for synchronisation, and the signs
    at the best offset are the bits."""
    best = None
    for scale in scales:
        surfaces = _surfaces(_fold(work, float(scale)))
        energy = np.einsum("bij,bij->ij", surfaces, surfaces)
        if shifts is not None:  # only these offsets (rows, cols in half cells, cyclic)
            allowed = np.full(energy.shape, -1.0, energy.dtype)
            for dy, dx in shifts:
                allowed[dy % energy.shape[0], dx % energy.shape[1]] = energy[dy % energy.shape[0],
                                                                             dx % energy.shape[1]]
            energy = allowed
        index = np.unravel_index(int(np.argmax(energy)), energy.shape)
        if best is None or energy[index] > best[0]:
            best = (float(energy[index]), float(scale), (int(index[0]), int(index[1])),
                    surfaces[:, index[0], index[1]].copy())
    return best


def search_nominal(work: np.ndarray) -> Detection:
    """The mark at the nominal sync only (an uncropped picture): 45 tests, judged by Z_NOMINAL."""
    energy, scale, shift, bits = _best_at(work, NOMINAL_SCALES, NOMINAL_SHIFTS)
    return Detection(z=float(_strength(energy)), sync=Sync(scale, shift), soft_bits=bits, nominal=True)


def mirror(work: np.ndarray) -> np.ndarray:
    """A working map flipped left to right: a mirrored picture's map, flipped back, holds the
    pattern at the nominal sync again."""
    return np.ascontiguousarray(work[:, ::-1])


def unrotate(work: np.ndarray, degrees: float) -> np.ndarray:
    """A working map turned by -`degrees` about its centre (what a picture turned by `degrees`
    about its centre, as cv2.getRotationMatrix2D counts them, needs to hold the tile at the
    nominal sync again); the corners that come from outside the map are 0 (no evidence)."""
    height, width = work.shape
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), -degrees, 1.0)
    return cv2.warpAffine(work, matrix, (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def fill_zoom(shape: tuple[int, int], degrees: float) -> float:
    """The zoom with which a picture of `shape` turned by `degrees` about its centre fills its
    frame again (no corner left empty): what an editor's straighten tool applies."""
    turn = np.radians(abs(degrees))
    return float(np.cos(turn) + max(shape) / min(shape) * np.sin(turn))


def _zoomed_shifts(shape: tuple[int, int], zoom: float) -> tuple[tuple[int, int], ...]:
    """The nominal shifts moved to where a zoom by `zoom` about the map's centre puts the tile's
    origin (in half cells of the zoomed tile)."""
    step = zoom * WORK_PX / 2
    oy, ox = ((shape[0] - 1) / 2 * (1 - zoom)) / step, ((shape[1] - 1) / 2 * (1 - zoom)) / step
    return tuple((round(oy) + dy, round(ox) + dx) for dy, dx in NOMINAL_SHIFTS)


def turned(work: np.ndarray, detection: Detection) -> np.ndarray:
    """A frame's map turned the way `detection` found the mark (mirrored, rotated back), for
    `strength_at` at its sync."""
    if detection.mirrored:
        work = mirror(work)
    if detection.rotation:
        work = unrotate(work, detection.rotation)
    return work


def search_rotated(candidates: list[tuple[int | None, np.ndarray]]) -> Detection:
    """The best of the maps turned back by each of ROTATIONS, at the nominal sync (scale 1, the
    9 shifts) and at the sync a straighten tool's zoom gives (`fill_zoom`, 9 shifts), judged by
    Z_ROTATED."""
    best = None
    for degrees in ROTATIONS:
        for phase, work in candidates:
            back = unrotate(work, degrees)
            energy, scale, shift, bits = _best_at(back, (1.0,), NOMINAL_SHIFTS)
            # The same turn straightened with the zoom that fills the frame (its tile's cells
            # larger, its origin moved by the zoom about the centre).
            zoom = fill_zoom(work.shape, degrees)
            filled = _best_at(back, (zoom,), _zoomed_shifts(work.shape, zoom))
            if filled[0] > energy:
                energy, scale, shift, bits = filled
            if best is None or energy > best[0]:
                best = (energy, scale, shift, bits, phase, degrees)
    energy, scale, shift, bits, phase, degrees = best
    return Detection(z=float(_strength(energy)), sync=Sync(scale, shift), soft_bits=bits,
                     nominal=True, phase=phase, rotation=degrees)


def search(work: np.ndarray, scales: tuple[float, ...] = SCALES) -> Detection:
    """Find the mark in a working map (or the mean of several): first at the nominal sync (45
    tests, Z_NOMINAL), then the same flipped back (a mirrored picture, Z_MIRRORED), then turned
    back by each of ROTATIONS (Z_ROTATED), then over every scale and offset (Z_FOUND). Four
    tests whose false-alarm rates are ~1e-6, ~3e-7, ~6e-8 and ~1e-6 per map."""
    nominal = search_nominal(work)
    if nominal.found:
        return nominal
    mirrored = search_nominal(mirror(work))
    if mirrored.z >= Z_MIRRORED:
        return Detection(z=mirrored.z, sync=mirrored.sync, soft_bits=mirrored.soft_bits,
                         nominal=True, mirrored=True)
    rotated = search_rotated([(None, work)])
    if rotated.found:
        return rotated
    return _search_all(work, scales)


def _search_all(work: np.ndarray, scales: tuple[float, ...] = SCALES) -> Detection:
    """Every scale and offset."""
    coarse = _best_at(work, scales)
    # The coarse grid can be 0.6% off: enough to drift half a cell across a frame, which costs
    # the payload more than the presence. Refine around the best scale.
    step = (SCALES[1] / SCALES[0]) ** 0.5
    fine = _best_at(work, coarse[1] * np.geomspace(1 / step, step, 7))
    energy, scale, shift, bits = max(coarse, fine, key=lambda item: item[0])
    return Detection(z=float(_strength(energy)), sync=Sync(scale, shift), soft_bits=bits)


class KeyedSums:
    """Working maps of a video (one size) summed by frame index modulo KEY_PERIOD, so that the map
    of any key phase, and the plain average, can be formed after the frames were seen."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = shape
        self.sums = np.zeros((KEY_PERIOD, *shape), np.float32)
        self.counts = np.zeros(KEY_PERIOD, np.int64)
        # Squared steps between consecutive frames' maps: where the picture moves (see weights).
        self.steps = np.zeros(shape, np.float32)
        self.step_count = 0
        self._last: tuple[int, np.ndarray] | None = None

    def add(self, work: np.ndarray, index: int) -> None:
        self.sums[index % KEY_PERIOD] += work
        self.counts[index % KEY_PERIOD] += 1
        if self._last is not None and self._last[0] == index - 1:
            self.steps += (work - self._last[1]) ** 2
            self.step_count += 1
        self._last = (index, work)

    def weights(self) -> np.ndarray | None:
        """Per working-map pixel, how much it is trusted: the inverse of the picture's own change
        from frame to frame there (half the mean squared step between consecutive maps, over a
        cell), or None for fewer than two consecutive frames.

        The mark is left off the faces (and a face is what moves), and its sign is still for
        KEY_HALF frames, so where consecutive maps differ a lot the keyed map holds the moving
        picture's clipped residual, not the mark: weighting by the inverse of that noise's
        variance (the matched filter for noise of unequal variance) stops the face of a
        face-filled frame from drowning the background that carries the mark (d3 at 0.5x +
        CRF 23: strength 8.6 -> 12.6, its 10% crop 7.5 -> 9.4; benchmarks/results/s16_mark/).
        Steps, not the variance over the clip: the key's own switch would count as noise there
        and take weight from where the mark is strongest (d9 at 0.5x: 11.7 -> 10.0 that way).
        Unmarked footage keeps its null statistics: `_surfaces` normalises by the spread over
        offsets of whatever map it is given."""
        if not self.step_count:
            return None
        variance = cv2.blur(self.steps / (2 * self.step_count), (WEIGHT_SPAN, WEIGHT_SPAN),
                            borderType=cv2.BORDER_REFLECT)
        weights = 1.0 / (variance + WEIGHT_FLOOR)
        return (weights / float(weights.mean())).astype(np.float32)

    @property
    def frames(self) -> int:
        return int(self.counts.sum())

    def mean(self) -> np.ndarray:
        return self.sums.sum(axis=0) / max(1, self.frames)

    def keyed(self, phase: int) -> np.ndarray | None:
        """Mean of the frames the key gives + minus mean of those it gives -, frame n taking
        key_sign(n + phase): the still picture cancels whatever the numbers of + and - frames,
        the mark adds up. None when one side has no frame."""
        signs = np.array([key_sign(k + phase) for k in range(KEY_PERIOD)])
        plus, minus = self.counts[signs > 0].sum(), self.counts[signs < 0].sum()
        if not plus or not minus:
            return None
        return self.sums[signs > 0].sum(axis=0) / plus - self.sums[signs < 0].sum(axis=0) / minus

    def candidates(self) -> list[tuple[int | None, np.ndarray]]:
        """(phase, map) for every key phase that splits the frames, and the plain average (None):
        one picture, a clip shorter than the key, or a mark without the key (version 1)."""
        maps: list[tuple[int | None, np.ndarray]] = [(None, self.mean())]
        for phase in range(KEY_HALF):
            keyed = self.keyed(phase)
            if keyed is not None:
                maps.append((phase, keyed))
        weights = self.weights()
        if weights is not None:
            maps = [(phase, work * weights) for phase, work in maps]
        return maps


LOCAL_SPAN = 7
"""Working-map pixels (about two cells) over which `keyed_map` measures the residual's local RMS."""
LOCAL_CLIP = 2.0
"""`keyed_map` clips the locally normalised residual at LOCAL_CLIP (edges only: every region
already enters at unit variance)."""
FRAME_WEIGHT_SPAN = 3
"""Working-map pixels over which `AdaptiveKeyedSums` averages a frame's squared steps."""


def keyed_map(picture: np.ndarray) -> np.ndarray:
    """The residual of `working_map` divided by its local RMS (LOCAL_SPAN) and clipped at
    LOCAL_CLIP: the map `AdaptiveKeyedSums` adds up over a clip.

    `working_map` divides by one global spread and clips at CLIP (a near sign detector), which
    saturates on texture: clip(texture + mark) == clip(texture - mark), so the mark on still
    texture is gone before the temporal key's +/- difference could cancel that texture. Normalised
    per block (a locally adaptive whitening), each region enters at unit variance and keeps the
    mark's share of it; the key's difference cancels what stands still and the per-frame weights
    suppress what moves. Measured on the benchmark's clips (benchmarks/results/s18-mark/): d20 at
    CRF 30 6.1-8.0 -> 8.0-8.1, d3's 10 % crop 8.4-10.9 -> 11.3-14.8, unmarked clips unchanged."""
    residual, spread = _residual(picture)
    residual /= spread
    local = np.sqrt(cv2.blur(residual * residual, (LOCAL_SPAN, LOCAL_SPAN), borderType=cv2.BORDER_REFLECT)) + 1e-3
    return np.clip(residual / local, -LOCAL_CLIP, LOCAL_CLIP).astype(np.float32)


class AdaptiveKeyedSums:
    """Like KeyedSums, for `keyed_map`s, with a weight per frame and pixel instead of one per
    pixel: frame t counts at a pixel by the inverse of its own change there (half the mean of its
    squared steps to frames t-1 and t+1, over FRAME_WEIGHT_SPAN, plus WEIGHT_FLOOR), so a frame in
    a gust of foliage or while a swapped face moves counts less than the still frames around it.
    Each key side is a weighted mean (S/W per pixel: what stands still still cancels exactly), and
    the keyed map is multiplied by the inverse of its variance, W+W-/(W+ + W-), normalised to
    mean 1 (the matched filter for noise of unequal variance). One frame is held back until the
    next one gives its second step."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = shape
        self.sums = np.zeros((KEY_PERIOD, *shape), np.float32)
        self.weight_sums = np.zeros((KEY_PERIOD, *shape), np.float32)
        self.counts = np.zeros(KEY_PERIOD, np.int64)
        # (index, map, squared step to the previous frame or None) of the frame held back.
        self._pending: tuple[int, np.ndarray, np.ndarray | None] | None = None

    def _weight(self, steps: list[np.ndarray]) -> np.ndarray | float:
        if not steps:
            return 1.0
        variance = cv2.blur(sum(steps) / (2 * len(steps)), (FRAME_WEIGHT_SPAN, FRAME_WEIGHT_SPAN),
                            borderType=cv2.BORDER_REFLECT)
        return 1.0 / (variance + WEIGHT_FLOOR)

    @staticmethod
    def _commit(sums, weight_sums, index, work, weight) -> None:
        sums[index % KEY_PERIOD] += weight * work
        weight_sums[index % KEY_PERIOD] += weight

    def add(self, work: np.ndarray, index: int) -> None:
        step = None
        if self._pending is not None:
            last_index, last, before = self._pending
            if last_index == index - 1:
                step = (work - last) ** 2
            self._commit(self.sums, self.weight_sums, last_index, last,
                         self._weight([s for s in (before, step) if s is not None]))
        self.counts[index % KEY_PERIOD] += 1
        self._pending = (index, work, step)

    def _totals(self) -> tuple[np.ndarray, np.ndarray]:
        sums, weight_sums = self.sums.copy(), self.weight_sums.copy()
        if self._pending is not None:
            index, work, before = self._pending
            self._commit(sums, weight_sums, index, work, self._weight([before] if before is not None else []))
        return sums, weight_sums

    @property
    def frames(self) -> int:
        return int(self.counts.sum())

    def candidates(self) -> list[tuple[int | None, np.ndarray]]:
        """(phase, map) for every key phase that splits the frames, and the weighted average (None)."""
        sums, weight_sums = self._totals()
        total = weight_sums.sum(axis=0)
        maps: list[tuple[int | None, np.ndarray]] = [
            (None, sums.sum(axis=0) / np.maximum(total, 1e-9) * (total / max(float(total.mean()), 1e-9)))]
        for phase in range(KEY_HALF):
            signs = np.array([key_sign(k + phase) for k in range(KEY_PERIOD)])
            if not self.counts[signs > 0].sum() or not self.counts[signs < 0].sum():
                continue
            plus, minus = weight_sums[signs > 0].sum(axis=0), weight_sums[signs < 0].sum(axis=0)
            keyed = sums[signs > 0].sum(axis=0) / plus - sums[signs < 0].sum(axis=0) / minus
            trust = plus * minus / (plus + minus)
            maps.append((phase, (keyed * (trust / float(trust.mean()))).astype(np.float32)))
        return maps


def search_keyed(sums: KeyedSums | AdaptiveKeyedSums, scales: tuple[float, ...] = SCALES) -> Detection:
    """Find the mark in the frames of a video: every key phase (and the plain average) at the
    nominal sync first (Z_NOMINAL), then over every scale and offset (Z_FOUND). The thresholds
    allow for the KEY_HALF + 1 maps tried."""
    candidates = sums.candidates()
    nominal = search_keyed_nominal(candidates)
    if nominal.found:
        return nominal
    mirrored = search_keyed_nominal(candidates, mirrored=True)
    if mirrored.found:
        return mirrored
    rotated = search_rotated(candidates)
    return rotated if rotated.found else search_keyed_all(candidates, scales)


def search_keyed_nominal(candidates: list[tuple[int | None, np.ndarray]],
                         mirrored: bool = False) -> Detection:
    """The best of `KeyedSums.candidates()` at the nominal sync (judged by Z_NOMINAL), or, with
    `mirrored`, of the same maps flipped back (judged by Z_MIRRORED)."""
    best = None
    for phase, work in candidates:
        if mirrored:
            work = mirror(work)
        energy, scale, shift, bits = _best_at(work, NOMINAL_SCALES, NOMINAL_SHIFTS)
        if best is None or energy > best[0]:
            best = (energy, scale, shift, bits, phase)
    energy, scale, shift, bits, phase = best
    return Detection(z=float(_strength(energy)), sync=Sync(scale, shift), soft_bits=bits,
                     nominal=True, phase=phase, mirrored=mirrored)


def search_keyed_all(candidates: list[tuple[int | None, np.ndarray]],
                     scales: tuple[float, ...] = SCALES) -> Detection:
    """The best of `KeyedSums.candidates()` over every scale and offset (judged by Z_FOUND): the
    coarse scales for every map, then the best map refined."""
    coarse = max(((*_best_at(work, scales), phase, work) for phase, work in candidates),
                 key=lambda item: item[0])
    step = (SCALES[1] / SCALES[0]) ** 0.5
    work, phase = coarse[5], coarse[4]
    fine = _best_at(work, coarse[1] * np.geomspace(1 / step, step, 7))
    energy, scale, shift, bits = max(coarse[:4], fine, key=lambda item: item[0])
    return Detection(z=float(_strength(energy)), sync=Sync(scale, shift), soft_bits=bits, phase=phase)


def strength_at(work: np.ndarray, sync: Sync) -> float:
    """The strength of one map at a known scale and offset (a single test, no search)."""
    return float(_strength(np.sum(_bits_at(_fold(work, sync.scale), sync.shift) ** 2)))


def detect(picture: np.ndarray) -> Detection:
    """Search one picture."""
    return search(working_map(picture))
