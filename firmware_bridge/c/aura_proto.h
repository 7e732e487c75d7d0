/*
 * aura_proto.h - AURA stream protocol v1 (docs/protocol.md), encoder and decoder for
 * microcontrollers.
 *
 * C99, no dependencies beyond <stdint.h>/<stddef.h>/<string.h>, no malloc, no global state:
 * every buffer belongs to the caller. Multi-byte fields are packed byte by byte, so the code is
 * correct on little- and big-endian CPUs and never does an unaligned access.
 *
 * A frame is  type:u8 | body | crc32:u32 LE  (CRC-32/IEEE over type|body, as zlib.crc32).
 * On a byte stream each frame is COBS-encoded and followed by one 0x00; over BLE each
 * notification carries exactly one raw frame.
 */
#ifndef AURA_PROTO_H
#define AURA_PROTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AURA_PROTOCOL_VERSION 1u

#define AURA_MAX_SAMPLES_PER_FRAME 64u
#define AURA_SAMPLES_OVERHEAD 11u /* type, seq u16, t_us u32, crc u32 */
#define AURA_SAMPLE_LEN 12u       /* ax ay az gx gy gz, int16 each */
#define AURA_SAMPLES_FRAME_LEN(n) (AURA_SAMPLES_OVERHEAD + AURA_SAMPLE_LEN * (n))
#define AURA_MAX_FRAME_LEN AURA_SAMPLES_FRAME_LEN(AURA_MAX_SAMPLES_PER_FRAME)
#define AURA_HELLO_LEN 32u
#define AURA_ACK_LEN 8u
#define AURA_MIN_FRAME_LEN 7u /* a COMMAND without arguments */
#define AURA_MAX_COMMAND_ARGS 32u

/* Worst-case COBS size of an n-byte frame, and of a whole frame on a stream (+ delimiter). */
#define AURA_COBS_MAX_LEN(n) ((n) + (n) / 254u + 1u)
#define AURA_MAX_WIRE_LEN (AURA_COBS_MAX_LEN(AURA_MAX_FRAME_LEN) + 1u)

/* Samples one notification can carry at ATT MTU m: (m - 3 - 11) / 12, capped at 64. */
#define AURA_SAMPLES_PER_NOTIFICATION(m)                                                   \
    ((m) < 26u ? 0u                                                                        \
               : (((m) - 14u) / 12u > AURA_MAX_SAMPLES_PER_FRAME ? AURA_MAX_SAMPLES_PER_FRAME \
                                                                 : ((m) - 14u) / 12u))

/* BLE GATT profile (docs/protocol.md). */
#define AURA_BLE_SERVICE_UUID "a02a0001-e2f0-4246-b229-171dc0968aa0"
#define AURA_BLE_DATA_UUID "a02a0002-e2f0-4246-b229-171dc0968aa0"    /* notify */
#define AURA_BLE_CONTROL_UUID "a02a0003-e2f0-4246-b229-171dc0968aa0" /* write + indicate */
#define AURA_BLE_MIN_MTU 35u /* HELLO (32 bytes) + 3 */

enum aura_msg_type {
    AURA_MSG_NONE = 0x00,
    AURA_MSG_HELLO = 0x01,
    AURA_MSG_SAMPLES = 0x02,
    AURA_MSG_COMMAND = 0x03,
    AURA_MSG_ACK = 0x04
};

enum aura_opcode {
    AURA_OP_START = 0x01,
    AURA_OP_STOP = 0x02,
    AURA_OP_SET_RATE = 0x03,  /* args: u32 rate in millihertz */
    AURA_OP_SET_RANGE = 0x04, /* args: u16 accel range (g), u16 gyro range (deg/s) */
    AURA_OP_GET_HELLO = 0x05
};

enum aura_status {
    AURA_STATUS_OK = 0x00,
    AURA_STATUS_UNKNOWN_OPCODE = 0x01,
    AURA_STATUS_BAD_LENGTH = 0x02,
    AURA_STATUS_BAD_VALUE = 0x03,
    AURA_STATUS_BAD_STATE = 0x04,
    AURA_STATUS_MTU_TOO_SMALL = 0x05,
    AURA_STATUS_INTERNAL = 0x06
};

/* Return codes of aura_parse_frame / aura_cobs_decode. */
enum aura_err {
    AURA_OK = 0,
    AURA_ERR_SHORT = -1,   /* shorter than any frame */
    AURA_ERR_CRC = -2,     /* CRC mismatch */
    AURA_ERR_LENGTH = -3,  /* wrong length for its type */
    AURA_ERR_TYPE = -4,    /* unknown message type (valid CRC: a newer protocol's message) */
    AURA_ERR_VALUE = -5,   /* a HELLO field out of range */
    AURA_ERR_VERSION = -6, /* HELLO of another protocol version */
    AURA_ERR_COBS = -7,    /* malformed COBS block */
    AURA_ERR_NOSPACE = -8  /* output buffer too small */
};

