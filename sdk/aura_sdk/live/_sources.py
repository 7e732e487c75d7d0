"""Sample sources for live recognition, one module per transport; this module gathers them.

* :mod:`._base` — the :class:`SampleSource` and :class:`ByteLink` protocols,
  :class:`DecodedSource` (a byte link plus the device profile's decoder), :func:`device_profile`;
* :mod:`._serial` — :class:`SerialLink` (pyserial), :mod:`._tcp` — :class:`TcpLink`,
  :mod:`._ble` — :class:`BleLink` (bleak);
* :mod:`._replay` — :class:`ReplaySource` (a recording, no link).

Optional dependencies (pyserial, bleak) are imported only inside the link that needs them.
"""

from ._base import ByteLink, DecodedSource, SampleSource, device_profile
from ._ble import BleLink
from ._replay import ReplaySource
from ._serial import SerialLink
from ._tcp import TcpLink

__all__ = ["BleLink", "ByteLink", "DecodedSource", "ReplaySource", "SampleSource", "SerialLink",
           "TcpLink", "device_profile"]
