"""Hand-crafted colour, texture and motion statistics of a clip, computed in the TF graph.

Nothing here is learned. The full-size picture is read once (2x2 means, 112x112);
everything else works on the 112 / 56 / 28 / 14 pyramid with differences of shifted
slices and reductions, because on two CPU cores memory traffic, not arithmetic, is the cost.
"""

from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

FRAME_SIZE = 224
# Feature groups in the order they are concatenated; the encoder balances the groups.
GROUP_SIZES = {"colour": 52, "texture": 35, "motion": 24}
FEATURE_COUNT = sum(GROUP_SIZES.values())
# log(m + eps): eps sits near the noise floor, so sensor noise and codec grain stay small.
_LOG_EPS = 1e-2
_HIST_BINS = 8
_GRAD_THRESHOLDS = (0.015, 0.03, 0.06, 0.12, 0.24, 0.48)
_MOTION_THRESHOLDS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32)
_EXTREMA_TAU = 0.02
# Orientation statistics are divided by (energy + floor): a near-flat picture, whose few
# gradients are noise and whose "orientation" is chance, gets values near zero.
_ORIENTATION_FLOOR = 4e-4

# RGB -> (Y, Cb, Cr) with Cb and Cr in [-0.5, 0.5] (BT.601).
_YCC = np.array(
    [[0.299, -0.168736, 0.5], [0.587, -0.331264, -0.418688], [0.114, 0.5, -0.081312]],
    np.float32,
)


def _log(value: tf.Tensor) -> tf.Tensor:
    return tf.math.log(value + _LOG_EPS)


