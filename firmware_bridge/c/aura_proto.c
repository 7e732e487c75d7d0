/*
 * aura_proto.c - AURA stream protocol v1, see aura_proto.h and docs/protocol.md.
 */
#include "aura_proto.h"

#include <string.h>

/* The wire carries IEEE-754 binary32; every MCU this targets stores float that way. */
typedef char aura_float_is_32_bit[(sizeof(float) == 4) ? 1 : -1];

/* ---- byte packing (little-endian, independent of the CPU's byte order) ---------------- */

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v & 0xFFu);
    p[1] = (uint8_t)((v >> 8) & 0xFFu);
    p[2] = (uint8_t)((v >> 16) & 0xFFu);
    p[3] = (uint8_t)(v >> 24);
}

static void put64(uint8_t *p, uint64_t v) {
    put32(p, (uint32_t)(v & 0xFFFFFFFFu));
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | ((uint16_t)p[1] << 8)); }

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static uint64_t get64(const uint8_t *p) {
    return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32);
}

static uint32_t float_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* finite and > 0 (denormals included), judged on the bits so no libm is needed */
static int positive_finite(uint32_t bits) { return bits != 0u && bits < 0x7F800000u; }

/* ---- CRC-32/IEEE (reflected 0xEDB88320, init and xorout 0xFFFFFFFF) ------------------- */

#ifndef AURA_CRC32_BITWISE
/* CRC of each 4-bit value: two lookups per byte, 64 bytes of flash. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};
#endif

uint32_t aura_crc32(uint32_t crc, const uint8_t *data, size_t len) {
    uint32_t c = ~crc;
    size_t i;
    for (i = 0; i < len; i++) {
#ifdef AURA_CRC32_BITWISE
        int k;
        c ^= data[i];
        for (k = 0; k < 8; k++) {
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
        }
#else
        c ^= data[i];
        c = (c >> 4) ^ crc_nibble[c & 0x0Fu];
        c = (c >> 4) ^ crc_nibble[c & 0x0Fu];
#endif
    }
    return ~c;
}

/* Append the CRC of frame[0..n) at frame[n]; returns the sealed length. */
static size_t seal(uint8_t *frame, size_t n) {
    put32(frame + n, aura_crc32(0u, frame, n));
    return n + 4u;
}

/* ---- frame builders ------------------------------------------------------------------ */

size_t aura_encode_hello(const aura_hello_t *h, uint8_t *out, size_t cap) {
    if (h == NULL || out == NULL || cap < AURA_HELLO_LEN || h->sample_rate_mhz == 0u ||
        !positive_finite(float_bits(h->accel_scale)) ||
        !positive_finite(float_bits(h->gyro_scale))) {
        return 0u;
    }
    out[0] = AURA_MSG_HELLO;
    out[1] = h->version;
    out[2] = h->flags;
    out[3] = 0u; /* reserved */
    put64(out + 4, h->device_id);
    put32(out + 12, h->sample_rate_mhz);
    put16(out + 16, h->accel_range_g);
    put16(out + 18, h->gyro_range_dps);
    put32(out + 20, float_bits(h->accel_scale));
    put32(out + 24, float_bits(h->gyro_scale));
    return seal(out, 28u);
}

size_t aura_encode_samples(uint16_t seq, uint32_t t_us, const int16_t *samples, size_t n,
                           uint8_t *out, size_t cap) {
    size_t i, len;
    if (samples == NULL || out == NULL || n == 0u || n > AURA_MAX_SAMPLES_PER_FRAME) {
        return 0u;
    }
    len = AURA_SAMPLES_FRAME_LEN(n);
    if (cap < len) {
        return 0u;
    }
    out[0] = AURA_MSG_SAMPLES;
    put16(out + 1, seq);
    put32(out + 3, t_us);
    for (i = 0; i < 6u * n; i++) {
        put16(out + 7 + 2u * i, (uint16_t)samples[i]); /* two's complement bits, mod 2^16 */
    }
    return seal(out, 7u + AURA_SAMPLE_LEN * n);
}

size_t aura_encode_command(uint8_t opcode, uint8_t token, const uint8_t *args, size_t n_args,
                           uint8_t *out, size_t cap) {
    if (out == NULL || n_args > AURA_MAX_COMMAND_ARGS || (n_args > 0u && args == NULL) ||
        cap < AURA_MIN_FRAME_LEN + n_args) {
        return 0u;
    }
    out[0] = AURA_MSG_COMMAND;
    out[1] = opcode;
    out[2] = token;
    if (n_args > 0u) {
        memcpy(out + 3, args, n_args);
    }
    return seal(out, 3u + n_args);
}

