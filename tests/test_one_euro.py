import numpy as np

from realtime.faces.one_euro import OneEuroFilter
from realtime.faces.tracking import smoothing_parameters


def test_still_noisy_points_are_smoothed():
    rng = np.random.default_rng(0)
    truth = rng.uniform(0, 500, (478, 3)).astype(np.float32)
    filt = OneEuroFilter(*smoothing_parameters(0.5))
    outputs = []
    for step in range(120):
        noisy = truth + rng.normal(0, 1.0, truth.shape).astype(np.float32)
        outputs.append(filt(noisy, step / 30, scale=200))
    raw_jitter = 1.0 * np.sqrt(2)
    out = np.array(outputs[30:])
    filtered_jitter = np.abs(np.diff(out, axis=0)).std()
    assert filtered_jitter < 0.35 * raw_jitter


def test_a_fast_move_is_followed_without_much_lag():
    filt = OneEuroFilter(*smoothing_parameters(0.5))
    points = np.zeros((478, 3), dtype=np.float32)
    for step in range(10):
        filt(points, step / 30, scale=200)
    # The face jumps by a face size per frame for 5 frames (a very fast turn), then stops.
    for step in range(10, 15):
        points = points + 200
        out = filt(points, step / 30, scale=200)
    lag = float(np.abs(points - out).mean())
    assert lag < 200  # less than one frame's motion behind
    for step in range(15, 25):
        out = filt(points, step / 30, scale=200)
    assert float(np.abs(points - out).mean()) < 10


def test_repeated_timestamps_do_not_divide_by_zero():
    filt = OneEuroFilter()
    value = np.ones((5, 2), dtype=np.float32)
    filt(value, 1.0)
    assert np.isfinite(filt(value * 2, 1.0)).all()
