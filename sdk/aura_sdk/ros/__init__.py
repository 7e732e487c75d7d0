"""Robots: ROS bags and MCAP in and out, and a live Foxglove view (the ``ros`` extra).

* Bags in: :meth:`aura_sdk.LiveRecognizer.add_bag` / ``from_bag`` read ``sensor_msgs/msg/Imu``
  from rosbag2 (sqlite3 or MCAP storage), ROS 1 bags and bare MCAP files, each topic its own
  stream on the log's clock; :func:`bag_topics` lists a log's topics, :func:`read_messages`
  yields its raw messages, :func:`decode_imu` decodes IMU messages (REP 145 units).
* Labels out: :func:`label_bag` (``aura live --bag ... --write-labels OUT.mcap``) writes the
  log unchanged plus ``aura_msgs/msg/ActivityLabel`` messages (:data:`LABEL_MSG`) on
  ``/aura/activity``, through :class:`LabelWriter`.
* Recordings out: :func:`write_imu_bag` (``aura simulate --to-bag``) writes a rosbag2.
* Live view: :class:`FoxgloveView` (``aura live ... --foxglove``) serves each stream's IMU,
  label and health on a Foxglove WebSocket.
* A ROS 2 node: :func:`run_node` publishes the same label messages where ``rclpy`` exists.

``rosbags``, ``mcap`` and ``foxglove-sdk`` are imported only when used; without them the
calls raise :class:`~aura_sdk.MissingExtraError` naming ``pip install 'aura-sdk[ros]'``.
"""

from ._bag import BagMessage, BagTopic, bag_topics, read_messages
from ._foxglove import FoxgloveView, stream_prefix
from ._imu import IMU_TYPE, ImuMessages, decode_imu
from ._labels import DEFAULT_LABELS_TOPIC, LABEL_MSG, LABEL_TYPE, LabelWriter
from ._node import run_node
from ._run import BagLabels, label_bag
from ._write import DEFAULT_START_NS, write_imu_bag

__all__ = [
    "DEFAULT_LABELS_TOPIC",
    "DEFAULT_START_NS",
    "IMU_TYPE",
    "LABEL_MSG",
    "LABEL_TYPE",
    "BagLabels",
    "BagMessage",
    "BagTopic",
    "FoxgloveView",
    "ImuMessages",
    "LabelWriter",
    "bag_topics",
    "decode_imu",
    "label_bag",
    "read_messages",
    "run_node",
    "stream_prefix",
    "write_imu_bag",
]