size_t aura_encode_ack(uint8_t opcode, uint8_t token, uint8_t status, uint8_t *out, size_t cap) {
    if (out == NULL || cap < AURA_ACK_LEN) {
        return 0u;
    }
    out[0] = AURA_MSG_ACK;
    out[1] = opcode;
    out[2] = token;
    out[3] = status;
    return seal(out, 4u);
}

/* ---- COBS ---------------------------------------------------------------------------- */

size_t aura_cobs_encode(const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
    size_t code_pos = 0u, o = 1u, i;
    uint8_t code = 1u;
    if (out == NULL || cap < 1u || (n > 0u && in == NULL)) {
        return 0u;
    }
    for (i = 0; i < n; i++) {
        if (in[i] == 0u) {
            out[code_pos] = code;
            if (o >= cap) {
                return 0u;
            }
            code_pos = o++;
            code = 1u;
            continue;
        }
        if (o >= cap) {
            return 0u;
        }
        out[o++] = in[i];
        code++;
        if (code == 0xFFu) {
            out[code_pos] = code;
            if (i + 1u == n) {
                return o; /* canonical: no empty block after a final full one */
            }
            if (o >= cap) {
                return 0u;
            }
            code_pos = o++;
            code = 1u;
        }
    }
    out[code_pos] = code;
    return o;
}

int aura_cobs_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *out_len) {
    size_t i = 0u, o = 0u;
    if (in == NULL || out == NULL || out_len == NULL || n == 0u) {
        return AURA_ERR_COBS;
    }
    while (i < n) {
        uint8_t code = in[i];
        size_t k;
        if (code == 0u || (size_t)code > n - i) {
            return AURA_ERR_COBS;
        }
        i++;
        for (k = 1u; k < code; k++) {
            if (in[i] == 0u) {
                return AURA_ERR_COBS;
            }
            if (o >= cap) {
                return AURA_ERR_NOSPACE;
            }
            out[o++] = in[i++]; /* o < i always, so decoding in place is safe */
        }
        if (code != 0xFFu && i < n) {
            if (o >= cap) {
                return AURA_ERR_NOSPACE;
            }
            out[o++] = 0u;
        }
    }
    *out_len = o;
    return AURA_OK;
}

size_t aura_stream_wrap(const uint8_t *frame, size_t n, uint8_t *out, size_t cap) {
    size_t len;
    if (cap < 2u) {
        return 0u;
    }
    len = aura_cobs_encode(frame, n, out, cap - 1u);
    if (len == 0u) {
        return 0u;
    }
    out[len] = 0x00u;
    return len + 1u;
}

/* ---- parsing ------------------------------------------------------------------------- */

int aura_parse_frame(const uint8_t *f, size_t n, aura_msg_t *m) {
    if (m == NULL) {
        return AURA_ERR_VALUE;
    }
    memset(m, 0, sizeof *m);
    if (f == NULL || n < AURA_MIN_FRAME_LEN) {
        return AURA_ERR_SHORT;
    }
    if (aura_crc32(0u, f, n - 4u) != get32(f + n - 4u)) {
        return AURA_ERR_CRC;
    }
    switch (f[0]) {
    case AURA_MSG_SAMPLES:
        if (n < AURA_SAMPLES_FRAME_LEN(1u) || (n - AURA_SAMPLES_OVERHEAD) % AURA_SAMPLE_LEN != 0u ||
            n > AURA_MAX_FRAME_LEN) {
            return AURA_ERR_LENGTH;
        }
        m->seq = get16(f + 1);
        m->t_us = get32(f + 3);
        m->n_samples = (uint8_t)((n - AURA_SAMPLES_OVERHEAD) / AURA_SAMPLE_LEN);
        m->samples = f + 7;
        break;
    case AURA_MSG_HELLO:
        if (n != AURA_HELLO_LEN) {
            return AURA_ERR_LENGTH;
        }
        if (f[1] != AURA_PROTOCOL_VERSION) {
            return AURA_ERR_VERSION;
        }
        m->hello.version = f[1];
        m->hello.flags = f[2];
        m->hello.device_id = get64(f + 4);
        m->hello.sample_rate_mhz = get32(f + 12);
        m->hello.accel_range_g = get16(f + 16);
        m->hello.gyro_range_dps = get16(f + 18);
        if (m->hello.sample_rate_mhz == 0u || !positive_finite(get32(f + 20)) ||
            !positive_finite(get32(f + 24))) {
            memset(&m->hello, 0, sizeof m->hello);
            return AURA_ERR_VALUE;
        }
        m->hello.accel_scale = bits_float(get32(f + 20));
        m->hello.gyro_scale = bits_float(get32(f + 24));
        break;
    case AURA_MSG_COMMAND:
        if (n > AURA_MIN_FRAME_LEN + AURA_MAX_COMMAND_ARGS) {
            return AURA_ERR_LENGTH;
        }
        m->opcode = f[1];
        m->token = f[2];
        m->n_args = (uint8_t)(n - AURA_MIN_FRAME_LEN);
        m->args = f + 3;
        break;
    case AURA_MSG_ACK:
        if (n != AURA_ACK_LEN) {
            return AURA_ERR_LENGTH;
        }
        m->opcode = f[1];
        m->token = f[2];
        m->status = f[3];
        break;
    default:
        return AURA_ERR_TYPE;
    }
    m->type = f[0];
    return AURA_OK;
}

