"""PMD frame vectors taken from the Polar BLE SDK's own unit tests.

Source: github.com/polarofficial/polar-ble-sdk, directory
``sources/Android/android-communications/library/src/test/java/com/polar/androidcommunications/
api/ble/model/gatt/client/pmd/``. Each constant names its test file and test; the expected
values are the ones those tests assert.
"""

from __future__ import annotations

# model/AccDataTest.kt, "process acc raw data frame type 1": header 02 | 00 94 35 77 00 00 00 00
# (2_000_000_000 ns) | 01, then int16 x y z in mG; asserts samples[0] = (-9, -1, 999),
# samples[1] = (-8, -2, 997), 36 samples, last sample's timestamp = the frame's.
ACC_RAW1_HEADER = bytes.fromhex("02 00 94 35 77 00 00 00 00 01")
ACC_RAW1_CONTENT = bytes.fromhex("""
f7 ff ff ff e7 03 f8 ff fe ff e5 03 f9 ff ff ff e5 03 fa ff ff ff e6 03 fa ff fe ff e6 03 f9 ff
ff ff e5 03 f8 ff ff ff e6 03 f8 ff fe ff e6 03 fa ff ff ff e5 03 fa ff ff ff e7 03 fa ff ff ff
e5 03 f8 ff ff ff e6 03 f7 ff ff ff e6 03 f8 ff fe ff e6 03 f9 ff fe ff e7 03 f9 ff 00 00 e6 03
f9 ff ff ff e6 03 f7 ff fe ff e5 03 f9 ff ff ff e5 03 f9 ff ff ff e5 03 fa ff 00 00 e6 03 f9 ff
fe ff e6 03 f8 ff ff ff e6 03 f8 ff ff ff e5 03 f9 ff ff ff e6 03 f9 ff ff ff e5 03 fa ff ff ff
e6 03 f9 ff ff ff e5 03 f9 ff ff ff e5 03 f8 ff fe ff e6 03 f9 ff ff ff e6 03 f9 ff ff ff e6 03
f9 ff 00 00 e5 03 f9 ff fe ff e6 03 f8 ff fe ff e6 03 f7 ff fe ff e6 03
""")

# model/AccDataTest.kt, "process acc compressed data type 0": header 02 | 2_000_000_000 ns | 80,
# reference (1905, 27376, -29282), one block of 10-bit deltas x 56 samples; with previous frame
# timestamp 100 ns and factor 2.44E-4 (G per LSB, x1000 -> mG) it asserts sample 1 =
# (1905 + 190, 27376 - 105, -29282 - 85), 57 samples, |values| <= 8 G.
ACC_DELTA0_HEADER = bytes.fromhex("02 00 94 35 77 00 00 00 00 80")
ACC_DELTA0_FACTOR = 2.44e-4
ACC_DELTA0_CONTENT = bytes.fromhex("""
71 07 f0 6a 9e 8d 0a 38 be 5c be ba 2f 96 b3 ee 4b e5 ad fb 42 b9 eb be 4c fe ba 2f 92 bf ee 4b
e4 b1 fb 12 b9 ec bd 3c 3e bb 2f 8f d3 de 4b e3 b5 f7 d2 b8 ed bd 30 7e 7b 2f 8b e3 ce 8b e2 ba
f7 a2 b8 ee bc 20 be 7b 2f 88 f3 ce cb e1 bd ef 52 f8 ef bc 18 fe 3b 2f 84 03 bf cb e0 c2 ef 32
b8 f0 bb 04 4e bc 2e 81 13 af 0b e0 c6 ef f2 f7 f1 b9 fc 7d bc 2e 7d 27 9f 4b df ca eb c2 f7 f2
b8 ec cd 7c 2e 7b 37 8f 4b de ce e3 92 f7 f3 b8 e0 0d fd 2d 77 4b 7f cb dd d2 df 62 37 f5 b7 d4
4d bd 2d 74 5b 6f cb dc d7 d7 32 37 f6 b5 c8 8d 7d 2d 71 6b 4f 4b dc dc d3 f2 36 f7 b4 bc dd fd
2c 6f 7b 3f 4b db e0 cf d2 36 f8 b2 b0 2d be 2c 6c 8f 1f cb da e3 c7 a2 76 f9
""")

# model/AccDataTest.kt, "process acc compressed data type 1": header 02 | 0x65 = 101 ns | 81;
# reference (-15, 20, 1008) mG, 6-bit deltas (-5, -3, 0); factor 1.0; previous timestamp 100:
# asserts 2 samples stamped 100 and 101 ns.
ACC_DELTA1_FRAME = bytes.fromhex("02 65 00 00 00 00 00 00 00 81 f1 ff 14 00 f0 03 06 01 7b 0f 08")

# model/AccDataTest.kt, measurementFrameAccType0Short (declared, unused there): its second
# block announces 20 x 12-bit samples (90 bytes) but only 22 bytes follow; a truncated payload.
ACC_SHORT_CONTENT = bytes.fromhex("""
5d ff 98 00 fd 0f 06 2a f2 b0 13 ec a1 1b 3e c3 d0 40 7f cd 40 71 d8 f3 4d 00 46 3f 08 7b 9f d7
3a af 38 52 a6 13 ed 3e 13 09 91 dc fa ee ef 3e 54 10 e2 8f 77 85 ee f2 4c 7e 04 87 9c fc d2 2f
10 fd 4f ef fe 21 ff c2 81 04 03 5f 13 45 d1 08 4a df bf b5 51 44 7b 50 f7 39 a1 10 2e 6f 18 f7
9f 1c 36 4d 1b 0d 03 0c 14 06 d0 fe f7 af ff fc bf ff f4 3f 01 17 f0 00 01 10 00 f8 df ff 00
""")

# model/GyrDataTest.kt, "process gyro compressed data type 0": header 05 | 0x7FFF... ns | 80;
# reference (-22, 8, 13), 3-bit deltas (-1, +3, +3); factor 1.0 -> deg/s values asserted.
GYRO_DELTA0_FRAME = bytes.fromhex(
    "05 ff ff ff ff ff ff ff 7f 80 ea ff 08 00 0d 00 03 01 df 00")

# model/GyrDataTest.kt, "process gyro compressed data type 1" (+ "... with factor", 0.5):
# header 05 | 2_000_000_000 ns | 81; float32 reference (1.0, 10.0, 20.0) as bit patterns, one
# block of 28-bit deltas on the patterns: +0x01A00000, +0x00800000, +0xFDECCCCD (wrapping).
GYRO_DELTA1_FRAME = bytes.fromhex(
    "05 00 94 35 77 00 00 00 00 81 00 00 80 3f 00 00 20 41 00 00 a0 41 1c 01"
    " 00 00 a0 01 00 00 08 cd cc ec 0d")

# BlePmdClientTest.kt, "startMeasurement - success response updates factor in currentSettings":
# F0 | op 02 | type 01 (PPG) | status 00 | more 00 | setting 05 (FACTOR), count 1, 2.5f LE.
START_RESPONSE_FACTOR_2_5 = bytes.fromhex("f0 02 01 00 00 05 01 00 00 20 40")
# BlePmdClientControlPointResponseTest.kt, "success control point response for acc stream
# settings": a GET_MEASUREMENT_SETTINGS (op 01) reply, not a start reply.
SETTINGS_RESPONSE = bytes.fromhex("f0 01 02 00 00 ff ff ff")
