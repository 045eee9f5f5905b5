/*
 * lost_updates.c: no increment is ever lost (oneTBB "lockstep" style).
 *
 * T threads each add 1 to counters N times, through three mechanisms, each
 * on a few hot keys (4: every thread collides all the time) and on many keys
 * (10 000: spread over every shard):
 *
 *   add_i64  dm_add_i64                         (atomic in the library)
 *   entry    dm_entry_update read-modify-write  (atomic under the shard lock)
 *   cas      dm_get_copy + dm_compare_and_swap  (optimistic retry loop)
 *
 * Afterwards each counter must hold exactly the number of increments aimed
 * at it, and the sum exactly T * N. Thread t adds to key (i * 7919 + t) mod K,
 * so the expected value of every key is known exactly.
 *
 *   lost_updates [threads] [iters] [scale]
 *
 * Defaults: 8 threads x 1 000 000 increments for dm_add_i64; the entry and
 * CAS variants run iters / scale increments per thread (scale 1 = full;
 * default 1: all six variants run the full count, a few seconds in Release). The
 * environment variables DM_LU_THREADS, DM_LU_ITERS, DM_LU_SCALE do the same.
 */
#include "rel.h"

#include <pthread.h>

typedef enum { V_ADD, V_ENTRY, V_CAS } variant;
static const char *variant_name[] = {"dm_add_i64", "dm_entry_update", "cas-loop"};

typedef struct {
    dm_map *map;
    variant v;
    int tid;
    long iters;
    long nkeys;
    long retries;  /* CAS retries (a failed compare) */
    long errors;
} worker;

static void key_of(long k, uint8_t out[8]) {
    uint64_t x = (uint64_t)k;
    memcpy(out, &x, 8);
}

static void incr_entry(dm_entry *e, void *ctx) {
    (void)ctx;
    size_t len = 0;
    const uint8_t *p = dm_entry_value(e, &len);
    int64_t v = 0;
    if (p) {
        if (len != 8) abort(); /* only counters live in this map */
        memcpy(&v, p, 8);
    }
    v += 1;
    if (dm_entry_set(e, (const uint8_t *)&v, 8) != DM_OK) abort();
}

static void *run_worker(void *arg) {
    worker *w = arg;
    uint8_t key[8];
    for (long i = 0; i < w->iters; i++) {
        long k = (i * 7919 + w->tid) % w->nkeys;
        key_of(k, key);
        dm_status st;
        switch (w->v) {
        case V_ADD:
            st = dm_add_i64(w->map, key, 8, 1, NULL);
            if (st != DM_OK) w->errors++;
            break;
        case V_ENTRY:
            st = dm_entry_update(w->map, key, 8, incr_entry, NULL);
            if (st != DM_OK) w->errors++;
            break;
        case V_CAS:
            for (;;) {
                int64_t cur = 0, next;
                size_t len = 0;
                st = dm_get_copy(w->map, key, 8, (uint8_t *)&cur, 8, &len);
                if (st == DM_NOT_FOUND) {
                    next = 1;
                    st = dm_try_insert(w->map, key, 8, (const uint8_t *)&next, 8);
                    if (st == DM_OK) break;
                    if (st != DM_EXISTS) { w->errors++; break; }
                    w->retries++;
                    continue;
                }
                if (st != DM_OK || len != 8) { w->errors++; break; }
                next = cur + 1;
                st = dm_compare_and_swap(w->map, key, 8, (const uint8_t *)&cur, 8, (const uint8_t *)&next, 8);
                if (st == DM_OK) break;
                if (st != DM_MISMATCH) { w->errors++; break; }
                w->retries++;
            }
            break;
        }
    }
    return NULL;
}

