/*
 * 18_rwlock_comparison.c: libdashmap against one big reader-writer lock.
 *
 * Seed section "Comparing with RwLock". The same multi-threaded workloads run
 * against
 *   (a) a hash table guarded by a single pthread_rwlock_t (the C equivalent
 *       of RwLock<HashMap>), written below, and
 *   (b) a libdashmap map, where each shard has its own lock.
 * It prints each one's throughput and the ratio. Timings depend on the
 * machine (core count above all) and are only reported; what is checked is
 * that both maps end up with exactly the right contents.
 */
#include "example_util.h"

#include <unistd.h>

enum { THREADS = 4 };
#define KEYS 100000u        /* distinct keys in each workload */
#define MIXED_OPS 400000u   /* operations in the read-mostly workload */

/* ---- (a) one lock around an open-addressing table --------------------- */

/* A minimal map with libdashmap's interface: byte-string keys and values,
 * copied in on insert and out on lookup. Linear probing over a power-of-two
 * array that is sized once for the workload and never grows (which only
 * flatters it), and no removal. */
struct slot {
    uint8_t *key, *val; /* NULL key: empty slot */
    size_t klen, vlen;
    uint64_t hash;
};

struct rw_table {
    pthread_rwlock_t lock;
    struct slot *slots;
    size_t mask, len;
};

static uint64_t mix64(uint64_t z) { /* splitmix64's finaliser */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static uint64_t hash_bytes(const uint8_t *p, size_t n) { /* FNV-1a, mixed */
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3u;
    return mix64(h);
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n) {
    uint8_t *d = malloc(n ? n : 1);
    CHECK(d != NULL, "malloc");
    memcpy(d, p, n);
    return d;
}

static void rw_init(struct rw_table *t, size_t max_keys) {
    size_t cap = 1;
    while (cap < 2 * max_keys) cap <<= 1;
    t->slots = calloc(cap, sizeof *t->slots);
    CHECK(t->slots != NULL, "calloc");
    t->mask = cap - 1;
    t->len = 0;
    CHECK(pthread_rwlock_init(&t->lock, NULL) == 0, "rwlock init");
}

static void rw_destroy(struct rw_table *t) {
    pthread_rwlock_destroy(&t->lock);
    for (size_t i = 0; i <= t->mask; i++) {
        free(t->slots[i].key);
        free(t->slots[i].val);
    }
    free(t->slots);
}

/* The slot holding the key, or the empty slot where it would go. */
static struct slot *rw_find(const struct rw_table *t, uint64_t h,
                            const uint8_t *k, size_t klen) {
    for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
        struct slot *s = &t->slots[i];
        if (s->key == NULL ||
            (s->hash == h && s->klen == klen && memcmp(s->key, k, klen) == 0))
            return s;
    }
}

static void rw_insert(struct rw_table *t, const uint8_t *k, size_t klen,
                      const uint8_t *v, size_t vlen) {
    uint64_t h = hash_bytes(k, klen);
    uint8_t *val = dup_bytes(v, vlen), *key = NULL, *old = NULL;
    pthread_rwlock_wrlock(&t->lock);
    struct slot *s = rw_find(t, h, k, klen);
    if (s->key == NULL) {
        CHECK(t->len < t->mask, "table full");
        key = dup_bytes(k, klen); /* (a real table would copy before locking) */
        *s = (struct slot){.key = key, .klen = klen, .hash = h};
        t->len++;
    }
    old = s->val;
    s->val = val;
    s->vlen = vlen;
    pthread_rwlock_unlock(&t->lock);
    free(old);
}

static bool rw_get(struct rw_table *t, const uint8_t *k, size_t klen,
                   uint8_t *buf, size_t cap, size_t *len) {
    uint64_t h = hash_bytes(k, klen);
    pthread_rwlock_rdlock(&t->lock);
    const struct slot *s = rw_find(t, h, k, klen);
    bool found = s->key != NULL && s->vlen <= cap;
    if (found) {
        memcpy(buf, s->val, s->vlen);
        *len = s->vlen;
    }
    pthread_rwlock_unlock(&t->lock);
    return found;
}

/* ---- the workloads' two operations, on either map ---------------------- */

/* Keys and values are 8-byte encodings of uint64 numbers. */
static void put_u64(struct rw_table *rw, dm_map *dm, uint64_t key, uint64_t value) {
    uint8_t k[8], v[8];
    put_i64(k, (int64_t)key);
    put_i64(v, (int64_t)value);
    if (rw) {
        rw_insert(rw, k, 8, v, 8);
        return;
    }
    dm_status st = dm_insert(dm, k, 8, v, 8);
    CHECK(st == DM_OK || st == DM_REPLACED, "dm_insert: %s", dm_status_str(st));
}

static bool get_u64(struct rw_table *rw, const dm_map *dm, uint64_t key,
                    uint64_t *value) {
    uint8_t k[8], v[8];
    size_t len = 0;
    put_i64(k, (int64_t)key);
    if (rw) {
        if (!rw_get(rw, k, 8, v, 8, &len)) return false;
    } else {
        dm_status st = dm_get_copy(dm, k, 8, v, 8, &len);
        if (st == DM_NOT_FOUND) return false;
        CHECK(st == DM_OK, "dm_get_copy: %s", dm_status_str(st));
    }
    CHECK(len == 8, "8-byte value");
    *value = (uint64_t)get_i64(v);
    return true;
}

