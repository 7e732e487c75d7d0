/*
 * AURA stream protocol v1 on an Arduino Nano 33 BLE Sense (docs/protocol.md).
 *
 * Reads the on-board IMU, sends SAMPLES frames over USB serial (COBS + 0x00) and, to a
 * subscribed BLE central, as notifications (one raw frame each). Answers START / STOP /
 * SET_RATE / SET_RANGE / GET_HELLO on both links with ACK / NAK frames.
 *
 * Build:
 *   1. Copy ../../aura_proto.h and ../../aura_proto.c next to this file (the Arduino IDE only
 *      compiles the sketch folder), or:  arduino-cli compile --library <path to firmware_bridge/c>
 *   2. Libraries: ArduinoBLE, and Arduino_BMI270_BMM150 (Sense Rev2) or Arduino_LSM9DS1
 *      (Sense Rev1: define AURA_SENSE_REV1). Board: "Arduino Mbed OS Nano Boards".
 *   Host side:  aura decode --device aura  /  aura live --serial /dev/ttyACM0 --device aura
 *
 * The IMU libraries return floats (g, deg/s) at their fixed default configuration (+/-4 g,
 * +/-2000 deg/s). The sketch quantises them itself with scale = range / 32768, so the HELLO is
 * always consistent with the counts it sends; SET_RANGE changes that software scale (ranges
 * above the hardware's are capped), SET_RATE picks an averaged decimation of the native rate.
 */
#include <ArduinoBLE.h>
#if defined(AURA_SENSE_REV1)
#include <Arduino_LSM9DS1.h>
#else
#include <Arduino_BMI270_BMM150.h>
#endif

#include "aura_proto.h"

static const float kStandardGravity = 9.80665f;
static const float kDegToRad = 0.017453292519943295f;
static const uint16_t kHwAccelRangeG = 4;      /* the IMU libraries' fixed defaults */
static const uint16_t kHwGyroRangeDps = 2000;
static const uint8_t kSerialSamplesPerFrame = 10; /* 100 ms at 100 Hz */
/* Stock ArduinoBLE does not expose the negotiated ATT MTU, so BLE frames stay small:
 * 4 samples = 59 bytes, which needs an MTU >= 62 (every phone / BlueZ negotiates more). */
static const uint8_t kBleSamplesPerFrame = 4;
static const uint8_t kMaxDecimation = 16;

BLEService auraService(AURA_BLE_SERVICE_UUID);
BLECharacteristic dataChar(AURA_BLE_DATA_UUID, BLENotify, AURA_SAMPLES_FRAME_LEN(16));
BLECharacteristic controlChar(AURA_BLE_CONTROL_UUID, BLEWrite | BLEIndicate,
                              AURA_MIN_FRAME_LEN + AURA_MAX_COMMAND_ARGS);

static aura_hello_t hello;
static float nativeRateHz = 100.0f;
static uint8_t decimation = 1;
static bool streamingSerial = false;
static bool streamingBle = false;

/* one accumulator for decimation, one frame buffer per link */
static float acc6[6];
static uint8_t accCount = 0;
static int16_t serialSamples[kSerialSamplesPerFrame * 6];
static int16_t bleSamples[kBleSamplesPerFrame * 6];
static uint8_t serialN = 0, bleN = 0;
static uint16_t serialSeq = 0, bleSeq = 0;

static uint8_t rxBuf[AURA_COBS_MAX_LEN(AURA_MIN_FRAME_LEN + AURA_MAX_COMMAND_ARGS)];
static aura_rx_t serialRx;
static uint8_t frameBuf[AURA_MAX_FRAME_LEN];
static uint8_t wireBuf[AURA_MAX_WIRE_LEN];

enum Link { LINK_SERIAL, LINK_BLE };

static uint64_t deviceId() {
  /* nRF52840 factory-programmed 64-bit id (FICR DEVICEID) */
  return ((uint64_t)NRF_FICR->DEVICEID[1] << 32) | NRF_FICR->DEVICEID[0];
}

static void setRanges(uint16_t accelG, uint16_t gyroDps) {
  hello.accel_range_g = accelG;
  hello.gyro_range_dps = gyroDps;
  hello.accel_scale = (float)accelG * kStandardGravity / 32768.0f;
  hello.gyro_scale = (float)gyroDps * kDegToRad / 32768.0f;
}