/* Runs one variant; returns false on any lost or extra increment. */
static bool run_variant(variant v, int threads, long iters, long nkeys) {
    dm_map *map = dm_new();
    REL_CHECK(map != NULL, "dm_new");
    worker *ws = calloc((size_t)threads, sizeof *ws);
    pthread_t *th = calloc((size_t)threads, sizeof *th);
    double t0 = rel_now();
    for (int t = 0; t < threads; t++) {
        ws[t] = (worker){.map = map, .v = v, .tid = t, .iters = iters, .nkeys = nkeys};
        if (pthread_create(&th[t], NULL, run_worker, &ws[t]) != 0) {
            perror("pthread_create");
            exit(1);
        }
    }
    long retries = 0, errors = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        retries += ws[t].retries;
        errors += ws[t].errors;
    }
    double secs = rel_now() - t0;

    /* Expected per key: count of (i, t) with (i*7919 + t) % nkeys == k. */
    int64_t *want = calloc((size_t)nkeys, sizeof *want);
    for (int t = 0; t < threads; t++)
        for (long i = 0; i < iters; i++) want[(i * 7919 + t) % nkeys]++;
    int64_t total = 0, expected_total = (int64_t)threads * iters;
    long wrong_keys = 0;
    uint8_t key[8];
    for (long k = 0; k < nkeys; k++) {
        key_of(k, key);
        int64_t got = 0;
        size_t len = 0;
        dm_status st = dm_get_copy(map, key, 8, (uint8_t *)&got, 8, &len);
        if (want[k] == 0) {
            REL_CHECK(st == DM_NOT_FOUND, "key %ld never incremented but present", k);
            continue;
        }
        if (!REL_CHECK(st == DM_OK && len == 8, "key %ld: %s", k, rel_status(st))) continue;
        total += got;
        if (got != want[k]) {
            wrong_keys++;
            REL_CHECK(false, "%s, %ld keys: key %ld holds %" PRId64 ", want %" PRId64, variant_name[v], nkeys, k,
                      got, want[k]);
        }
    }
    REL_CHECK_EQ(dm_len(map), nkeys < expected_total ? nkeys : expected_total, "dm_len");
    REL_CHECK_EQ(errors, 0, "unexpected statuses");
    bool ok = total == expected_total && wrong_keys == 0 && errors == 0;
    REL_CHECK(total == expected_total, "%s: total %" PRId64 ", want %" PRId64, variant_name[v], total,
              expected_total);
    printf("lost updates: %-15s %5ld keys: %d threads x %8ld = total %10" PRId64 " (want %10" PRId64
           ") %s  %.2fs  %.2f Mops/s",
           variant_name[v], nkeys, threads, iters, total, expected_total, ok ? "OK  " : "LOST", secs,
           (double)expected_total / secs / 1e6);
    if (v == V_CAS) printf("  (%ld CAS retries)", retries);
    printf("\n");
    fflush(stdout);
    free(want);
    free(ws);
    free(th);
    dm_free(map);
    return ok;
}

static long arg_or_env(int argc, char **argv, int i, const char *env, long dflt) {
    if (argc > i) return atol(argv[i]);
    const char *e = getenv(env);
    return e && *e ? atol(e) : dflt;
}

int main(int argc, char **argv) {
    int threads = (int)arg_or_env(argc, argv, 1, "DM_LU_THREADS", 8);
    long iters = arg_or_env(argc, argv, 2, "DM_LU_ITERS", 1000000);
    long scale = arg_or_env(argc, argv, 3, "DM_LU_SCALE", 1);
    if (threads < 1 || iters < 1 || scale < 1) {
        fprintf(stderr, "usage: lost_updates [threads>=1] [iters>=1] [scale>=1]\n");
        return 2;
    }
    rel_watchdog("lost_updates", 600);
    long small = iters / scale > 0 ? iters / scale : 1;
    printf("lost updates: %d threads; dm_add_i64 %ld increments per thread, entry/CAS %ld (iters/%ld)\n",
           threads, iters, small, scale);
    double t0 = rel_now();
    bool ok = true;
    static const long key_counts[] = {4, 10000};
    for (int kc = 0; kc < 2; kc++) ok &= run_variant(V_ADD, threads, iters, key_counts[kc]);
    for (int kc = 0; kc < 2; kc++) ok &= run_variant(V_ENTRY, threads, small, key_counts[kc]);
    for (int kc = 0; kc < 2; kc++) ok &= run_variant(V_CAS, threads, small, key_counts[kc]);
    printf("lost updates: %s in %.1fs\n", ok && rel_failed() == 0 ? "no update lost" : "UPDATES LOST",
           rel_now() - t0);
    printf("%ld passed, %ld failed\n", rel_passed(), rel_failed());
    return ok && rel_failed() == 0 ? 0 : 1;
}
