"""Robot logs as sample sources: each ``sensor_msgs/msg/Imu`` topic of a bag is a stream.

The streams of one log share one :class:`BagFeed`: a single pass over the file (in stored
order) decodes the IMU messages and hands each topic its samples, on one clock: seconds since
the first IMU stamp of the log (:attr:`BagFeed.t0_ns`). Sample times are ``header.stamp``,
or the log time where a publisher left the stamp 0. Files play as fast as possible by default,
or in real time (``realtime=True``). A log that breaks part way ends its streams after the
samples before the fault (their windows are labelled) and leaves the fault in
:attr:`BagFeed.failure`, which the recogniser raises once those labels are out.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from aura_bridge import ImuSamples

from .._errors import BagError, ConfigError
from ._replay import PlayedSource, wait_until

if TYPE_CHECKING:
    from ..ros._bag import BagMessage

__all__ = ["BagFeed", "BagSource"]


class BagFeed:
    """One pass over a log for the streams of its IMU ``topics``.

    Args:
        path: a rosbag2 directory, a ROS 1 ``.bag`` or an ``.mcap`` file.
        topics: the ``sensor_msgs/msg/Imu`` topics to read (``None``: all of the log's).
        realtime: pace the samples at their own times (``False``: as fast as possible).
        speed: real-time speed factor.
        chunk_s: how much of a topic each delivered batch covers.

    Raises:
        BagError: the log cannot be opened.
        ConfigError: a topic is missing or not an IMU topic.
    """

    #: messages read from the file per refill
    READ = 512

    def __init__(self, path: str | Path, topics: Sequence[str] | None, *,
                 realtime: bool = False, speed: float = 1.0, chunk_s: float = 0.1) -> None:
        if topics is not None and not topics:
            raise ConfigError("give at least one IMU topic")
        if topics is not None and len(set(topics)) != len(topics):
            raise ConfigError(f"a topic is named twice: {list(topics)}")
        if speed <= 0 or chunk_s <= 0:
            raise ConfigError(f"need speed > 0 and chunk_s > 0; got {speed}, {chunk_s}")
        from ..ros._bag import check_topics  # the ros package imports the recogniser

        self.path = Path(path)
        checked = check_topics(path, topics)
        self.topics = tuple(t.topic for t in checked)
        #: how each topic is serialised (``cdr`` or ``ros1``), from the log's listing
        self.encodings = {t.topic: t.encoding for t in checked}
        self.realtime = realtime
        self.speed = speed
        self.chunk_s = chunk_s
        self.t0_ns: int | None = None
        self.failure: BagError | None = None
        self.messages = 0
        self.bad: dict[str, int] = dict.fromkeys(self.topics, 0)
        self.rates: dict[str, float] = {}
        self._queues: dict[str, deque[ImuSamples]] = {t: deque() for t in self.topics}
        self._pending: dict[str, list[ImuSamples]] = {t: [] for t in self.topics}
        self._it: Iterator[BagMessage] | None = None
        self._done = False
        self.start: float | None = None

    def open(self) -> None:
        if self._it is None:
            from ..ros._bag import read_messages

            self._it = read_messages(self.path)
            self.start = time.monotonic()

    def _refill(self) -> None:
        """Read the next messages and queue every topic's samples in chunks."""
        assert self._it is not None
        raw: dict[str, list[BagMessage]] = {}
        n = 0
        try:
            for m in self._it:
                self.messages += 1
                if m.topic in self._queues:
                    raw.setdefault(m.topic, []).append(m)
                n += 1
                if n >= self.READ:
                    break
            else:
                self._done = True
        except BagError as exc:
            self.failure = exc
            self._done = True
        for topic, msgs in raw.items():
            self._decode(topic, msgs)
        for topic in self.topics:
            self._cut(topic, final=self._done)

    def _decode(self, topic: str, msgs: list[BagMessage]) -> None:
        from ..ros._imu import decode_imu

        enc = msgs[0].encoding
        dec = decode_imu([m.data for m in msgs], enc)
        self.bad[topic] += len(dec.bad)
        if not len(dec):
            return
        bad = set(dec.bad)
        log = np.array([m.log_time for i, m in enumerate(msgs) if i not in bad],
                       dtype=np.int64)
        stamp = np.where(dec.stamp_ns == 0, log, dec.stamp_ns)  # unstamped: the log time
        if self.t0_ns is None:
            self.t0_ns = int(stamp[0])
        t = (stamp - self.t0_ns).astype(np.float64) / 1e9
        if topic not in self.rates and len(t) > 1:
            step = float(np.median(np.diff(t)))
            if step > 0:
                self.rates[topic] = 1.0 / step
        self._pending[topic].append(ImuSamples(acc=dec.acc, gyro=dec.gyro, t=t))

    def _cut(self, topic: str, final: bool) -> None:
        """Move whole ``chunk_s`` spans of a topic's decoded samples to its queue."""
        parts = self._pending[topic]
        if not parts:
            return
        acc = np.concatenate([p.acc for p in parts])
        gyro = np.concatenate([p.gyro for p in parts])
        t = np.concatenate([p.t for p in parts if p.t is not None])
        edges = np.flatnonzero(np.diff(np.floor((t - t[0]) / self.chunk_s)) > 0) + 1
        cuts = [0, *edges.tolist()] + ([len(t)] if final else [])
        for a, b in itertools.pairwise(cuts):
            self._queues[topic].append(ImuSamples(acc=acc[a:b], gyro=gyro[a:b], t=t[a:b]))
        last = cuts[-1]
        self._pending[topic] = ([] if last >= len(t) else
                                [ImuSamples(acc=acc[last:], gyro=gyro[last:], t=t[last:])])

    def take(self, topic: str) -> ImuSamples | None:
        """The topic's next chunk, reading the file as needed (``None``: nothing left)."""
        q = self._queues[topic]
        while not q and not self._done:
            self._refill()
        return q.popleft() if q else None

    def put_back(self, topic: str, batch: ImuSamples) -> None:
        """Return a chunk taken too early (real-time play): it comes out next."""
        self._queues[topic].appendleft(batch)

    def host_time(self, t: np.ndarray) -> np.ndarray:
        start = self.start if self.start is not None else 0.0
        return start + np.asarray(t, dtype=np.float64) / (self.speed if self.realtime else 1.0)

    def rate(self, topic: str) -> float:
        """A topic's sample rate, from its first stamps (read ahead if needed)."""
        self.open()
        while topic not in self.rates and not self._done:
            self._refill()
        if topic not in self.rates:
            raise ConfigError(f"{self.path}: topic {topic!r} has fewer than two decodable "
                              "IMU messages")
        return self.rates[topic]


class BagSource(PlayedSource):
    """One IMU topic of a :class:`BagFeed` as a :class:`~aura_sdk.live.SampleSource`."""

    def __init__(self, feed: BagFeed, topic: str, *, gravity_removed: bool = False,
                 name: str | None = None) -> None:
        if topic not in feed.topics:
            raise ConfigError(f"topic {topic!r} is not one of the feed's {feed.topics}")
        super().__init__(gravity_removed)
        self.feed = feed
        self.topic = topic
        self.name = name or topic
        self.realtime = feed.realtime

    @property
    def nominal_rate_hz(self) -> float:
        return self.feed.rate(self.topic)

    @property
    def counters(self) -> dict[str, float]:
        """Health counters of the topic: IMU messages that did not decode (dropped)."""
        return {"bag_messages_dropped": self.feed.bad[self.topic]}

    @property
    def failure(self) -> BagError | None:
        """Why the log ended early (raised by the recogniser after the labels before it)."""
        return self.feed.failure

    async def open(self) -> None:
        self.feed.open()

    def host_time(self, t: np.ndarray) -> np.ndarray:
        return self.feed.host_time(t)

    async def next_batch(self, timeout: float) -> tuple[list[ImuSamples], float]:
        if self._done:
            return [], time.monotonic()
        batch = self.feed.take(self.topic)
        if batch is None:
            self._done = True
            return [], time.monotonic()
        due = (float(self.feed.host_time(batch.t[-1:])[0])
               if self.realtime and batch.t is not None else None)
        if not await wait_until(due, timeout):  # not due yet: keep it for the next call
            self.feed.put_back(self.topic, batch)
            return [], time.monotonic()
        return [batch], time.monotonic()
