"""Polar PMD (Polar Measurement Data) over BLE: Verity Sense and H10 ACC / GYRO streams.

GATT: service ``FB005C80-02E7-F387-1CAD-8ACD2D8DF0C8``, control point ``...5C81`` (write +
notify), data ``...5C82`` (notify). One data notification is one frame::

    [measurement type][u64 LE timestamp, ns since 2000-01-01T00:00:00Z][frame type][payload]

* measurement type: low 6 bits (ACC = 2, GYRO = 5; others are counted and skipped);
* frame type: bit 0x80 = delta compressed (see :mod:`._polar_delta`), low 7 bits the type;
* ACC raw types 0 / 1 / 2: int8 / int16 / int24 x y z in mG (factor not applied, as the SDK);
  ACC delta type 0: int16 * factor in g; ACC delta type 1: int16 * factor in mG;
* GYRO delta type 0: int16 * factor in deg/s; GYRO delta type 1: float32 * factor in deg/s;
  the SDK parses no raw GYRO frame types, so neither does this decoder.

``factor`` is a float32 the sensor returns in its reply to the start command (setting type 5,
see :func:`parse_start_response`); the decoder takes it as ``acc_factor`` / ``gyro_factor``.

Timing: the frame timestamp belongs to the *last* sample. With ``timing="rate"`` (default)
earlier samples are back-dated by ``1 / sample_rate_hz``; with ``timing="interpolate"`` they
are spread evenly between the previous frame's timestamp (same measurement and frame type)
and this one, as the SDK's ``PmdTimeStampUtils`` does, falling back to the rate for the first
frame or a non-increasing timestamp. ``ImuSamples.t`` is device seconds since 2000-01-01 UTC,
or Unix seconds with ``unix_time=True`` (adds 946684800 s).

Sources (facts only; no code copied): polarofficial/polar-ble-sdk
``sources/Android/android-communications/library/src/main/java/com/polar/androidcommunications/
api/ble/model/gatt/client/pmd/``: ``PmdDataFrame.kt`` (header), ``model/AccData.kt`` and
``model/GyrData.kt`` (frame types, units, factor), ``BlePMDClient.kt`` (UUIDs, start / stop
commands, factor from the start response), ``PmdSetting.kt`` (settings TLV),
``PmdControlPointCommand.kt`` (op codes), ``model/PmdTimeStampUtils.kt`` (timing);
``documentation/TimeSystemExplained.md`` (epoch); ``documentation/products/PolarVeritySense.md``
and ``PolarH10.md`` (rates, ranges).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from .._types import DecoderStats, ImuSamples
from ._common import DEG, DeviceOptionError, G, VendorProfile, make_samples, quantize
from ._polar_delta import decode_delta, encode_delta

__all__ = [
    "H10_PROFILE",
    "VERITY_PROFILE",
    "PolarPmdDecoder",
    "PolarPmdEncoder",
    "PolarStartResponse",
    "parse_start_response",
    "start_command",
    "stop_command",
]

ACC, GYRO = 2, 5
HEADER_LEN = 10
DELTA_BIT = 0x80
POLAR_EPOCH_UNIX_S = 946_684_800  # 2000-01-01T00:00:00Z
OP_START, OP_STOP = 0x02, 0x03
RESPONSE_CODE = 0xF0
#: Settings TLV: type -> value size in bytes (PmdSetting.kt).
SETTING_SIZES = {0: 2, 1: 2, 2: 2, 3: 4, 4: 1, 5: 4, 6: 16}
SETTING_SAMPLE_RATE, SETTING_RESOLUTION, SETTING_RANGE, SETTING_CHANNELS, SETTING_FACTOR = (
    0, 1, 2, 4, 5)
#: Default GYRO factor (deg/s per LSB): +-2000 deg/s over int16. ASSUMPTION, not a vendor
#: value: the real one arrives in the start response; pass it as ``gyro_factor``.
DEFAULT_GYRO_FACTOR = 2000.0 / 32768.0
MAX_FRAME_BYTES = 232  # "filled with MTU size of data (232 bytes max)", polar-ble-sdk #439

_MG = G / 1000.0


def start_command(
    measurement: int, *, sample_rate: int, resolution: int, range_: int,
    channels: int | None = None,
) -> bytes:
    """Control-point command starting an online stream.

    ``[0x02][measurement type][setting type, count = 1, little-endian value]...``, settings
    in the order sample rate, resolution, range, channels (PmdSetting.serializeSelected).

    Args:
        measurement: 2 (ACC) or 5 (GYRO).
        sample_rate: Hz.
        resolution: bits per value.
        range_: +- full scale (g for ACC, deg/s for GYRO).
        channels: number of channels, or None to leave the setting out.

    Returns:
        The bytes to write to the control point ``...5C81``.
    """
    body = bytearray((OP_START, measurement))
    settings = [(SETTING_SAMPLE_RATE, sample_rate), (SETTING_RESOLUTION, resolution),
                (SETTING_RANGE, range_)]
    if channels is not None:
        settings.append((SETTING_CHANNELS, channels))
    for kind, value in settings:
        body += bytes((kind, 1)) + int(value).to_bytes(SETTING_SIZES[kind], "little")
    return bytes(body)


def stop_command(measurement: int) -> bytes:
    """Control-point command ``[0x03][measurement type]`` stopping a stream."""
    return bytes((OP_STOP, measurement))


@dataclass(frozen=True)
class PolarStartResponse:
    """The sensor's control-point reply to a start command.

    Attributes:
        measurement_type: the measurement it answers (low 6 bits).
        status: 0 = success (PmdControlPointResponseCode).
        factor: the scale factor to pass as ``acc_factor`` / ``gyro_factor``, if present.
        settings: every setting in the reply, ``{type: [values]}``.
    """

    measurement_type: int
    status: int
    factor: float | None
    settings: dict[int, list[int]]


def parse_start_response(data: bytes) -> PolarStartResponse | None:
    """Parse the control point's reply to a start command (never raises).

    Layout: ``F0 02 <measurement type> <status> <more> [settings TLV]``; the FACTOR setting
    (type 5) is a little-endian IEEE-754 float32 (BlePMDClient.getFactor).

    Args:
        data: one control-point notification.

    Returns:
        The parsed reply, or None if ``data`` is not a well-formed start reply.
    """
    if len(data) < 5 or data[0] != RESPONSE_CODE or data[1] != OP_START:
        return None
    settings: dict[int, list[int]] = {}
    off = 5
    while off < len(data):
        if len(data) - off < 2 or data[off] not in SETTING_SIZES:
            return None
        kind, count = data[off], data[off + 1]
        size = SETTING_SIZES[kind]
        off += 2
        if off + size * count > len(data):
            return None
        values = [int.from_bytes(data[off + k * size:off + (k + 1) * size], "little")
                  for k in range(count)]
        settings.setdefault(kind, []).extend(values)
        off += size * count
    factor = None
    if settings.get(SETTING_FACTOR):
        factor = struct.unpack("<f", settings[SETTING_FACTOR][0].to_bytes(4, "little"))[0]
    return PolarStartResponse(data[2] & 0x3F, data[3], factor, settings)


class PolarPmdDecoder:
    """Decoder for PMD data notifications (one call per notification = one frame).

    Args:
        acc_factor: ACC delta-frame factor from the start response (1.0 = values in mG).
        gyro_factor: GYRO factor from the start response, deg/s per LSB.
        sample_rate_hz: stream rate for back-dating samples (both ACC and GYRO).
        timing: ``"rate"`` or ``"interpolate"`` (see module docstring).
        unix_time: report Unix seconds instead of Polar device seconds.

    Frames that do not parse exactly (short, unknown frame type, truncated or overlong delta
    blocks, raw payload not a whole number of samples, NaN / inf floats) are dropped and counted in
    ``stats.frames_corrupt``; other measurement types in ``stats.extra["other_measurements"]``.
    """

    def __init__(self, *, acc_factor: float = 1.0, gyro_factor: float = DEFAULT_GYRO_FACTOR,
                 sample_rate_hz: float = 52.0, timing: str = "rate",
                 unix_time: bool = False) -> None:
        if not sample_rate_hz > 0:
            raise DeviceOptionError(f"sample_rate_hz must be > 0, got {sample_rate_hz!r}")
        if timing not in ("rate", "interpolate"):
            raise DeviceOptionError(f"timing must be 'rate' or 'interpolate', got {timing!r}")
        self.acc_factor = float(acc_factor)
        self.gyro_factor = float(gyro_factor)
        self.period_ns = 1e9 / float(sample_rate_hz)
        self.timing = timing
        self.epoch_s = POLAR_EPOCH_UNIX_S if unix_time else 0
        self.stats = DecoderStats()
        self._previous: dict[tuple[int, int], int] = {}

    def feed(self, data: bytes) -> list[ImuSamples]:
        """Decode one notification."""
        if len(data) < HEADER_LEN:
            self.stats.frames_corrupt += 1
            self.stats.bytes_dropped += len(data)
            return []
        measurement = data[0] & 0x3F
        if measurement not in (ACC, GYRO):
            extra = self.stats.extra
            extra["other_measurements"] = extra.get("other_measurements", 0) + 1
            return []
        stamp = int.from_bytes(data[1:9], "little")
        frame_type = data[9]
        values = self._values(measurement, frame_type, bytes(data[HEADER_LEN:]))
        if values is None:
            self.stats.frames_corrupt += 1
            self.stats.bytes_dropped += len(data)
            return []
        t = self._times(measurement, frame_type, stamp, values.shape[0])
        self.stats.frames_ok += 1
        self.stats.samples += values.shape[0]
        if measurement == ACC:
            return [make_samples(values, None, t)]
        return [make_samples(None, values, t)]

    def _values(self, measurement: int, frame_type: int, payload: bytes) -> np.ndarray | None:
        delta, kind = bool(frame_type & DELTA_BIT), frame_type & 0x7F
        if measurement == ACC and not delta and kind in (0, 1, 2):
            width = kind + 1
            if not payload or len(payload) % (3 * width):
                return None
            ints = [int.from_bytes(payload[k:k + width], "little", signed=True)
                    for k in range(0, len(payload), width)]
            return np.array(ints, dtype=np.float64).reshape(-1, 3) * _MG
        if not delta or kind not in (0, 1):
            return None
        float_bits = measurement == GYRO and kind == 1
        decoded = decode_delta(payload, 3, 32 if float_bits else 16, float_bits=float_bits)
        if decoded is None:
            return None
        if float_bits:
            packed = np.array(decoded, dtype=np.int64)
            if ((packed & 0x7F80_0000) == 0x7F80_0000).any():
                return None  # NaN / inf bit patterns (exponent all ones): not a measurement
            raw = packed.astype(np.int32).view(np.float32).astype(np.float64)
            return raw * self.gyro_factor * DEG
        raw = np.array(decoded, dtype=np.float64)
        if measurement == GYRO:
            return raw * self.gyro_factor * DEG
        unit = G if kind == 0 else _MG  # delta type 0 counts g, type 1 mG (AccData.kt)
        return raw * self.acc_factor * unit

    def _times(self, measurement: int, frame_type: int, stamp: int, n: int) -> np.ndarray:
        key = (measurement, frame_type)
        previous = self._previous.get(key)
        self._previous[key] = stamp
        back = np.arange(n - 1, -1, -1, dtype=np.float64)
        if self.timing == "interpolate" and previous is not None and stamp > previous:
            offsets = back * ((stamp - previous) / n)
        else:
            offsets = back * self.period_ns
        return (stamp - offsets) / 1e9 + self.epoch_s


class PolarPmdEncoder:
    """SI samples -> PMD data notifications (what a Verity Sense / H10 sends).

    Each encode call sends ACC frames (rows with acc) then GYRO frames (rows with gyro).

    Args:
        acc_frame: ``"delta"`` (Verity Sense style, delta type 1, int16 * acc_factor mG) or
            ``"raw16"`` (raw type 1, int16 mG, one frame per ``max_frame_bytes``).
        gyro_frame: ``"delta16"`` (delta type 0) or ``"float32"`` (delta type 1).
        acc_factor, gyro_factor: as the decoder's; must match it.
        sample_rate_hz: used to time samples when ``samples.t`` is None.
        start_time_s: device time (s since 2000-01-01) of the first sample when
            ``samples.t`` is None; later calls continue from there.
        unix_time: ``samples.t`` is in Unix seconds (as the decoder's ``unix_time``).
        max_frame_bytes: notification size limit (PMD fills frames up to 232 bytes).
        delta_block: samples per delta block.
    """

    def __init__(self, *, acc_frame: str = "delta", gyro_frame: str = "delta16",
                 acc_factor: float = 1.0, gyro_factor: float = DEFAULT_GYRO_FACTOR,
                 sample_rate_hz: float = 52.0, start_time_s: float = 750_000_000.0,
                 unix_time: bool = False, max_frame_bytes: int = MAX_FRAME_BYTES,
                 delta_block: int = 16) -> None:
        if acc_frame not in ("delta", "raw16"):
            raise DeviceOptionError(f"acc_frame must be 'delta' or 'raw16', got {acc_frame!r}")
        if gyro_frame not in ("delta16", "float32"):
            raise DeviceOptionError(
                f"gyro_frame must be 'delta16' or 'float32', got {gyro_frame!r}")
        if not sample_rate_hz > 0 or acc_factor == 0 or gyro_factor == 0:
            raise DeviceOptionError("sample_rate_hz, acc_factor, gyro_factor must be non-zero")
        if not 40 <= int(max_frame_bytes) <= 65535:
            raise DeviceOptionError(f"max_frame_bytes must be 40..65535, got {max_frame_bytes}")
        self.acc_frame, self.gyro_frame = acc_frame, gyro_frame
        self.acc_factor, self.gyro_factor = float(acc_factor), float(gyro_factor)
        self.period_s = 1.0 / float(sample_rate_hz)
        self.start_time_s = float(start_time_s)
        self.epoch_s = POLAR_EPOCH_UNIX_S if unix_time else 0
        self.max_frame_bytes = int(max_frame_bytes)
        self.delta_block = int(delta_block)
        self._sent = 0

    def encode(self, samples: ImuSamples) -> list[bytes]:
        """One element per notification (frame)."""
        n = len(samples)
        if samples.t is not None:
            t_ns = np.rint((samples.t - self.epoch_s) * 1e9).astype(np.int64)
        else:
            times = self.start_time_s + (self._sent + np.arange(n)) * self.period_s
            t_ns = np.rint(times * 1e9).astype(np.int64)
        self._sent += n
        out: list[bytes] = []
        acc_rows = np.flatnonzero(~np.isnan(samples.acc).any(axis=1))
        gyro_rows = np.flatnonzero(~np.isnan(samples.gyro).any(axis=1))
        if acc_rows.size:
            if self.acc_frame == "raw16":
                ints = quantize(samples.acc[acc_rows], _MG, -32768, 32767)
                per = (self.max_frame_bytes - HEADER_LEN) // 6
                for k in range(0, len(ints), per):
                    payload = ints[k:k + per].astype("<i2").tobytes()
                    last = int(t_ns[acc_rows[min(k + per, len(ints)) - 1]])
                    out.append(_header(ACC, last, 0x01) + payload)
            else:
                ints = quantize(samples.acc[acc_rows], _MG * self.acc_factor, -32768, 32767)
                out += self._delta_frames(ACC, 0x81, ints.tolist(), t_ns[acc_rows], 16, False)
        if gyro_rows.size:
            if self.gyro_frame == "float32":
                dps = (samples.gyro[gyro_rows] / DEG / self.gyro_factor).astype(np.float32)
                ints = dps.view(np.int32).astype(np.int64)
                out += self._delta_frames(GYRO, 0x81, ints.tolist(), t_ns[gyro_rows], 32, True)
            else:
                ints = quantize(samples.gyro[gyro_rows], DEG * self.gyro_factor, -32768, 32767)
                out += self._delta_frames(GYRO, 0x80, ints.tolist(), t_ns[gyro_rows], 16, False)
        return out

    def _delta_frames(self, measurement: int, frame_type: int, rows: list[list[int]],
                      t_ns: np.ndarray, resolution: int, float_bits: bool) -> list[bytes]:
        frames = []
        k = 0
        while k < len(rows):
            payload, used = encode_delta(rows[k:], resolution, float_bits=float_bits,
                                         block=self.delta_block,
                                         max_bytes=self.max_frame_bytes - HEADER_LEN)
            frames.append(_header(measurement, int(t_ns[k + used - 1]), frame_type) + payload)
            k += used
        return frames


def _header(measurement: int, stamp_ns: int, frame_type: int) -> bytes:
    return bytes((measurement,)) + (stamp_ns & (2**64 - 1)).to_bytes(8, "little") + bytes(
        (frame_type,))


_SOURCES = (
    "github.com/polarofficial/polar-ble-sdk sources/Android/android-communications/library/src/"
    "main/java/com/polar/androidcommunications/api/ble/model/gatt/client/pmd/ (BlePMDClient.kt,"
    " PmdDataFrame.kt, PmdSetting.kt, model/AccData.kt, model/GyrData.kt)",
    "github.com/polarofficial/polar-ble-sdk documentation/TimeSystemExplained.md",
)
_PMD = "-02E7-F387-1CAD-8ACD2D8DF0C8"
_TIMESTAMPS = ("u64 ns since 2000-01-01T00:00:00Z of the frame's last sample; earlier "
               "samples back-dated by the sample period")

VERITY_PROFILE = VendorProfile(
    name="polar-verity",
    transport="ble",
    framing="packet",
    sample_rate_hz=52.0,
    gravity_removed=False,
    has_timestamps=True,
    description=("Polar Verity Sense PMD ACC (+-8 g) and GYRO (+-2000 deg/s) at 52 Hz, "
                 "delta-compressed frames (polarofficial/polar-ble-sdk)"),
    service_uuid="FB005C80" + _PMD,
    notify_uuids=("FB005C82" + _PMD,),
    control_uuid="FB005C81" + _PMD,
    start_commands=(
        start_command(ACC, sample_rate=52, resolution=16, range_=8, channels=3),
        start_command(GYRO, sample_rate=52, resolution=16, range_=2000, channels=3),
    ),
    stop_commands=(stop_command(ACC), stop_command(GYRO)),
    scale=(("acc", "delta type 1: int16 * factor mG (factor from start response, 1.0 default)"),
           ("gyro", "delta type 0: int16 * factor deg/s (factor from start response)")),
    timestamps=_TIMESTAMPS,
    sources=(*_SOURCES, "github.com/polarofficial/polar-ble-sdk "
             "documentation/products/PolarVeritySense.md"),
)

H10_PROFILE = VendorProfile(
    name="polar-h10",
    transport="ble",
    framing="packet",
    sample_rate_hz=50.0,
    gravity_removed=False,
    has_timestamps=True,
    description=("Polar H10 chest strap PMD ACC (+-8 g, 50 Hz; no gyroscope), "
                 "(polarofficial/polar-ble-sdk)"),
    service_uuid="FB005C80" + _PMD,
    notify_uuids=("FB005C82" + _PMD,),
    control_uuid="FB005C81" + _PMD,
    start_commands=(start_command(ACC, sample_rate=50, resolution=16, range_=8),),
    stop_commands=(stop_command(ACC),),
    scale=(("acc", "raw type 1: int16 mG"),),
    timestamps=_TIMESTAMPS,
    sources=(*_SOURCES, "github.com/polarofficial/polar-ble-sdk documentation/products/"
             "PolarH10.md"),
)
