/*
 * aura_cli.c - line-oriented test harness for aura_proto.c (tests/bridge/test_aura_c.py).
 *
 * Reads commands on stdin, one per line, writes one or more result lines per command:
 *   hello VER FLAGS DEVID_HEX RATE_MHZ ARANGE GRANGE ASCALE_BITS GSCALE_BITS
 *   samples SEQ T_US N V0 V1 ... V(6N-1)
 *   command OPCODE TOKEN ARGS_HEX|-
 *   ack OPCODE TOKEN STATUS
 *       -> "FRAME <hex>" then "WIRE <hex>" (COBS + 0x00), or "ERR encode"
 *   stream HEX   -> bytes pushed one by one through aura_rx: one line per message, then
 *                   "STATS ok corrupt dropped ignored"
 *   packet HEX   -> aura_parse_frame on the whole buffer: one message line or "ERR <code>"
 *   cobs HEX / uncobs HEX / crc HEX -> "HEX <hex>" / "HEX <hex>" or "ERR <code>" / "CRC <8 hex>"
 *   bounds HEX   -> COBS encode / wrap / decode into every buffer size: "BOUNDS ok <len>" when
 *                   results are exact and nothing is written at or past the buffer's end
 * Message lines: "HELLO ver flags devid rate arange grange abits gbits",
 * "SAMPLES seq t_us n v...", "COMMAND op token args|-", "ACK op token status" (numbers decimal,
 * devid 16 hex digits, float bits 8 hex digits).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../aura_proto.h"

#define MAX_LINE 65536

static uint8_t bytes_in[MAX_LINE / 2];
static uint8_t frame[AURA_MAX_FRAME_LEN + 64];
static uint8_t wire[AURA_MAX_WIRE_LEN + 64];
static uint8_t scratch[MAX_LINE];

static size_t from_hex(const char *s, uint8_t *out, size_t cap) {
    size_t n = 0;
    if (strcmp(s, "-") == 0) {
        return 0;
    }
    while (s[0] && s[1] && n < cap) {
        unsigned v;
        if (sscanf(s, "%2x", &v) != 1) {
            break;
        }
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static void print_hex(const char *tag, const uint8_t *p, size_t n) {
    size_t i;
    printf("%s ", tag);
    if (n == 0) {
        printf("-");
    }
    for (i = 0; i < n; i++) {
        printf("%02x", p[i]);
    }
    printf("\n");
}

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static void print_msg(const aura_msg_t *m) {
    size_t i, k;
    switch (m->type) {
    case AURA_MSG_HELLO:
        printf("HELLO %u %u %016llx %lu %u %u %08lx %08lx\n", m->hello.version, m->hello.flags,
               (unsigned long long)m->hello.device_id, (unsigned long)m->hello.sample_rate_mhz,
               m->hello.accel_range_g, m->hello.gyro_range_dps,
               (unsigned long)bits_of(m->hello.accel_scale),
               (unsigned long)bits_of(m->hello.gyro_scale));
        break;
    case AURA_MSG_SAMPLES:
        printf("SAMPLES %u %lu %u", m->seq, (unsigned long)m->t_us, m->n_samples);
        for (i = 0; i < m->n_samples; i++) {
            for (k = 0; k < 6; k++) {
                printf(" %d", aura_sample(m, i, k));
            }
        }
        printf("\n");
        break;
    case AURA_MSG_COMMAND:
        printf("COMMAND %u %u ", m->opcode, m->token);
        if (m->n_args == 0) {
            printf("-");
        }
        for (i = 0; i < m->n_args; i++) {
            printf("%02x", m->args[i]);
        }
        printf("\n");
        break;
    case AURA_MSG_ACK:
        printf("ACK %u %u %u\n", m->opcode, m->token, m->status);
        break;
    default:
        printf("ERR type\n");
    }
}

static void emit_frame(size_t len) {
    size_t wlen;
    if (len == 0) {
        printf("ERR encode\n");
        return;
    }
    print_hex("FRAME", frame, len);
    wlen = aura_stream_wrap(frame, len, wire, sizeof wire);
    if (wlen == 0) {
        printf("ERR wrap\n");
        return;
    }
    print_hex("WIRE", wire, wlen);
}

static void run(char *line) {
    char *cmd = strtok(line, " \t\r\n");
    if (cmd == NULL) {
        return;
    }
    if (strcmp(cmd, "hello") == 0) {
        aura_hello_t h;
        uint32_t ab, gb;
        memset(&h, 0, sizeof h);
        h.version = (uint8_t)strtoul(strtok(NULL, " "), NULL, 10);
        h.flags = (uint8_t)strtoul(strtok(NULL, " "), NULL, 10);
        h.device_id = strtoull(strtok(NULL, " "), NULL, 16);
        h.sample_rate_mhz = (uint32_t)strtoul(strtok(NULL, " "), NULL, 10);
        h.accel_range_g = (uint16_t)strtoul(strtok(NULL, " "), NULL, 10);
        h.gyro_range_dps = (uint16_t)strtoul(strtok(NULL, " "), NULL, 10);
        ab = (uint32_t)strtoul(strtok(NULL, " "), NULL, 16);
        gb = (uint32_t)strtoul(strtok(NULL, " \r\n"), NULL, 16);
        memcpy(&h.accel_scale, &ab, 4);
        memcpy(&h.gyro_scale, &gb, 4);
        emit_frame(aura_encode_hello(&h, frame, sizeof frame));
    } else if (strcmp(cmd, "samples") == 0) {
        static int16_t v[6 * AURA_MAX_SAMPLES_PER_FRAME];
        uint16_t seq = (uint16_t)strtoul(strtok(NULL, " "), NULL, 10);
        uint32_t t = (uint32_t)strtoul(strtok(NULL, " "), NULL, 10);
        size_t n = (size_t)strtoul(strtok(NULL, " \r\n"), NULL, 10), i;
        for (i = 0; i < 6 * n && i < 6 * AURA_MAX_SAMPLES_PER_FRAME; i++) {
            v[i] = (int16_t)strtol(strtok(NULL, " \r\n"), NULL, 10);
        }
        emit_frame(aura_encode_samples(seq, t, v, n, frame, sizeof frame));
    } else if (strcmp(cmd, "command") == 0) {
        uint8_t op = (uint8_t)strtoul(strtok(NULL, " "), NULL, 10);
        uint8_t tok = (uint8_t)strtoul(strtok(NULL, " "), NULL, 10);
        size_t n = from_hex(strtok(NULL, " \r\n"), scratch, sizeof scratch);
        emit_frame(aura_encode_command(op, tok, scratch, n, frame, sizeof frame));
    } else if (strcmp(cmd, "ack") == 0) {
        uint8_t op = (uint8_t)strtoul(strtok(NULL, " "), NULL, 10);
        uint8_t tok = (uint8_t)strtoul(strtok(NULL, " "), NULL, 10);
        uint8_t st = (uint8_t)strtoul(strtok(NULL, " \r\n"), NULL, 10);
        emit_frame(aura_encode_ack(op, tok, st, frame, sizeof frame));
    } else if (strcmp(cmd, "stream") == 0) {
        static uint8_t rxbuf[AURA_COBS_MAX_LEN(AURA_MAX_FRAME_LEN)];
        aura_rx_t rx;
        aura_msg_t m;
        size_t n = from_hex(strtok(NULL, " \r\n"), bytes_in, sizeof bytes_in), i;
        aura_rx_init(&rx, rxbuf, sizeof rxbuf);
        for (i = 0; i < n; i++) {
            if (aura_rx_push(&rx, bytes_in[i], &m)) {
                print_msg(&m);
            }
        }
        printf("STATS %lu %lu %lu %lu\n", (unsigned long)rx.frames_ok,
               (unsigned long)rx.frames_corrupt, (unsigned long)rx.bytes_dropped,
               (unsigned long)rx.frames_ignored);
    } else if (strcmp(cmd, "packet") == 0) {
        aura_msg_t m;
        size_t n = from_hex(strtok(NULL, " \r\n"), bytes_in, sizeof bytes_in);
        int rc = aura_parse_frame(bytes_in, n, &m);
        if (rc == AURA_OK) {
            print_msg(&m);
        } else {
            printf("ERR %d\n", rc);
        }
    } else if (strcmp(cmd, "cobs") == 0) {
        size_t n = from_hex(strtok(NULL, " \r\n"), bytes_in, sizeof bytes_in);
        size_t len = aura_cobs_encode(bytes_in, n, scratch, sizeof scratch);
        print_hex("HEX", scratch, len);
    } else if (strcmp(cmd, "uncobs") == 0) {
        size_t n = from_hex(strtok(NULL, " \r\n"), bytes_in, sizeof bytes_in), len = 0;
        int rc = aura_cobs_decode(bytes_in, n, bytes_in, sizeof bytes_in, &len); /* in place */
        if (rc == AURA_OK) {
            print_hex("HEX", bytes_in, len);
        } else {
            printf("ERR %d\n", rc);
        }
    } else if (strcmp(cmd, "bounds") == 0) {
        /* every cap from 0 to need + 2: results exact, nothing written at or past cap */
        size_t n = from_hex(strtok(NULL, " \r\n"), bytes_in, sizeof bytes_in), cap, k;
        size_t need = aura_cobs_encode(bytes_in, n, scratch, sizeof scratch), got, dlen = 0;
        static uint8_t enc[AURA_MAX_WIRE_LEN + 64];
        const char *fail = NULL;
        memcpy(enc, scratch, need);
        for (cap = 0; cap <= need + 2 && fail == NULL; cap++) {
            memset(scratch, 0xA5, cap + 16);
            got = aura_cobs_encode(bytes_in, n, scratch, cap);
            if (got != (cap < need ? 0u : need)) fail = "cobs_encode result";
            for (k = cap; k < cap + 16 && fail == NULL; k++) {
                if (scratch[k] != 0xA5) fail = "cobs_encode wrote past cap";
            }
            memset(scratch, 0xA5, cap + 16);
            got = aura_stream_wrap(bytes_in, n, scratch, cap);
            if (got != (cap < need + 1 ? 0u : need + 1)) fail = "stream_wrap result";
            for (k = cap; k < cap + 16 && fail == NULL; k++) {
                if (scratch[k] != 0xA5) fail = "stream_wrap wrote past cap";
            }
            memset(scratch, 0xA5, cap + 16);
            got = (size_t)aura_cobs_decode(enc, need, scratch, cap, &dlen);
            if ((int)got != (cap < n ? AURA_ERR_NOSPACE : AURA_OK)) fail = "cobs_decode result";
            for (k = cap; k < cap + 16 && fail == NULL; k++) {
                if (scratch[k] != 0xA5) fail = "cobs_decode wrote past cap";
            }
        }
        if (fail != NULL) {
            printf("BOUNDS fail %s cap %lu\n", fail, (unsigned long)(cap - 1));
        } else {
            printf("BOUNDS ok %lu\n", (unsigned long)need);
        }
    } else if (strcmp(cmd, "crc") == 0) {
        size_t n = from_hex(strtok(NULL, " \r\n"), bytes_in, sizeof bytes_in);
        printf("CRC %08lx\n", (unsigned long)aura_crc32(0u, bytes_in, n));
    } else {
        printf("ERR unknown command %s\n", cmd);
    }
}

int main(void) {
    static char line[MAX_LINE];
    while (fgets(line, sizeof line, stdin) != NULL) {
        run(line);
        fflush(stdout);
    }
    return 0;
}