def _half(x: tf.Tensor) -> tf.Tensor:
    """[N, H, W, C] (uint8 or float) -> float [N, H/2, W/2, C], the exact 2x2 means.

    Bilinear sampling at half-pixel centres lands midway between four pixels when the
    factor is exactly 2, so it is the 2x2 mean, and several times cheaper than
    avg_pool2d or ResizeArea here.
    """
    size = [x.shape[1] // 2, x.shape[2] // 2]
    return tf.raw_ops.ResizeBilinear(images=x, size=size, half_pixel_centers=True)


def _mean_hw(x: tf.Tensor) -> tf.Tensor:
    return tf.reduce_mean(x, axis=[1, 2])


def _soft_cdf(values: tf.Tensor, thresholds: tuple[float, ...]) -> tf.Tensor:
    """[N, H, W, 1] -> share of pixels above each threshold [N, k], smoothed so that values
    near a threshold (noise, codec grain) move the feature a little instead of a count."""
    t = np.asarray(thresholds, np.float32)
    # sigmoid((v - t) / (t / 4)), as one multiply-add over the broadcast tensor.
    return _mean_hw(tf.sigmoid(values * tf.constant(4.0 / t) - 4.0))


def _soft_histogram(values: tf.Tensor) -> tf.Tensor:
    """[N, H, W, C] values in [0, 1] -> triangular-kernel histograms [N, C * bins]."""
    centres = tf.range(_HIST_BINS, dtype=tf.float32)
    position = values[..., None] * (_HIST_BINS - 1)  # in bin units
    weights = tf.nn.relu(1.0 - tf.abs(position - centres))
    hist = _mean_hw(weights)
    return tf.reshape(hist, [-1, values.shape[-1] * _HIST_BINS])


def _grid_means(x: tf.Tensor) -> tf.Tensor:
    """[N, H, W, C] -> the 2x2 grid of cell means, flattened to [N, 4 * C]."""
    return tf.reshape(tf.raw_ops.ResizeArea(images=x, size=[2, 2]), [-1, 4 * x.shape[-1]])


def _orientation(exx: tf.Tensor, eyy: tf.Tensor, exy: tf.Tensor) -> tf.Tensor:
    """Dominant orientation as a doubled-angle vector scaled by how pronounced it is."""
    total = exx + eyy + _ORIENTATION_FLOOR
    return tf.stack([(exx - eyy) / total, 2.0 * exy / total], axis=-1)


class _Scale:
    """Forward differences of one luma level [N, H, W] and the statistics built on them.

    Slices, not conv2d: a one-channel convolution was several times slower here.
    """

    def __init__(self, y: tf.Tensor) -> None:
        self.dx = y[:, :, 1:] - y[:, :, :-1]  # [N, H, W-1]
        self.dy = y[:, 1:, :] - y[:, :-1, :]  # [N, H-1, W]

    @functools.cached_property
    def gx(self) -> tf.Tensor:  # [N, H-1, W-1], aligned with gy
        return self.dx[:, :-1, :]

    @functools.cached_property
    def gy(self) -> tf.Tensor:
        return self.dy[:, :, :-1]

    @functools.cached_property
    def grad_sq(self) -> tf.Tensor:
        return self.gx * self.gx + self.gy * self.gy

    def rms_grad(self) -> tf.Tensor:
        return tf.sqrt(_mean_hw(self.dx * self.dx) + _mean_hw(self.dy * self.dy))

    def rms_laplacian(self) -> tf.Tensor:
        dxx = self.dx[:, 1:-1, 1:] - self.dx[:, 1:-1, :-1]
        dyy = self.dy[:, 1:, 1:-1] - self.dy[:, :-1, 1:-1]
        return tf.sqrt(_mean_hw(tf.square(dxx + dyy)))

    def orientation(self) -> tf.Tensor:
        return _orientation(
            _mean_hw(self.gx * self.gx), _mean_hw(self.gy * self.gy), _mean_hw(self.gx * self.gy)
        )

    def curvature_orientation(self) -> tf.Tensor:
        """Orientation of second derivatives: lines and ridges rather than edges."""
        dxx = self.dx[:, :, 1:] - self.dx[:, :, :-1]
        dyy = self.dy[:, 1:, :] - self.dy[:, :-1, :]
        dxy = self.dx[:, 1:, :] - self.dx[:, :-1, :]
        return _orientation(_mean_hw(dxx * dxx), _mean_hw(dyy * dyy), 2.0 * _mean_hw(dxy * dxy))

    def extrema(self) -> tf.Tensor:
        """LBP-like: share of pixels that are a strict local peak or valley along x and along
        y (both differences beyond a small tolerance): how busy the fine structure is."""
        tau2 = _EXTREMA_TAU * _EXTREMA_TAU
        out = []
        for before, after in (
            (self.dx[:, :, :-1], self.dx[:, :, 1:]),
            (self.dy[:, :-1, :], self.dy[:, 1:, :]),
        ):
            # Rising then falling (a peak) or the reverse (a valley): a negative product.
            out.append(_mean_hw(tf.sigmoid((-before * after - tau2) / tau2)))
        return tf.stack(out, axis=-1)


def _colour(rgb4: tf.Tensor, rgb8: tf.Tensor) -> tf.Tensor:
    ycc8 = tf.tensordot(rgb8, tf.constant(_YCC), 1)
    brightest, darkest = tf.reduce_max(rgb8, axis=-1), tf.reduce_min(rgb8, axis=-1)
    saturation = (brightest - darkest) / (brightest + 1e-2)
    chroma = tf.sqrt(tf.reduce_sum(tf.square(ycc8[..., 1:]), axis=-1) + 1e-8)
    rgb_mean, rgb_var = tf.nn.moments(rgb4, axes=[1, 2])
    ycc_mean, ycc_var = tf.nn.moments(ycc8, axes=[1, 2])
    sat_mean, sat_var = tf.nn.moments(saturation, axes=[1, 2])
    chroma_mean, chroma_var = tf.nn.moments(chroma, axes=[1, 2])
    return tf.concat(
        [
            rgb_mean,  # 3
            tf.sqrt(rgb_var + 1e-8),  # 3
            ycc_mean,  # 3
            tf.sqrt(ycc_var + 1e-8),  # 3
            tf.stack(
                [sat_mean, tf.sqrt(sat_var + 1e-8), chroma_mean, tf.sqrt(chroma_var + 1e-8)], -1
            ),  # 4
            _soft_histogram(ycc8 + tf.constant([0.0, 0.5, 0.5])),  # 24
            _grid_means(rgb8),  # 12
        ],
        axis=-1,
    )


def _texture(scales: dict[int, _Scale], rgb4: tf.Tensor) -> tf.Tensor:
    s2, s4, s8, s16 = (scales[s] for s in (2, 4, 8, 16))
    chroma4 = tf.nn.conv2d(rgb4, tf.constant(_YCC[None, None, :, 1:]), 1, "VALID")  # Cb, Cr
    cdx = chroma4[:, :, 1:] - chroma4[:, :, :-1]
    cdy = chroma4[:, 1:] - chroma4[:, :-1]
    chroma_grad = tf.sqrt(_mean_hw(cdx * cdx) + _mean_hw(cdy * cdy))  # [N, 2]
    grid4 = _grid_means(s4.grad_sq[..., None])
    return tf.concat(
        [
            tf.stack([_log(s.rms_grad()) for s in (s2, s4, s8, s16)], -1),  # 4
            tf.stack([_log(s.rms_laplacian()) for s in (s2, s4, s8)], -1),  # 3
            # Orientation only at fine scales: at coarse ones it follows the layout of the
            # particular shot (where the buildings stand), not the kind of texture.
            s2.orientation(),  # 2
            s4.orientation(),  # 2
            s4.curvature_orientation(),  # 2
            _soft_cdf(tf.sqrt(s4.grad_sq + 1e-8)[..., None], _GRAD_THRESHOLDS),  # 6
            _soft_cdf(tf.sqrt(s8.grad_sq + 1e-8)[..., None], _GRAD_THRESHOLDS),  # 6
            s4.extrema(),  # 2
            s8.extrema(),  # 2
            _log(tf.sqrt(grid4)),  # 4
            _log(chroma_grad),  # 2
        ],
        axis=-1,
    )


def _motion(
    ys: dict[int, tf.Tensor], scales: dict[int, _Scale], rgb_means: tf.Tensor, batch: tf.Tensor
) -> tf.Tensor:
    """Statistics of consecutive-frame differences, per clip ([B, T, ...] -> [B, 24])."""

    def clip_view(x: tf.Tensor) -> tf.Tensor:
        return tf.reshape(x, [batch, -1, x.shape[1], x.shape[2]])

    views = {s: clip_view(ys[s]) for s in (4, 8, 16)}
    frames = tf.shape(views[8])[1]
    # A single frame has no motion: pad its (empty) differences with one zero difference.
    pairs = tf.maximum(frames - 1, 1)

    def diffs(v: tf.Tensor) -> tf.Tensor:
        d = v[:, 1:] - v[:, :-1]
        return tf.concat([d, tf.zeros_like(v[:, :1])], axis=1)[:, :pairs]

    d = {s: diffs(v) for s, v in views.items()}
    change = {s: tf.reduce_mean(tf.abs(d[s]), axis=[1, 2, 3]) for s in d}
    contrast = {
        s: tf.reduce_mean(tf.reshape(tf.sqrt(scales[s].grad_sq + 1e-8), [batch, -1]), -1) for s in d
    }
    a8 = tf.abs(d[8])
    # Global translation from brightness constancy (Lucas-Kanade over the whole frame):
    # signed pan direction and speed, without an optical-flow field.
    flow = []
    for s in (8, 16):
        gx = clip_view(scales[s].gx)[:, :pairs]
        gy = clip_view(scales[s].gy)[:, :pairs]
        dt = d[s][:, :, :-1, :-1]
        vx = -tf.reduce_sum(gx * dt, [1, 2, 3]) / (tf.reduce_sum(gx * gx, [1, 2, 3]) + 1e-3)
        vy = -tf.reduce_sum(gy * dt, [1, 2, 3]) / (tf.reduce_sum(gy * gy, [1, 2, 3]) + 1e-3)
        flow += [tf.tanh(vx), tf.tanh(vy)]
    grid = tf.reshape(_grid_means(tf.reshape(a8, [-1, 28, 28, 1])), [batch, -1, 4])
    # Decorrelation of consecutive frames: 0 for a still picture, ~1 after a cut.
    v8 = views[8]
    x0 = tf.reshape(v8[:, :pairs], [batch, pairs, -1])
    x1 = tf.reshape(tf.concat([v8[:, 1:], v8[:, :1]], axis=1)[:, :pairs], [batch, pairs, -1])
    x0 -= tf.reduce_mean(x0, -1, keepdims=True)
    x1 -= tf.reduce_mean(x1, -1, keepdims=True)
    corr = tf.reduce_sum(x0 * x1, -1) / (
        tf.sqrt(tf.reduce_sum(x0 * x0, -1) * tf.reduce_sum(x1 * x1, -1)) + 1e-6
    )
    decorrelation = tf.where(frames > 1, 1.0 - tf.reduce_mean(corr, axis=1), tf.zeros([batch]))
    accel = tf.abs(v8[:, 2:] - 2.0 * v8[:, 1:-1] + v8[:, :-2])
    accel_mean = tf.where(frames > 2, tf.reduce_mean(accel, axis=[1, 2, 3]), tf.zeros([batch]))
    colour_steps = tf.abs(rgb_means[:, 1:] - rgb_means[:, :-1])
    colour_change = tf.where(
        frames > 1, tf.reduce_mean(colour_steps, axis=[1, 2]), tf.zeros([batch])
    )
    brightness = tf.reduce_mean(rgb_means, axis=-1)
    return tf.concat(
        [
            tf.stack([_log(change[s]) for s in (4, 8, 16)], -1),  # 3
            # |dI/dt| ~ speed * |grad I|: this ratio estimates the speed in pixels per
            # frame whatever the texture's contrast.
            tf.stack(
                [tf.math.log((change[s] + _LOG_EPS) / (contrast[s] + _LOG_EPS)) for s in d], -1
            ),  # 3
            _soft_cdf(tf.reshape(a8, [batch, -1, 28, 1]), _MOTION_THRESHOLDS),  # 6
            _log(tf.reduce_mean(grid, axis=1)),  # 4
            tf.stack(flow, -1),  # 4
            tf.stack(
                [
                    _log(colour_change),
                    _log(tf.math.reduce_std(brightness, axis=1)),
                    decorrelation,
                    _log(accel_mean),
                ],
                -1,
            ),  # 4
        ],
        axis=-1,
    )


def clip_features(frames: tf.Tensor) -> tf.Tensor:
    """uint8 [B, T, 224, 224, 3] -> float32 [B, FEATURE_COUNT] raw (unstandardised) statistics.

    Per-frame colour and texture statistics are averaged over the frames; motion
    statistics come from consecutive frames.
    """
    batch = tf.shape(frames)[0]
    # Resizing reads the uint8 picture directly: no full-size float copy is made (at 100
    # frames that copy alone cost more than everything else here).
    rgb2 = _half(tf.reshape(frames, [-1, FRAME_SIZE, FRAME_SIZE, 3])) * (1.0 / 255.0)
    rgb4 = _half(rgb2)
    rgb8 = _half(rgb4)
    luma = tf.constant(_YCC[None, None, :, :1])
    ys = {2: tf.nn.conv2d(rgb2, luma, strides=1, padding="VALID")}
    for scale in (4, 8, 16):
        ys[scale] = _half(ys[scale // 2])
    flat = {s: y[..., 0] for s, y in ys.items()}
    scales = {s: _Scale(y) for s, y in flat.items()}
    per_frame = tf.concat([_colour(rgb4, rgb8), _texture(scales, rgb4)], axis=-1)
    per_frame = tf.reshape(per_frame, [batch, -1, per_frame.shape[-1]])
    rgb_means = tf.reshape(_mean_hw(rgb8), [batch, -1, 3])
    return tf.concat(
        [tf.reduce_mean(per_frame, axis=1), _motion(flat, scales, rgb_means, batch)], axis=-1
    )
