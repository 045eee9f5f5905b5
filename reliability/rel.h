/*
 * rel.h: small helpers shared by the reliability tests in reliability/.
 *
 * REL_CHECK counts one check and, on failure, prints file:line and a message
 * (the program carries on, so one run reports every failure). Counters are
 * C11 atomics: checks may run on several threads. rel_watchdog() arms an
 * alarm that ends a hung test with a clear message and exit status 124 (a
 * second line of defence behind ctest's TIMEOUT and the scripts' `timeout`).
 */
#ifndef DM_REL_H
#define DM_REL_H

#define _GNU_SOURCE 1
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dashmap.h"

static atomic_long rel_passed_ = 0;
static atomic_long rel_failed_ = 0;

static inline bool rel_check_(bool ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline bool rel_check_(bool ok, const char *file, int line, const char *fmt, ...) {
    if (ok) {
        atomic_fetch_add(&rel_passed_, 1);
        return true;
    }
    long n = atomic_fetch_add(&rel_failed_, 1);
    if (n < 200) { /* enough to diagnose; a broken invariant may fail millions of times */
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "%s:%d: CHECK failed: ", file, line);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        fflush(stderr);
    }
    return false;
}

#define REL_CHECK(cond, ...) rel_check_((cond), __FILE__, __LINE__, __VA_ARGS__)
static inline bool rel_check_eq_(long long got, long long want, const char *file, int line, const char *what) {
    return rel_check_(got == want, file, line, "%s: got %lld, want %lld", what, got, want);
}
/* Evaluates `got` and `want` once each. */
#define REL_CHECK_EQ(got, want, what) rel_check_eq_((long long)(got), (long long)(want), __FILE__, __LINE__, (what))

static inline long rel_failed(void) { return atomic_load(&rel_failed_); }
static inline long rel_passed(void) { return atomic_load(&rel_passed_); }

static inline double rel_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *rel_watchdog_name_ = "test";
static unsigned rel_watchdog_secs_ = 0;

static void rel_watchdog_fire_(int sig) {
    (void)sig;
    char msg[256];
    int n = snprintf(msg, sizeof msg,
                     "\nWATCHDOG: %s still running after %u s: a hang or deadlock; aborting\n",
                     rel_watchdog_name_, rel_watchdog_secs_);
    if (n > 0) {
        ssize_t w = write(2, msg, (size_t)n);
        (void)w;
    }
    _exit(124);
}

/* Ends the process with status 124 and a message if it runs past `secs`. */
static inline void rel_watchdog(const char *name, unsigned secs) {
    rel_watchdog_name_ = name;
    rel_watchdog_secs_ = secs;
    signal(SIGALRM, rel_watchdog_fire_);
    alarm(secs);
}

/* A status name for messages. */
static inline const char *rel_status(dm_status s) {
    switch (s) {
    case DM_OK: return "DM_OK";
    case DM_NOT_FOUND: return "DM_NOT_FOUND";
    case DM_REPLACED: return "DM_REPLACED";
    case DM_EXISTS: return "DM_EXISTS";
    case DM_MISMATCH: return "DM_MISMATCH";
    case DM_BUFFER_TOO_SMALL: return "DM_BUFFER_TOO_SMALL";
    case DM_STOPPED: return "DM_STOPPED";
    case DM_ERR_NULL: return "DM_ERR_NULL";
    case DM_ERR_INVALID: return "DM_ERR_INVALID";
    case DM_ERR_NO_MEMORY: return "DM_ERR_NO_MEMORY";
    case DM_ERR_REENTRANT: return "DM_ERR_REENTRANT";
    case DM_ERR_PANIC: return "DM_ERR_PANIC";
    case DM_ERR_FULL: return "DM_ERR_FULL";
    default: return "?";
    }
}

/* A seconds argument: argv[i] if given, else the environment variable, else `dflt`. */
static inline double rel_seconds_arg(int argc, char **argv, int i, const char *env, double dflt) {
    if (argc > i) return atof(argv[i]);
    const char *e = getenv(env);
    if (e && *e) return atof(e);
    return dflt;
}

/* xorshift64*: a fast per-thread PRNG. */
static inline uint64_t rel_rand(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

#endif /* DM_REL_H */
