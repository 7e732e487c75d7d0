"""Consumer MEMS error model, firmware decimation and delivery artefacts of a virtual IMU.

A virtual device is a ``"watch"`` (watches and fitness bands), a ``"phone"`` or a ``"board"``
(a research / hobby IMU board streaming over BLE or serial). Each class draws its part from
the datasheets below and its full scales, calibration and offsets from what such devices do.

Parameter ranges come from consumer 6-axis IMU datasheets ("typ." values, used as 1 sigma;
the marked older phone parts are approximate):

* InvenSense MPU-6000/6050, Product Specification PS-MPU-6000A-00 rev 3.4 (2013): accel
  noise PSD 400 µg/√Hz, gyro rate noise 0.005 °/s/√Hz; zero-g ±50 mg (x, y), ±80 mg (z);
  zero-rate output ±20 °/s; sensitivity tolerance ±3 %; cross-axis sensitivity ±2 %; zero-g
  drift ±35 mg over 0-70 °C; ZRO drift ±20 °/s over -40..85 °C.
* InvenSense MPU-6500, PS-MPU-6500A-01 (2014; phones of 2013-2016, MPU-9250 boards): accel
  300 µg/√Hz, gyro 0.01 °/s/√Hz, zero-g ±60 mg, ZRO ±5 °/s, sensitivity ±3 %, cross-axis
  ±2 %.
* ST LSM330DLC (phones of 2012, approximate): accel about 220 µg/√Hz, zero-g ±60 mg; gyro
  about 0.03 °/s/√Hz, ZRO about ±10 °/s.
* Bosch BMI160, data sheet BST-BMI160-DS000-07 (2015): accel 180 µg/√Hz, gyro
  0.007 °/s/√Hz; zero-g offset ±40 mg; zero-rate offset ±3 °/s; sensitivity and cross-axis
  about ±1 %.
* ST LSM6DSL, DS11854 (phones of 2017-2019): accel about 80 µg/√Hz, gyro about
  4 mdps/√Hz, zero-g ±40 mg, zero-rate ±3 °/s.
* TDK ICM-20600, DS-000184 (phones of 2018-): accel 100 µg/√Hz, gyro 4 mdps/√Hz, zero-g
  ±25 mg, zero-rate ±1 °/s, cross-axis ±2 %.
* Bosch BMI270, data sheet BST-BMI270-DS000 rev 1.5 (2023): accel 160 µg/√Hz, gyro
  0.007 °/s/√Hz (performance mode); zero-rate offset ±0.5 °/s; zero-g about ±20 mg.
* ST LSM6DSO, datasheet DS12140 rev 2: accel about 70 µg/√Hz high-performance (1.8 mg RMS
  normal mode at ±2 g), gyro about 3.8 mdps/√Hz; 0.061 mg/LSB at ±2 g, 70 mdps/LSB at
  ±2000 dps; zero-g about ±20 mg, zero-rate about ±1 °/s.

Full scales are ±2/4/8/16 g and ±250..±2000 °/s on all of them, 16-bit outputs (some
devices stream 12-bit words). Phones at rest read up to ±7.5 % of g away from 1 g (Stisen et
al., SenSys 2015): accelerometer offsets and gains are kept at that size for phones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, sosfilt, sosfilt_zi

from aura_training.synth._schema import GRAVITY, ImuErrorModel

FloatArray = NDArray[np.float64]
_DPS = np.pi / 180.0
_MG = GRAVITY / 1000.0

#: Device classes: watches and bands, phones, research / hobby IMU boards.
DEVICES: tuple[str, ...] = ("watch", "phone", "board")


@dataclass(frozen=True)
class Datasheet:
    """Typical (1 sigma) error figures of one IMU part, in datasheet units."""

    name: str
    acc_noise_ug: float  # µg/√Hz
    gyro_noise_mdps: float  # m°/s/√Hz
    acc_offset_mg: float
    gyro_offset_dps: float
    sens_pct: float
    cross_pct: float
    acc_drift_mg_k: float  # zero-g change per kelvin
    gyro_drift_dps_k: float  # zero-rate change per kelvin
    devices: tuple[str, ...] = DEVICES  # device classes that use this part


DATASHEETS: tuple[Datasheet, ...] = (
    Datasheet("MPU-6050", 400.0, 5.0, 50.0, 20.0, 3.0, 2.0, 0.5, 0.16, ("board",)),
    Datasheet("MPU-6500", 300.0, 10.0, 60.0, 5.0, 3.0, 2.0, 0.6, 0.24, ("phone", "board")),
    Datasheet("LSM330DLC", 220.0, 30.0, 60.0, 10.0, 2.0, 2.0, 0.5, 0.05, ("phone",)),
    Datasheet("BMI160", 180.0, 7.0, 40.0, 3.0, 1.0, 1.0, 0.5, 0.05),
    Datasheet("LSM6DSL", 80.0, 4.0, 40.0, 3.0, 1.0, 1.0, 0.2, 0.015, ("phone", "watch")),
    Datasheet("ICM-20600", 100.0, 4.0, 25.0, 1.0, 1.0, 2.0, 0.2, 0.02, ("phone",)),
    Datasheet("BMI270", 160.0, 7.0, 20.0, 0.5, 1.0, 1.0, 0.25, 0.02, ("watch", "board")),
    Datasheet("LSM6DSO", 70.0, 3.8, 20.0, 1.0, 1.0, 1.0, 0.1, 0.01, ("phone", "watch")),
)
ACC_RANGES_G = (2.0, 4.0, 8.0, 16.0)
GYRO_RANGES_DPS = (250.0, 500.0, 1000.0, 2000.0)
# Full-scale settings per device class. Phones run their accelerometer at ±2..±8 g more
# often than watches (Android reports the range as 19.6 / 39.2 / 78.5 m/s²), watches keep
# ±8/16 g for sport; hobby boards often stay at the power-on default (±2 g, ±250 °/s).
ACC_RANGE_P: dict[str, tuple[float, ...]] = {
    "watch": (0.05, 0.15, 0.4, 0.4),
    "phone": (0.2, 0.25, 0.35, 0.2),
    "board": (0.3, 0.2, 0.25, 0.25),
}
GYRO_RANGE_P: dict[str, tuple[float, ...]] = {
    "watch": (0.0, 0.1, 0.2, 0.7),
    "phone": (0.05, 0.15, 0.2, 0.6),
    "board": (0.25, 0.2, 0.15, 0.4),
}


def draw_errors(rng: np.random.Generator, device: str = "watch") -> ImuErrorModel:
    """Draw one device's errors from a datasheet of its class, calibrated or not.

    Phone and watch stacks remove most of the gyro offset by background calibration, so half
    of them keep only 5-20 % of the datasheet offset (a board never does). Phone and watch
    accelerometers are trimmed at the factory to 25-80 % of the part's offset; boards keep
    it whole.

    Raises:
        ValueError: an unknown device class.
    """
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    parts = [d for d in DATASHEETS if device in d.devices]
    ds = parts[int(rng.integers(len(parts)))]
    consumer = device != "board"
    calib = rng.uniform(0.05, 0.2) if consumer and rng.random() < 0.5 else 1.0
    trim = rng.uniform(0.25, 0.8) if consumer else 1.0
    acc_range = float(rng.choice(ACC_RANGES_G, p=ACC_RANGE_P[device])) * GRAVITY
    gyro_range = float(rng.choice(GYRO_RANGES_DPS, p=GYRO_RANGE_P[device])) * _DPS
    bits = 16 if rng.random() < 0.85 else 12  # some devices stream 12-bit words
    # Power-saving modes and older parts: 30 % of phones and watches read several times
    # the part's typical noise (e.g. the LIS3DH's 8-bit low-power mode quantises to 16 mg at
    # ±2 g, DocID17530; old phones' realised noise floors reach 0.5-1 mg/√Hz and 0.05-0.1
    # °/s/√Hz, several times their datasheets' typicals).
    noisy = float(np.exp(rng.uniform(np.log(1.5), np.log(6.0)))) if (
        consumer and rng.random() < 0.3) else 1.0

    def gain(pct_sens: float, pct_cross: float) -> FloatArray:
        g = np.eye(3) + np.diag(rng.normal(0.0, pct_sens / 100.0, 3))
        off = rng.normal(0.0, pct_cross / 100.0, (3, 3))
        return g + off * (1.0 - np.eye(3))

    return ImuErrorModel(
        datasheet=ds.name,
        acc_noise_density=ds.acc_noise_ug * 1e-6 * GRAVITY * rng.uniform(0.8, 1.5) * noisy,
        gyro_noise_density=ds.gyro_noise_mdps * 1e-3 * _DPS * rng.uniform(0.8, 1.5) * noisy,
        acc_bias=rng.normal(0.0, ds.acc_offset_mg * _MG * trim, 3),
        gyro_bias=rng.normal(0.0, ds.gyro_offset_dps * _DPS * calib, 3),
        # Slow drift: a random walk sized so that over ~10 min the offset wanders by about the
        # datasheet's temperature coefficient times 2 K (a device warming on the body).
        acc_bias_walk=ds.acc_drift_mg_k * 2.0 * _MG / np.sqrt(600.0),
        gyro_bias_walk=ds.gyro_drift_dps_k * 2.0 * _DPS * calib / np.sqrt(600.0),
        acc_gain=gain(ds.sens_pct, ds.cross_pct),
        gyro_gain=gain(ds.sens_pct, ds.cross_pct),
        acc_range=acc_range,
        gyro_range=gyro_range,
        acc_lsb=acc_range / 2 ** (bits - 1),
        gyro_lsb=gyro_range / 2 ** (bits - 1),
    )


def apply_errors(
    rng: np.random.Generator, err: ImuErrorModel, acc: FloatArray, gyro: FloatArray, fs: float
) -> tuple[FloatArray, FloatArray]:
    """Scale/misalignment, bias with random-walk drift, white noise, saturation, quantisation.

    ``acc`` and ``gyro`` are ``(n, 3)`` true values sampled at the chip's rate ``fs``; white
    noise of density ``D`` has ``D * sqrt(fs / 2)`` standard deviation per sample.
    """
    n = acc.shape[0]
    out = []
    for x, g, b0, walk, nd, rng_max, lsb in (
        (
            acc,
            err.acc_gain,
            err.acc_bias,
            err.acc_bias_walk,
            err.acc_noise_density,
            err.acc_range,
            err.acc_lsb,
        ),
        (
            gyro,
            err.gyro_gain,
            err.gyro_bias,
            err.gyro_bias_walk,
            err.gyro_noise_density,
            err.gyro_range,
            err.gyro_lsb,
        ),
    ):
        drift = np.cumsum(rng.normal(0.0, walk / np.sqrt(fs), (n, 3)), axis=0)
        y = x @ g.T + b0 + drift + rng.normal(0.0, nd * np.sqrt(fs / 2.0), (n, 3))
        y = np.clip(y, -rng_max, rng_max - lsb)
        out.append(np.round(y / lsb) * lsb)
    return out[0], out[1]


def decimate(x: FloatArray, k: int, method: str, cutoff: float) -> FloatArray:
    """Reduce ``(n, 3)`` samples by an integer factor ``k`` the way device firmware does.

    Args:
        x: samples at the chip rate.
        k: decimation factor (1 leaves ``x`` alone).
        method: ``"lowpass"`` (causal 4th-order Butterworth at ``cutoff`` of the output
            Nyquist, then every k-th sample), ``"point"`` (every k-th sample: aliasing) or
            ``"block"`` (mean of each k samples: a sinc filter with deep notches).
        cutoff: low-pass corner as a fraction of the output Nyquist frequency.
    """
    if k <= 1 or method == "none":
        return x
    if method == "lowpass":
        sos = butter(4, cutoff / k, output="sos")
        zi = sosfilt_zi(sos)[:, :, None] * x[0][None, None, :]
        y, _ = sosfilt(sos, x, axis=0, zi=zi)
        return np.asarray(y[k - 1 :: k])
    if method == "block":
        m = (x.shape[0] // k) * k
        return np.asarray(x[:m].reshape(-1, k, 3).mean(axis=1))
    if method == "point":
        return np.asarray(x[k - 1 :: k])
    raise ValueError(f"unknown decimation {method!r}; use none, lowpass, point or block")


def gravity_estimate(
    rng: np.random.Generator, gravity_s: FloatArray, acc_meas: FloatArray, fs: float
) -> FloatArray:
    """What a phone's sensor fusion believes gravity is, in the sensor frame.

    The truth, tilted by a slowly wandering 0.5-3° error, plus a low-passed leak of the
    measured linear acceleration (a complementary filter's lag): so Android-style linear
    acceleration of a still device is near, but not exactly, zero.
    """
    n = gravity_s.shape[0]
    tilt = np.deg2rad(rng.uniform(0.5, 3.0))
    t = np.arange(n) / fs
    axis = np.stack(
        [
            np.sin(2 * np.pi * t / rng.uniform(30, 120) + rng.uniform(0, 6.3)),
            np.cos(2 * np.pi * t / rng.uniform(30, 120) + rng.uniform(0, 6.3)),
            np.zeros(n),
        ],
        axis=1,
    )
    err = tilt * axis
    # First-order rotation of the gravity vector by the small error vector.
    g = gravity_s + np.cross(err, gravity_s)
    leak = rng.uniform(0.0, 0.08)
    tau = rng.uniform(0.5, 3.0)  # filter time constant, s
    lin = acc_meas - gravity_s
    sos = butter(1, min(1.0 / (2 * np.pi * tau) / (fs / 2), 0.99), output="sos")
    zi = sosfilt_zi(sos)[:, :, None] * lin[0][None, None, :]
    smooth, _ = sosfilt(sos, lin, axis=0, zi=zi)
    return np.asarray(g + leak * smooth)


def delivery(
    rng: np.random.Generator,
    t_nominal: FloatArray,
    rate: float,
    jitter_s: float,
    drop_rate: float,
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Reported timestamps and a keep-mask: jitter, isolated and burst drops.

    ``t_nominal`` is what the device clock says (clock drift is in the sampling itself).
    """
    n = t_nominal.shape[0]
    t = t_nominal
    if jitter_s > 0:
        t = t + np.clip(rng.normal(0.0, jitter_s, n), -0.45 / rate, 0.45 / rate)
    keep: NDArray[np.bool_] = np.asarray(rng.random(n) >= drop_rate, dtype=bool)
    n_bursts = rng.poisson(drop_rate * n / 20.0)
    for _ in range(int(n_bursts)):
        start = int(rng.integers(n))
        keep[start : start + int(rng.integers(2, 20))] = False
    keep[0] = True
    return t, keep
