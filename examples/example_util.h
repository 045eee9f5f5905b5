/*
 * example_util.h: the few helpers every libdashmap example shares.
 *
 * Nothing here is part of libdashmap; it only keeps the examples short:
 *   STR(s)             a C string as the (pointer, length) pair dm_ functions take
 *   CHECK(cond, ...)   exit(1) with a message when a result is wrong
 *   EXPECT(call, st)   exit(1) unless a dm_ call returned exactly status `st`
 *   put_i64/get_i64    the 8-byte little-endian counter format of dm_add_i64
 *   now_sec()          a monotonic clock, for timings
 *   get_str()          dm_get_copy into a NUL-terminated char buffer
 *   struct start_gate  lets worker threads start at the same moment
 *
 * Include it before any system header (it sets _POSIX_C_SOURCE).
 */
#ifndef DM_EXAMPLE_UTIL_H
#define DM_EXAMPLE_UTIL_H

/* clock_gettime and pthread barriers under -std=c11 (no GNU extensions). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dashmap.h"

/* Keys and values are byte strings; most examples use C strings, passed
 * without their terminating NUL: dm_insert(m, STR("one"), STR("1")). */
#define STR(s) (const uint8_t *)(s), strlen(s)

/* Every example checks its own results: a wrong answer is a failed test. */
#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n    ", __FILE__,       \
                    __LINE__, #cond);                                        \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

/* Runs a dm_ call and insists on one exact status (outcomes count too:
 * DM_OK and DM_REPLACED are different answers). */
#define EXPECT(call, want)                                                   \
    do {                                                                     \
        dm_status st_ = (call);                                              \
        if (st_ != (want)) {                                                 \
            fprintf(stderr, "%s:%d: %s\n    returned %d (%s), expected %s\n",\
                    __FILE__, __LINE__, #call, (int)st_, dm_status_str(st_), \
                    #want);                                                  \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

/* dm_add_i64 counters are 8-byte little-endian int64_t values. Encoding
 * byte by byte keeps the examples correct on any host byte order. */
static inline void put_i64(uint8_t out[8], int64_t v) {
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)(u >> (8 * i));
}

static inline int64_t get_i64(const uint8_t in[8]) {
    uint64_t u = 0;
    for (int i = 0; i < 8; i++) u |= (uint64_t)in[i] << (8 * i);
    return (int64_t)u;
}

/* Seconds on a monotonic clock. */
static inline double now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Copies the value of `key` into `buf` as a C string. Returns false when the
 * key is absent; exits when the value does not fit (the examples size their
 * buffers for their own data). */
static inline bool get_str(const dm_map *map, const char *key, char *buf,
                           size_t cap) {
    size_t len = 0;
    dm_status st = dm_get_copy(map, STR(key), (uint8_t *)buf, cap - 1, &len);
    if (st == DM_NOT_FOUND) return false;
    CHECK(st == DM_OK, "dm_get_copy(\"%s\"): %s", key, dm_status_str(st));
    buf[len] = '\0';
    return true;
}

/* A start line for worker threads: each calls gate_wait(), then main calls
 * gate_open() once all are created, so the work really overlaps. (Like a
 * pthread barrier, which not every platform has.) */
struct start_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
};
#define START_GATE_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false}

static inline void gate_wait(struct start_gate *g) {
    pthread_mutex_lock(&g->mu);
    while (!g->open) pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static inline void gate_open(struct start_gate *g) {
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* pthread_create/join that exit with a message on failure. */
static inline void start_thread(pthread_t *t, void *(*fn)(void *), void *arg) {
    CHECK(pthread_create(t, NULL, fn, arg) == 0, "pthread_create failed");
}

static inline void join_thread(pthread_t t) {
    CHECK(pthread_join(t, NULL) == 0, "pthread_join failed");
}

#endif /* DM_EXAMPLE_UTIL_H */
