"""Writing recordings as robot logs: a rosbag2 (MCAP or sqlite3 storage) of
``sensor_msgs/msg/Imu``, one topic per recording, with rosbags' writer.

REP 145 units (m/s^2 with gravity, rad/s); no orientation (its covariance's first element -1);
``header.stamp`` and the log time are the sample's time on a shared clock starting at
``start_ns``.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .._errors import ConfigError
from .._recording import Recording
from ._bag import _need
from ._imu import IMU_TYPE

__all__ = ["DEFAULT_START_NS", "write_imu_bag"]

#: where written logs start on the ROS clock (2026-01-01T00:00:00Z)
DEFAULT_START_NS = 1_767_225_600 * 1_000_000_000


def write_imu_bag(path: str | Path, recordings: Mapping[str, Recording], *,
                  storage: str = "mcap", start_ns: int = DEFAULT_START_NS,
                  frame_ids: Mapping[str, str] | None = None,
                  gravity_removed: bool = False) -> int:
    """Write ``{topic: recording}`` as a rosbag2 directory; returns the messages written.

    Args:
        path: the bag directory to create (must not exist).
        recordings: the IMU of each topic (SI units; NaN gyro: not provided).
        storage: ``"mcap"`` or ``"sqlite3"``.
        start_ns: the ROS time of each recording's first sample.
        frame_ids: ``header.frame_id`` per topic (default ``imu``).
        gravity_removed: the recordings' acceleration has gravity removed (REP 145 wants it
            in: refused, since a reader would take it as with gravity).

    Raises:
        ConfigError: bad topic names, storage, an existing path, or gravity-free data.
    """
    if gravity_removed:
        raise ConfigError("REP 145 IMU messages carry acceleration with gravity; this "
                          "recording has it removed")
    if not recordings:
        raise ConfigError("give at least one recording")
    for topic in recordings:
        if not topic.startswith("/"):
            raise ConfigError(f"topic {topic!r}: a ROS topic starts with '/'")
    if storage not in ("mcap", "sqlite3"):
        raise ConfigError(f"storage {storage!r}: mcap or sqlite3")
    out = Path(path)
    if out.exists():
        raise ConfigError(f"{out} exists; rosbag2 writes a new directory")
    _need("rosbags")
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    t = store.types
    imu_t, head_t, time_t = t[IMU_TYPE], t["std_msgs/msg/Header"], t["builtin_interfaces/msg/Time"]
    vec_t, quat_t = t["geometry_msgs/msg/Vector3"], t["geometry_msgs/msg/Quaternion"]
    no_orientation = np.array([-1.0] + [0.0] * 8)
    zeros = np.zeros(9)
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    # messages of every topic in time order (a shared clock), as a robot records them
    stamps = {k: start_ns + np.round((r.t - r.t[0]) * 1e9).astype(np.int64)
              for k, r in recordings.items()}
    order = heapq.merge(*[[(int(ns), k, i) for i, ns in enumerate(v)]
                          for k, v in stamps.items()])
    n = 0
    with Writer(out, version=9, storage_plugin=plugin) as w:
        conns = {k: w.add_connection(k, IMU_TYPE, typestore=store) for k in recordings}
        for ns, k, i in order:
            rec = recordings[k]
            a, g = rec.acc[i], rec.gyro[i]
            no_gyro = bool(np.isnan(g).any())
            msg = imu_t(
                header=head_t(stamp=time_t(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000),
                              frame_id=(frame_ids or {}).get(k, "imu")),
                orientation=quat_t(x=0.0, y=0.0, z=0.0, w=1.0),
                orientation_covariance=no_orientation,
                angular_velocity=vec_t(**dict(zip("xyz", (np.zeros(3) if no_gyro else g).tolist(),
                                                  strict=True))),
                angular_velocity_covariance=no_orientation if no_gyro else zeros,
                linear_acceleration=vec_t(**dict(zip("xyz", a.tolist(), strict=True))),
                linear_acceleration_covariance=zeros)
            w.write(conns[k], ns, store.serialize_cdr(msg, IMU_TYPE))
            n += 1
    return n
