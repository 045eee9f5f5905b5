/*
 * check.h: a tiny assertion helper shared by the libdashmap C tests.
 *
 * Every CHECK* macro counts one check. A failed check prints
 * "file:line: CHECK failed: <expression>" (plus the values involved for the
 * typed variants) to stderr and the program carries on, so one run reports
 * every failure. At the end, `return check_finish();` from main() prints
 * exactly "N passed, M failed" and yields a non-zero exit status when M > 0.
 *
 * The counters are C11 atomics, so checks may run on several threads at once.
 */
#ifndef DM_TEST_CHECK_H
#define DM_TEST_CHECK_H

#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashmap.h"

static atomic_long check_passed_ = 0;
static atomic_long check_failed_ = 0;

/* Records one check; returns `ok` so callers can react to a failure. */
static inline bool check_record_(bool ok, const char *file, int line, const char *expr) {
    if (ok) {
        atomic_fetch_add(&check_passed_, 1);
    } else {
        atomic_fetch_add(&check_failed_, 1);
        fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, expr);
        fflush(stderr);
    }
    return ok;
}

static inline const char *check_status_name_(dm_status s) {
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
#ifdef DM_ERR_FULL
    case DM_ERR_FULL: return "DM_ERR_FULL";
#endif
    default: return "?";
    }
}

static inline bool check_status_(dm_status got, dm_status want, const char *file, int line, const char *expr) {
    bool ok = check_record_(got == want, file, line, expr);
    if (!ok) {
        fprintf(stderr, "    got %" PRId32 " (%s), expected %" PRId32 " (%s)\n", got, check_status_name_(got), want,
                check_status_name_(want));
    }
    return ok;
}

static inline bool check_u64_(uint64_t got, uint64_t want, const char *file, int line, const char *expr) {
    bool ok = check_record_(got == want, file, line, expr);
    if (!ok) {
        fprintf(stderr, "    got %" PRIu64 " (0x%" PRIx64 "), expected %" PRIu64 " (0x%" PRIx64 ")\n", got, got, want,
                want);
    }
    return ok;
}

static inline bool check_i64_(int64_t got, int64_t want, const char *file, int line, const char *expr) {
    bool ok = check_record_(got == want, file, line, expr);
    if (!ok) {
        fprintf(stderr, "    got %" PRId64 ", expected %" PRId64 "\n", got, want);
    }
    return ok;
}

static inline bool check_str_(const char *got, const char *want, const char *file, int line, const char *expr) {
    bool ok = check_record_(got != NULL && want != NULL && strcmp(got, want) == 0, file, line, expr);
    if (!ok) {
        fprintf(stderr, "    got \"%s\", expected \"%s\"\n", got ? got : "(null)", want ? want : "(null)");
    }
    return ok;
}

static inline bool check_mem_(const void *got, size_t got_len, const void *want, size_t want_len, const char *file,
                              int line, const char *expr) {
    bool ok = got_len == want_len && (want_len == 0 || (got != NULL && memcmp(got, want, want_len) == 0));
    check_record_(ok, file, line, expr);
    if (!ok) {
        fprintf(stderr, "    got %zu bytes \"%.*s\", expected %zu bytes \"%.*s\"\n", got_len,
                got ? (int)(got_len > 64 ? 64 : got_len) : 0, got ? (const char *)got : "", want_len,
                (int)(want_len > 64 ? 64 : want_len), (const char *)want);
    }
    return ok;
}

/* A boolean condition. */
#define CHECK(expr) check_record_((expr) ? true : false, __FILE__, __LINE__, #expr)
/* A dm_status result equals the expected one (both printed by name on failure). */
#define CHECK_ST(call, want) check_status_((call), (want), __FILE__, __LINE__, #call " == " #want)
/* Unsigned / size_t / pointer-sized equality. */
#define CHECK_EQ(got, want) check_u64_((uint64_t)(got), (uint64_t)(want), __FILE__, __LINE__, #got " == " #want)
/* Signed 64-bit equality. */
#define CHECK_I64(got, want) check_i64_((int64_t)(got), (int64_t)(want), __FILE__, __LINE__, #got " == " #want)
/* NUL-terminated string equality. */
#define CHECK_STR(got, want) check_str_((got), (want), __FILE__, __LINE__, #got " == " #want)
/* Byte-string equality: (ptr, len) against (ptr, len). */
#define CHECK_MEM(got, got_len, want, want_len)                                                                        \
    check_mem_((got), (got_len), (want), (want_len), __FILE__, __LINE__, #got "[" #got_len "] == " #want)

/* Prints "N passed, M failed" and returns the exit status for main(). */
static inline int check_finish(void) {
    long passed = atomic_load(&check_passed_);
    long failed = atomic_load(&check_failed_);
    fflush(stderr);
    printf("%ld passed, %ld failed\n", passed, failed);
    fflush(stdout);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* The tests provoke allocation failures on purpose (a 64 TiB value copy, a
 * table of petabytes): under AddressSanitizer malloc must then return NULL
 * as it does normally, instead of aborting. ASAN_OPTIONS still overrides. */
#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }
#endif

/* Test helpers shared by the programs. */

/* A C string as a key/value (the terminating NUL excluded). */
#define S(str) ((const uint8_t *)(str)), (sizeof(str) - 1)

/* A length that no byte string can have: PTRDIFF_MAX + 1. */
#define TOO_LONG ((size_t)PTRDIFF_MAX + 1)

/* Creates a map or aborts the test program (nothing else can run without it). */
static inline dm_map *check_new_map_(dm_map *m, const char *file, int line) {
    if (m == NULL) {
        fprintf(stderr, "%s:%d: could not create a map\n", file, line);
        exit(EXIT_FAILURE);
    }
    return m;
}
#define MUST(map_expr) check_new_map_((map_expr), __FILE__, __LINE__)

/* An environment integer with a default (used to shrink loads under valgrind). */
static inline long check_env_long(const char *name, long dflt) {
    const char *s = getenv(name);
    if (s == NULL || *s == '\0') return dflt;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    return (end != NULL && *end == '\0' && v > 0) ? v : dflt;
}

#endif /* DM_TEST_CHECK_H */