static void sendFrame(Link link, size_t len) {
  if (len == 0) {
    return;
  }
  if (link == LINK_SERIAL) {
    size_t w = aura_stream_wrap(frameBuf, len, wireBuf, sizeof wireBuf);
    Serial.write(wireBuf, w);
  } else {
    dataChar.writeValue(frameBuf, (int)len);
  }
}

static void sendHello(Link link) {
  sendFrame(link, aura_encode_hello(&hello, frameBuf, sizeof frameBuf));
}

static void sendAck(Link link, uint8_t opcode, uint8_t token, uint8_t status) {
  size_t len = aura_encode_ack(opcode, token, status, frameBuf, sizeof frameBuf);
  if (link == LINK_SERIAL) {
    size_t w = aura_stream_wrap(frameBuf, len, wireBuf, sizeof wireBuf);
    Serial.write(wireBuf, w);
  } else {
    controlChar.writeValue(frameBuf, (int)len); /* indication */
  }
}

static uint16_t nearestOf(const uint16_t *options, size_t n, uint16_t want, uint16_t cap) {
  uint16_t best = options[0];
  for (size_t i = 0; i < n; i++) {
    if (options[i] > cap) {
      break;
    }
    long d = labs((long)options[i] - (long)want), bd = labs((long)best - (long)want);
    if (d < bd) {
      best = options[i];
    }
  }
  return best;
}

static void handleCommand(Link link, const aura_msg_t *m) {
  static const uint16_t accelOptions[] = {2, 4, 8, 16};
  static const uint16_t gyroOptions[] = {125, 250, 500, 1000, 2000};
  bool &streaming = (link == LINK_SERIAL) ? streamingSerial : streamingBle;
  switch (m->opcode) {
    case AURA_OP_START:
      if (m->n_args != 0) { sendAck(link, m->opcode, m->token, AURA_STATUS_BAD_LENGTH); return; }
      if (link == LINK_BLE && !dataChar.subscribed()) {
        sendAck(link, m->opcode, m->token, AURA_STATUS_BAD_STATE);
        return;
      }
      streaming = true;
      sendAck(link, m->opcode, m->token, AURA_STATUS_OK);
      return;
    case AURA_OP_STOP:
      if (m->n_args != 0) { sendAck(link, m->opcode, m->token, AURA_STATUS_BAD_LENGTH); return; }
      streaming = false;
      sendAck(link, m->opcode, m->token, AURA_STATUS_OK);
      return;
    case AURA_OP_GET_HELLO:
      if (m->n_args != 0) { sendAck(link, m->opcode, m->token, AURA_STATUS_BAD_LENGTH); return; }
      sendAck(link, m->opcode, m->token, AURA_STATUS_OK);
      sendHello(link);
      return;
    case AURA_OP_SET_RATE: {
      uint32_t mhz;
      if (aura_command_rate(m, &mhz) != AURA_OK) {
        sendAck(link, m->opcode, m->token, AURA_STATUS_BAD_LENGTH);
        return;
      }
      if (mhz == 0) { /* any other rate has a nearest supported one */
        sendAck(link, m->opcode, m->token, AURA_STATUS_BAD_VALUE);
        return;
      }
      float k = nativeRateHz * 1000.0f / (float)mhz;
      decimation = (uint8_t)constrain((int)(k + 0.5f), 1, (int)kMaxDecimation);
      hello.sample_rate_mhz = (uint32_t)(nativeRateHz * 1000.0f / decimation + 0.5f);
      accCount = 0;
      serialN = bleN = 0; /* frames never mix two configurations */
      sendAck(link, m->opcode, m->token, AURA_STATUS_OK);
      sendHello(LINK_SERIAL);
      if (dataChar.subscribed()) sendHello(LINK_BLE);
      return;
    }
    case AURA_OP_SET_RANGE: {
      uint16_t g, dps;
      if (aura_command_range(m, &g, &dps) != AURA_OK) {
        sendAck(link, m->opcode, m->token, AURA_STATUS_BAD_LENGTH);
        return;
      }
      setRanges(nearestOf(accelOptions, 4, g, kHwAccelRangeG),
                nearestOf(gyroOptions, 5, dps, kHwGyroRangeDps));
      serialN = bleN = 0;
      sendAck(link, m->opcode, m->token, AURA_STATUS_OK);
      sendHello(LINK_SERIAL);
      if (dataChar.subscribed()) sendHello(LINK_BLE);
      return;
    }
    default:
      sendAck(link, m->opcode, m->token, AURA_STATUS_UNKNOWN_OPCODE);
  }
}