/* ---- workloads --------------------------------------------------------- */

/* Every key's value is a function of the key, so the final contents are
 * known exactly however the threads interleave. */
static uint64_t value_for(uint64_t key) { return key * 3 + 1; }

enum workload { INSERT_GET, READ_MOSTLY };

struct job {
    enum workload kind;
    struct rw_table *rw; /* exactly one of rw / dm is set */
    dm_map *dm;
    int id;
    struct start_gate *gate;
    uint64_t misses;
};

static void do_insert(struct job *j, uint64_t k) {
    put_u64(j->rw, j->dm, k, value_for(k));
}

static bool do_get(struct job *j, uint64_t k, uint64_t *v) {
    return get_u64(j->rw, j->dm, k, v);
}

static void *run_job(void *arg) {
    struct job *j = arg;
    uint64_t v, rng = 0x9E3779B97F4A7C15u * (uint64_t)(j->id + 1);
    gate_wait(j->gate);
    if (j->kind == INSERT_GET) {
        /* The seed's loop: each thread inserts its own keys and reads each
         * one back. */
        uint64_t per = KEYS / THREADS;
        for (uint64_t i = 0; i < per; i++) {
            uint64_t k = (uint64_t)j->id * per + i;
            do_insert(j, k);
            CHECK(do_get(j, k, &v) && v == value_for(k), "read back key %" PRIu64, k);
        }
    } else {
        /* 90% lookups, 10% (re)writes, over keys loaded beforehand. */
        for (uint64_t i = 0; i < MIXED_OPS / THREADS; i++) {
            rng = mix64(rng + i);
            uint64_t k = (rng & 0xffffffffu) % KEYS;
            if ((rng >> 32) % 10 == 0)
                do_insert(j, k);
            else if (!do_get(j, k, &v) || v != value_for(k))
                j->misses++;
        }
    }
    return NULL;
}

/* Runs one workload on one map; returns operations per second. */
static double run(enum workload kind, struct rw_table *rw, dm_map *dm) {
    struct start_gate gate = START_GATE_INIT;
    pthread_t t[THREADS];
    struct job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (struct job){.kind = kind, .rw = rw, .dm = dm, .id = i, .gate = &gate};
        start_thread(&t[i], run_job, &jobs[i]);
    }
    double t0 = now_sec();
    gate_open(&gate);
    for (int i = 0; i < THREADS; i++) join_thread(t[i]);
    double secs = now_sec() - t0;
    for (int i = 0; i < THREADS; i++)
        CHECK(jobs[i].misses == 0, "read-mostly: %" PRIu64 " bad reads", jobs[i].misses);
    double ops = kind == INSERT_GET ? 2.0 * KEYS : (double)MIXED_OPS;
    return ops / secs;
}

/* Both maps must hold exactly keys 0..KEYS-1 with value_for(key). */
static void verify(struct rw_table *rw, dm_map *dm) {
    CHECK(rw->len == KEYS, "rwlock table: %zu keys", rw->len);
    CHECK(dm_len(dm) == KEYS, "libdashmap: %zu keys", dm_len(dm));
    for (uint64_t k = 0; k < KEYS; k++) {
        uint64_t a = 0, b = 0;
        CHECK(get_u64(rw, NULL, k, &a) && a == value_for(k), "rwlock table key %" PRIu64, k);
        CHECK(get_u64(NULL, dm, k, &b) && b == value_for(k), "libdashmap key %" PRIu64, k);
    }
}

static void report(const char *name, double rw_ops, double dm_ops) {
    printf("  %-22s %10.2f %12.2f %9.2fx\n", name, rw_ops / 1e6, dm_ops / 1e6,
           dm_ops / rw_ops);
}

int main(void) {
    printf("%d threads on %ld online CPU(s); throughput in million ops/s\n",
           THREADS, sysconf(_SC_NPROCESSORS_ONLN));
    printf("  %-22s %10s %12s %10s\n", "workload", "rwlock", "libdashmap", "ratio");

    /* Both use a fast non-cryptographic hash, copy keys and values in and
     * out, and start with room for every key. (dm_new's default SipHash
     * resists HashDoS at a small cost per operation.) */
    dm_options opts = dm_options_default();
    opts.hasher = DM_HASHER_FAST;
    opts.capacity = KEYS;

    struct rw_table rw;
    dm_map *dm = NULL;
    rw_init(&rw, KEYS);
    EXPECT(dm_new_with_options(&opts, &dm), DM_OK);

    /* 1. insert + get, the seed's workload (maps start empty). */
    double rw1 = run(INSERT_GET, &rw, NULL);
    double dm1 = run(INSERT_GET, NULL, dm);
    verify(&rw, dm);
    report("insert + get", rw1, dm1);

    /* 2. read-mostly, on the maps the first workload filled. */
    double rw2 = run(READ_MOSTLY, &rw, NULL);
    double dm2 = run(READ_MOSTLY, NULL, dm);
    verify(&rw, dm);
    report("90% get / 10% insert", rw2, dm2);

    printf("(ratio > 1: libdashmap is faster; not checked, only reported)\n");
    rw_destroy(&rw);
    dm_free(dm);
    printf("18_rwlock_comparison: OK\n");
    return 0;
}