int16_t aura_sample(const aura_msg_t *msg, size_t i, size_t ch) {
    int32_t v;
    if (msg == NULL || msg->type != AURA_MSG_SAMPLES || i >= msg->n_samples || ch >= 6u) {
        return 0;
    }
    v = (int32_t)get16(msg->samples + AURA_SAMPLE_LEN * i + 2u * ch);
    if (v >= 32768) {
        v -= 65536; /* portable two's complement decode */
    }
    return (int16_t)v;
}

int aura_command_rate(const aura_msg_t *msg, uint32_t *rate_mhz) {
    if (msg == NULL || rate_mhz == NULL || msg->type != AURA_MSG_COMMAND || msg->n_args != 4u) {
        return AURA_ERR_LENGTH;
    }
    *rate_mhz = get32(msg->args);
    return AURA_OK;
}

int aura_command_range(const aura_msg_t *msg, uint16_t *accel_range_g, uint16_t *gyro_range_dps) {
    if (msg == NULL || accel_range_g == NULL || gyro_range_dps == NULL ||
        msg->type != AURA_MSG_COMMAND || msg->n_args != 4u) {
        return AURA_ERR_LENGTH;
    }
    *accel_range_g = get16(msg->args);
    *gyro_range_dps = get16(msg->args + 2);
    return AURA_OK;
}

/* ---- incremental stream receiver ----------------------------------------------------- */

void aura_rx_init(aura_rx_t *rx, uint8_t *buf, size_t cap) {
    memset(rx, 0, sizeof *rx);
    rx->buf = buf;
    rx->cap = cap;
}

int aura_rx_push(aura_rx_t *rx, uint8_t byte, aura_msg_t *msg) {
    size_t n, flen = 0u;
    int rc;
    if (byte != 0x00u) {
        if (rx->overflow) {
            rx->bytes_dropped++;
        } else if (rx->len >= rx->cap) {
            /* longer than any frame we accept: drop it up to the next delimiter */
            rx->overflow = 1u;
            rx->frames_corrupt++;
            rx->bytes_dropped += (uint32_t)rx->len + 1u;
            rx->len = 0u;
        } else {
            rx->buf[rx->len++] = byte;
        }
        return 0;
    }
    if (rx->overflow) {
        rx->overflow = 0u;
        return 0;
    }
    n = rx->len;
    rx->len = 0u;
    if (n == 0u) {
        return 0; /* back-to-back delimiters are allowed */
    }
    rc = aura_cobs_decode(rx->buf, n, rx->buf, rx->cap, &flen);
    if (rc == AURA_OK) {
        rc = aura_parse_frame(rx->buf, flen, msg);
    }
    if (rc == AURA_OK) {
        rx->frames_ok++;
        return 1;
    }
    if (rc == AURA_ERR_TYPE || rc == AURA_ERR_VERSION) {
        rx->frames_ignored++; /* a newer protocol's message is not corruption */
    } else {
        rx->frames_corrupt++;
        rx->bytes_dropped += (uint32_t)n;
    }
    return 0;
}