static int16_t toCounts(float si, float scale) {
  float c = si / scale;
  if (c >= 32767.0f) return 32767;
  if (c <= -32768.0f) return -32768;
  return (int16_t)lroundf(c);
}

static void pushSample(const float v[6], uint32_t tUs) {
  int16_t counts[6];
  for (int i = 0; i < 3; i++) {
    counts[i] = toCounts(v[i] * kStandardGravity, hello.accel_scale);
    counts[i + 3] = toCounts(v[i + 3] * kDegToRad, hello.gyro_scale);
  }
  if (streamingSerial) {
    memcpy(&serialSamples[serialN * 6], counts, sizeof counts);
    if (++serialN == kSerialSamplesPerFrame) {
      sendFrame(LINK_SERIAL, aura_encode_samples(serialSeq++, tUs, serialSamples, serialN,
                                                 frameBuf, sizeof frameBuf));
      serialN = 0;
    }
  }
  if (streamingBle) {
    memcpy(&bleSamples[bleN * 6], counts, sizeof counts);
    if (++bleN == kBleSamplesPerFrame) {
      sendFrame(LINK_BLE, aura_encode_samples(bleSeq++, tUs, bleSamples, bleN, frameBuf,
                                              sizeof frameBuf));
      bleN = 0;
    }
  }
}

void setup() {
  Serial.begin(921600); /* USB CDC: the baud rate is not used */
  if (!IMU.begin()) {
    while (true) { digitalWrite(LED_BUILTIN, !digitalRead(LED_BUILTIN)); delay(100); }
  }
  nativeRateHz = IMU.accelerationSampleRate();
  hello.version = AURA_PROTOCOL_VERSION;
  hello.flags = 0; /* raw specific force: gravity included */
  hello.device_id = deviceId();
  hello.sample_rate_mhz = (uint32_t)(nativeRateHz * 1000.0f + 0.5f);
  setRanges(kHwAccelRangeG, kHwGyroRangeDps);
  aura_rx_init(&serialRx, rxBuf, sizeof rxBuf);

  if (BLE.begin()) {
    char name[16];
    snprintf(name, sizeof name, "AURA-%04X", (unsigned)(hello.device_id & 0xFFFF));
    BLE.setLocalName(name);
    BLE.setAdvertisedService(auraService);
    auraService.addCharacteristic(dataChar);
    auraService.addCharacteristic(controlChar);
    BLE.addService(auraService);
    BLE.advertise();
  }
  Serial.write((uint8_t)0x00); /* lets the host drop any partial bytes it holds */
  sendHello(LINK_SERIAL);
}

void loop() {
  aura_msg_t msg;
  while (Serial.available() > 0) {
    if (aura_rx_push(&serialRx, (uint8_t)Serial.read(), &msg) && msg.type == AURA_MSG_COMMAND) {
      handleCommand(LINK_SERIAL, &msg);
    }
  }

  BLE.poll();
  if (!BLE.connected()) {
    streamingBle = false; /* idle again after a disconnection */
    bleN = 0;
  }
  if (controlChar.written()) {
    if (aura_parse_frame(controlChar.value(), (size_t)controlChar.valueLength(), &msg) == AURA_OK &&
        msg.type == AURA_MSG_COMMAND) {
      handleCommand(LINK_BLE, &msg);
    }
  }

  if (IMU.accelerationAvailable() && IMU.gyroscopeAvailable()) {
    float a[3], g[3];
    IMU.readAcceleration(a[0], a[1], a[2]); /* g */
    IMU.readGyroscope(g[0], g[1], g[2]);    /* deg/s */
    uint32_t tUs = micros();                 /* wraps every 71.6 min, as the protocol expects */
    for (int i = 0; i < 3; i++) {
      acc6[i] += a[i];
      acc6[i + 3] += g[i];
    }
    if (++accCount >= decimation) { /* averaged decimation, not plain dropping */
      float v[6];
      for (int i = 0; i < 6; i++) {
        v[i] = acc6[i] / (float)accCount;
        acc6[i] = 0.0f;
      }
      accCount = 0;
      pushSample(v, tUs);
    }
  }
}