#define AURA_FLAG_GRAVITY_REMOVED 0x01u

typedef struct {
    uint8_t version;          /* AURA_PROTOCOL_VERSION */
    uint8_t flags;            /* AURA_FLAG_* */
    uint64_t device_id;
    uint32_t sample_rate_mhz; /* output data rate in millihertz (100 Hz = 100000) */
    uint16_t accel_range_g;   /* +/- full scale */
    uint16_t gyro_range_dps;  /* +/- full scale */
    float accel_scale;        /* m/s^2 per LSB */
    float gyro_scale;         /* rad/s per LSB */
} aura_hello_t;

/* One parsed frame. Pointers point into the frame buffer that was parsed. */
typedef struct {
    uint8_t type; /* enum aura_msg_type */
    aura_hello_t hello;          /* HELLO */
    uint16_t seq;                /* SAMPLES */
    uint32_t t_us;               /* SAMPLES: device time of the last sample, microseconds */
    uint8_t n_samples;           /* SAMPLES */
    const uint8_t *samples;      /* SAMPLES: n_samples * 12 bytes, read with aura_sample() */
    uint8_t opcode;              /* COMMAND, ACK */
    uint8_t token;               /* COMMAND, ACK */
    uint8_t status;              /* ACK */
    uint8_t n_args;              /* COMMAND */
    const uint8_t *args;         /* COMMAND */
} aura_msg_t;

/* CRC-32/IEEE, zlib convention: crc = aura_crc32(0, p, n); continue with crc = aura_crc32(crc, ...).
 * Define AURA_CRC32_BITWISE to trade speed for 1 KiB of flash (no table). */
uint32_t aura_crc32(uint32_t crc, const uint8_t *data, size_t len);

/* Frame builders: return the frame length, or 0 if an argument is invalid or cap too small. */
size_t aura_encode_hello(const aura_hello_t *hello, uint8_t *out, size_t cap);
/* samples: n * 6 int16 in order ax ay az gx gy gz; 1 <= n <= AURA_MAX_SAMPLES_PER_FRAME. */
size_t aura_encode_samples(uint16_t seq, uint32_t t_us, const int16_t *samples, size_t n,
                           uint8_t *out, size_t cap);
size_t aura_encode_command(uint8_t opcode, uint8_t token, const uint8_t *args, size_t n_args,
                           uint8_t *out, size_t cap);
size_t aura_encode_ack(uint8_t opcode, uint8_t token, uint8_t status, uint8_t *out, size_t cap);

/* COBS. aura_cobs_encode returns the encoded length (no delimiter) or 0 if cap is too small;
 * in and out must not overlap. aura_cobs_decode may decode in place (out == in) and returns
 * AURA_OK or AURA_ERR_COBS / AURA_ERR_NOSPACE, the decoded length in *out_len. */
size_t aura_cobs_encode(const uint8_t *in, size_t n, uint8_t *out, size_t cap);
int aura_cobs_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *out_len);

/* A frame ready for a byte stream: COBS + 0x00. Returns its length, 0 if cap is too small. */
size_t aura_stream_wrap(const uint8_t *frame, size_t n, uint8_t *out, size_t cap);

/* Parse one raw frame (a BLE notification, or a COBS-decoded chunk). AURA_OK or < 0. */
int aura_parse_frame(const uint8_t *frame, size_t n, aura_msg_t *msg);

/* Sample i, channel ch (0..5: ax ay az gx gy gz) of a parsed SAMPLES message. */
int16_t aura_sample(const aura_msg_t *msg, size_t i, size_t ch);

/* Argument helpers for parsed COMMAND messages: AURA_OK, or AURA_ERR_LENGTH. */
int aura_command_rate(const aura_msg_t *msg, uint32_t *rate_mhz);
int aura_command_range(const aura_msg_t *msg, uint16_t *accel_range_g, uint16_t *gyro_range_dps);

/* Incremental stream receiver: push bytes one at a time as they arrive (UART ISR / loop).
 * The buffer belongs to the caller; AURA_MAX_WIRE_LEN bytes take any frame, a device that only
 * receives commands needs AURA_COBS_MAX_LEN(7 + AURA_MAX_COMMAND_ARGS) + 1. */
typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len;
    uint8_t overflow; /* current chunk is longer than buf: discard it up to the next 0x00 */
    uint32_t frames_ok;
    uint32_t frames_corrupt;
    uint32_t bytes_dropped;
    uint32_t frames_ignored; /* valid CRC but a newer protocol's message: skipped */
} aura_rx_t;

void aura_rx_init(aura_rx_t *rx, uint8_t *buf, size_t cap);
/* Returns 1 when *msg holds a valid message (its pointers valid until the next push), else 0. */
int aura_rx_push(aura_rx_t *rx, uint8_t byte, aura_msg_t *msg);

#ifdef __cplusplus
}
#endif

#endif /* AURA_PROTO_H */
