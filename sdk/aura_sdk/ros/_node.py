"""A ROS 2 node: subscribe to ``sensor_msgs/msg/Imu`` topics, publish activity labels.

A thin layer where ROS 2 is installed (``rclpy`` comes with a ROS 2 install, not from PyPI):
the IMU messages' bytes go through the same decoder as bags (:func:`~aura_sdk.ros.decode_imu`)
into a :class:`~aura_sdk.LiveRecognizer` stream per topic, and the labels go out as the same
``aura_msgs/msg/ActivityLabel`` bytes :class:`~aura_sdk.ros.LabelWriter` writes. Bags and
MCAP files (:func:`~aura_sdk.ros.label_bag`) need no ROS at all; this is not the only way in.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from aura_bridge import DeviceProfile, ImuSamples

from .._errors import ConfigError, MissingExtraError
from ..live import LabelEvent, LiveRecognizer
from ._imu import decode_imu
from ._labels import DEFAULT_LABELS_TOPIC, LABEL_TYPE, _Codec

__all__ = ["run_node"]


class _TopicSource:
    """Samples of one subscribed topic, pushed by rclpy's callback thread."""

    profile: DeviceProfile | None = None
    realtime = True

    def __init__(self, topic: str, rate_hz: float) -> None:
        self.name = topic
        self._rate = rate_hz
        self._q: asyncio.Queue[ImuSamples] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    nominal_rate_hz = property(lambda self: self._rate)
    gravity_removed = property(lambda self: False)
    finished = property(lambda self: False)

    async def open(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._q = asyncio.Queue()

    def push(self, raw: bytes) -> None:  # rclpy's thread
        dec = decode_imu([raw], "cdr")
        if len(dec) and self._loop is not None and self._q is not None:
            t = dec.stamp_ns.astype(np.float64) / 1e9
            self._loop.call_soon_threadsafe(self._q.put_nowait,
                                            ImuSamples(acc=dec.acc, gyro=dec.gyro, t=t))

    async def next_batch(self, timeout: float) -> tuple[list[ImuSamples], float]:
        assert self._q is not None
        try:
            got = [await asyncio.wait_for(self._q.get(), timeout)]
        except TimeoutError:
            return [], time.monotonic()
        while not self._q.empty():
            got.append(self._q.get_nowait())
        return got, time.monotonic()

    async def close(self) -> None:
        return None


def run_node(topics: Sequence[str], *, rate_hz: float = 100.0,
             labels_topic: str = DEFAULT_LABELS_TOPIC,
             recognizer: LiveRecognizer | None = None, node_name: str = "aura") -> None:
    """Run a ROS 2 node until interrupted (or ``recognizer`` is closed): label ``topics``,
    publish on ``labels_topic``. Initialises rclpy unless the caller already has.

    Raises:
        MissingExtraError: ``rclpy`` is not importable (source a ROS 2 install first).
    """
    try:
        import rclpy
    except ImportError as exc:
        raise MissingExtraError("ros", "the ROS 2 node (source your ROS 2 setup.bash: rclpy "
                                "is not on PyPI)", "rclpy") from exc
    if not topics:
        raise ConfigError("give at least one IMU topic")
    from rosidl_runtime_py.utilities import get_message

    rec = recognizer if recognizer is not None else LiveRecognizer()
    sources = {t: _TopicSource(t, rate_hz) for t in topics}
    for t, src in sources.items():
        rec._add(src, t, None)  # a source of this package
    codec = _Codec("cdr")
    owns = not rclpy.ok()  # a caller that initialised rclpy keeps its context
    if owns:
        rclpy.init()
    node: Any = rclpy.create_node(node_name)
    imu_type = get_message("sensor_msgs/msg/Imu")
    for t, src in sources.items():
        node.create_subscription(imu_type, t, src.push, 50, raw=True)
    try:  # the label type, where aura_msgs (sdk/aura_sdk/ros/msg) is built in the workspace
        label_type = get_message(LABEL_TYPE)
        as_json = False
    except (AttributeError, ModuleNotFoundError, ValueError):
        label_type = get_message("std_msgs/msg/String")  # the same fields, as JSON text
        as_json = True
    pub = node.create_publisher(label_type, labels_topic, 10)
    spin = threading.Thread(target=rclpy.spin, args=(node,), daemon=True)
    spin.start()
    try:
        for ev in rec:
            if not isinstance(ev, LabelEvent) or ev.t_start_device is None \
                    or ev.t_end_device is None:
                continue
            start, end = round(ev.t_start_device * 1e9), round(ev.t_end_device * 1e9)
            if as_json:
                pub.publish(label_type(data=json.dumps({
                    "stream": ev.stream, "label": ev.label, "confidence": ev.confidence,
                    "unknown": ev.unknown, "similarity": ev.similarity,
                    "top_k": [list(k) for k in ev.top_k], "window_start_ns": start,
                    "window_end_ns": end})))
            else:  # rclpy publishes serialised bytes as they are
                pub.publish(codec.message(ev.stream, ev, start, end, ""))
    finally:
        node.destroy_node()
        if owns:
            rclpy.shutdown()
