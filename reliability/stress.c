/*
 * stress.c: expected-state stress test (libcuckoo stress_checked style) with
 * a uniqueness walk (liburcu style).
 *
 * Map M holds four key spaces:
 *   o<t>:<i>  owned: owner thread t is the only writer; it tracks exactly
 *             what each of its keys must hold (present?, version, length,
 *             TTL?) and checks every status and every value it gets back,
 *             through insert, remove, swap, CAS (right and stale expected),
 *             compare_and_remove, try_insert, get_or_insert, entry_update
 *             (set / remove / in-place rewrite), extend, remove_many,
 *             get_copy, get_many, remove_if, insert_ttl / expire / touch /
 *             ttl_remaining (hour-long TTLs);
 *   c<t>:<i>  counters of owner t (dm_add_i64: exact running totals);
 *   st:<i>    stable: inserted before the threads start, never written;
 *   s:<i>, t:<i>  scratch: written by a scratch thread (t: keys with
 *             1..50 ms TTLs), thinned by dm_retain_cb whose predicate only
 *             ever deletes scratch keys, swept by dm_purge_expired.
 * Meanwhile readers check every value they see is intact (each value
 * encodes its key and version, with a checksum), and two walkers run
 * dm_iter and dm_for_each while everything churns: no key may appear twice
 * in one walk and every stable key exactly once. dm_clear, dm_shrink_to_fit,
 * dm_for_each_mut and dm_retain_cb also run against a second map S with its
 * own writer and reader (dm_clear on M would delete owned keys).
 *
 * At the end every owned key and counter must hold exactly what its owner
 * expects, and dm_len(M) must equal owned + counters + stable + the scratch
 * keys that remain (recounted by a walk after the TTL keys are retained away).
 *
 *   stress [seconds]       (or DM_STRESS_SECONDS; default 15)
 */
#include "rel.h"

#include <pthread.h>
#include <sched.h>

#define OWNERS 4
#define OWNED 512     /* keys per owner */
#define COUNTERS 16   /* counters per owner */
#define STABLE 1000
#define SCRATCH 1024
#define HOUR_MS 3600000u

static dm_map *M, *S;
static atomic_bool stop_flag = false;
static double deadline_s;

/* --- operation counters --------------------------------------------------- */
enum {
    OP_INSERT, OP_REMOVE, OP_SWAP, OP_CAS, OP_CAS_STALE, OP_CAR, OP_TRY_INSERT, OP_GET_OR_INSERT,
    OP_ENTRY, OP_EXTEND, OP_REMOVE_MANY, OP_GET_COPY, OP_GET_MANY, OP_REMOVE_IF, OP_ADD, OP_TTL,
    OP_READ, OP_ITER_WALK, OP_FOREACH_WALK, OP_WALKED, OP_RETAIN, OP_SHRINK, OP_PURGE, OP_STATS,
    OP_SCRATCH, OP_S_WRITE, OP_S_CLEAR, OP_S_MUT, OP_S_READ, NOPS
};
static const char *op_name[NOPS] = {
    "insert", "remove", "swap", "cas", "cas(stale)", "compare_and_remove", "try_insert", "get_or_insert",
    "entry_update", "extend", "remove_many", "get_copy", "get_many", "remove_if", "add_i64", "ttl ops",
    "reads", "iter walks", "for_each walks", "entries walked", "retain_cb(M)", "shrink_to_fit", "purge_expired",
    "stats/len", "scratch writes(M)", "S writes", "S clear/retain/shrink", "S for_each_mut", "S reads"};
static atomic_long op_count[NOPS];
#define COUNT(op) atomic_fetch_add_explicit(&op_count[op], 1, memory_order_relaxed)

/* --- values: version, checksum, padding derived from both ----------------- */
static uint64_t fnv(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static size_t make_value(const char *key, size_t kl, uint64_t version, size_t pad, uint8_t *out) {
    uint64_t h = fnv(key, kl) ^ (version * 0x9E3779B97F4A7C15ULL);
    memcpy(out, &version, 8);
    memcpy(out + 8, &h, 8);
    for (size_t i = 0; i < pad; i++) out[16 + i] = (uint8_t)((h >> ((i % 8) * 8)) ^ i);
    return 16 + pad;
}

/* True when `v` is a value make_value() could have produced for `key`. */
static bool valid_value(const uint8_t *key, size_t kl, const uint8_t *v, size_t vl) {
    if (vl < 16) return false;
    uint64_t version, h;
    memcpy(&version, v, 8);
    memcpy(&h, v + 8, 8);
    if (h != (fnv(key, kl) ^ (version * 0x9E3779B97F4A7C15ULL))) return false;
    for (size_t i = 0; i < vl - 16; i++)
        if (v[16 + i] != (uint8_t)((h >> ((i % 8) * 8)) ^ i)) return false;
    return true;
}

static bool has_prefix(const uint8_t *k, size_t kl, const char *p) {
    size_t n = strlen(p);
    return kl >= n && memcmp(k, p, n) == 0;
}

/* Checks a value seen by a reader or walker, by key space. */
static void check_seen(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, const char *who) {
    if (kl > 0 && k[0] == 'c') {
        REL_CHECK(vl == 8, "%s: counter %.*s has %zu bytes", who, (int)kl, (const char *)k, vl);
    } else {
        REL_CHECK(valid_value(k, kl, v, vl), "%s: corrupt value for %.*s (%zu bytes)", who, (int)kl,
                  (const char *)k, vl);
    }
}

/* --- owners ---------------------------------------------------------------- */
typedef struct {
    bool present, ttl;
    uint64_t version;
    uint16_t pad;
} expect_t;

typedef struct {
    int id;
    uint64_t rng;
    expect_t keys[OWNED];
    int64_t counters[COUNTERS];
    uint64_t next_version;
} owner_t;

static size_t own_key(int t, int i, char *out) { return (size_t)sprintf(out, "o%02d:%05d", t, i); }
static size_t ctr_key(int t, int i, char *out) { return (size_t)sprintf(out, "c%02d:%03d", t, i); }

static size_t expected_value(owner_t *o, int i, uint8_t *out) {
    char k[32];
    size_t kl = own_key(o->id, i, k);
    return make_value(k, kl, o->keys[i].version, o->keys[i].pad, out);
}

typedef struct {
    owner_t *o;
    int i;
    int action; /* 0 set new version, 1 remove, 2 rewrite in place, 3 nothing */
    uint64_t version;
    uint16_t pad;
    bool ok;
} entry_ctx;

static void owner_entry(dm_entry *e, void *arg) {
    entry_ctx *c = arg;
    expect_t *x = &c->o->keys[c->i];
    char k[32];
    size_t kl = own_key(c->o->id, c->i, k);
    c->ok = dm_entry_occupied(e) == x->present;
    size_t len = 0;
    const uint8_t *cur = dm_entry_value(e, &len);
    if (x->present) {
        uint8_t want[16 + 256];
        size_t wl = expected_value(c->o, c->i, want);
        c->ok &= cur != NULL && len == wl && memcmp(cur, want, wl) == 0;
    } else {
        c->ok &= cur == NULL;
    }
    uint8_t nv[16 + 256];
    switch (c->action) {
    case 0: {
        size_t nl = make_value(k, kl, c->version, c->pad, nv);
        c->ok &= dm_entry_set(e, nv, nl) == DM_OK;
        break;
    }
    case 1:
        c->ok &= dm_entry_remove(e) == (x->present ? DM_OK : DM_NOT_FOUND);
        break;
    case 2:
        if (x->present) {
            uint8_t *p = dm_entry_value_mut(e, &len);
            c->ok &= p != NULL && len == (size_t)16 + x->pad;
            if (p && len == (size_t)16 + x->pad) make_value(k, kl, c->version, x->pad, p);
        }
        break;
    default:
        break;
    }
}

typedef struct {
    const uint8_t *want;
    size_t wl;
    bool matched;
} pred_ctx;

static bool owner_pred(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, void *arg) {
    (void)k, (void)kl;
    pred_ctx *c = arg;
    c->matched = vl == c->wl && memcmp(v, c->want, vl) == 0;
    return c->matched;
}

static void owner_step(owner_t *o) {
    char k[32];
    uint8_t val[16 + 256], buf[16 + 256], want[16 + 256];
    int i = (int)(rel_rand(&o->rng) % OWNED);
    size_t kl = own_key(o->id, i, k);
    const uint8_t *K = (const uint8_t *)k;
    expect_t *x = &o->keys[i];
    uint64_t nver = o->next_version++;
    uint16_t npad = (uint16_t)(rel_rand(&o->rng) % 48);
    size_t nl = make_value(k, kl, nver, npad, val);
    size_t wl = x->present ? expected_value(o, i, want) : 0;
    size_t len = 0;
    dm_status st;
    int op = (int)(rel_rand(&o->rng) % 17);
    switch (op) {
    case 0: /* insert: a whole new entry, TTL dropped */
        st = dm_insert(M, K, kl, val, nl);
        REL_CHECK(st == (x->present ? DM_REPLACED : DM_OK), "insert %s: %s", k, rel_status(st));
        *x = (expect_t){true, false, nver, npad};
        COUNT(OP_INSERT);
        break;
    case 1: /* remove with the value copied out */
        st = dm_remove(M, K, kl, buf, sizeof buf, &len);
        if (x->present)
            REL_CHECK(st == DM_OK && len == wl && memcmp(buf, want, wl) == 0, "remove %s: %s", k, rel_status(st));
        else
            REL_CHECK(st == DM_NOT_FOUND, "remove absent %s: %s", k, rel_status(st));
        x->present = false;
        COUNT(OP_REMOVE);
        break;
    case 2: /* swap: old value back, TTL dropped */
        st = dm_swap(M, K, kl, val, nl, buf, sizeof buf, &len);
        if (x->present)
            REL_CHECK(st == DM_REPLACED && len == wl && memcmp(buf, want, wl) == 0, "swap %s: %s", k, rel_status(st));
        else
            REL_CHECK(st == DM_OK, "swap absent %s: %s", k, rel_status(st));
        *x = (expect_t){true, false, nver, npad};
        COUNT(OP_SWAP);
        break;
    case 3: /* CAS with the right expected value: keeps the TTL */
        st = dm_compare_and_swap(M, K, kl, want, wl, val, nl);
        if (x->present) {
            REL_CHECK(st == DM_OK, "cas %s: %s", k, rel_status(st));
            x->version = nver;
            x->pad = npad;
        } else {
            REL_CHECK(st == DM_NOT_FOUND, "cas absent %s: %s", k, rel_status(st));
        }
        COUNT(OP_CAS);
        break;
    case 4: { /* CAS with a stale expected value */
        uint8_t stale[16 + 256];
        size_t sl = make_value(k, kl, nver + 1000000, npad, stale);
        st = dm_compare_and_swap(M, K, kl, stale, sl, val, nl);
        REL_CHECK(st == (x->present ? DM_MISMATCH : DM_NOT_FOUND), "stale cas %s: %s", k, rel_status(st));
        COUNT(OP_CAS_STALE);
        break;
    }
    case 5:
        st = dm_compare_and_remove(M, K, kl, want, wl);
        REL_CHECK(st == (x->present ? DM_OK : DM_NOT_FOUND), "compare_and_remove %s: %s", k, rel_status(st));
        x->present = false;
        COUNT(OP_CAR);
        break;
    case 6:
        st = dm_try_insert(M, K, kl, val, nl);
        REL_CHECK(st == (x->present ? DM_EXISTS : DM_OK), "try_insert %s: %s", k, rel_status(st));
        if (!x->present) *x = (expect_t){true, false, nver, npad};
        COUNT(OP_TRY_INSERT);
        break;
    case 7:
        st = dm_get_or_insert(M, K, kl, val, nl, buf, sizeof buf, &len);
        if (x->present) {
            REL_CHECK(st == DM_EXISTS && len == wl && memcmp(buf, want, wl) == 0, "get_or_insert %s: %s", k,
                      rel_status(st));
        } else {
            REL_CHECK(st == DM_OK && len == nl, "get_or_insert absent %s: %s", k, rel_status(st));
            *x = (expect_t){true, false, nver, npad};
        }
        COUNT(OP_GET_OR_INSERT);
        break;
    case 8: { /* entry update: set / remove / rewrite in place / nothing */
        entry_ctx c = {o, i, (int)(rel_rand(&o->rng) % 4), nver, npad, false};
        st = dm_entry_update(M, K, kl, owner_entry, &c);
        REL_CHECK(st == DM_OK && c.ok, "entry_update %s action %d: %s", k, c.action, rel_status(st));
        if (c.action == 0) {
            if (x->present) { /* an existing entry keeps its TTL */
                x->version = nver;
                x->pad = npad;
            } else {
                *x = (expect_t){true, false, nver, npad};
            }
        } else if (c.action == 1) {
            x->present = false;
        } else if (c.action == 2 && x->present) {
            x->version = nver;
        }
        COUNT(OP_ENTRY);
        break;
    }
    case 9: { /* extend 4 distinct own keys: whole new entries */
        char ks[4][32];
        uint8_t vs[4][16 + 64];
        dm_slice kk[4], vv[4];
        int idx[4];
        for (int j = 0; j < 4; j++) {
            idx[j] = (i + j * 97) % OWNED;
            size_t l = own_key(o->id, idx[j], ks[j]);
            kk[j] = (dm_slice){(const uint8_t *)ks[j], l};
            vv[j] = (dm_slice){vs[j], make_value(ks[j], l, nver, (size_t)j * 3, vs[j])};
        }
        st = dm_extend(M, kk, vv, 4);
        REL_CHECK(st == DM_OK, "extend: %s", rel_status(st));
        for (int j = 0; j < 4; j++) o->keys[idx[j]] = (expect_t){true, false, nver, (uint16_t)(j * 3)};
        COUNT(OP_EXTEND);
        break;
    }
    case 10: { /* remove_many 4 distinct own keys */
        char ks[4][32];
        dm_slice kk[4];
        size_t present = 0, removed = 0;
        for (int j = 0; j < 4; j++) {
            int ix = (i + j * 131) % OWNED;
            kk[j] = (dm_slice){(const uint8_t *)ks[j], own_key(o->id, ix, ks[j])};
            present += o->keys[ix].present;
            o->keys[ix].present = false;
        }
        st = dm_remove_many(M, kk, 4, &removed);
        REL_CHECK(st == DM_OK && removed == present, "remove_many: %s, removed %zu of %zu", rel_status(st), removed,
                  present);
        COUNT(OP_REMOVE_MANY);
        break;
    }
    case 11:
        st = dm_get_copy(M, K, kl, buf, sizeof buf, &len);
        if (x->present)
            REL_CHECK(st == DM_OK && len == wl && memcmp(buf, want, wl) == 0, "get_copy %s: %s", k, rel_status(st));
        else
            REL_CHECK(st == DM_NOT_FOUND, "get_copy absent %s: %s", k, rel_status(st));
        COUNT(OP_GET_COPY);
        break;
    case 12: { /* get_many 3 keys (one of another owner: only its integrity is known) */
        char ks[3][32];
        dm_slice kk[3];
        size_t lens[3], used = 0;
        uint8_t out[3 * (16 + 256)];
        int ix[2] = {i, (i + 7) % OWNED};
        for (int j = 0; j < 2; j++) kk[j] = (dm_slice){(const uint8_t *)ks[j], own_key(o->id, ix[j], ks[j])};
        kk[2] = (dm_slice){(const uint8_t *)ks[2], own_key((o->id + 1) % OWNERS, i, ks[2])};
        st = dm_get_many(M, kk, 3, out, sizeof out, lens, &used);
        REL_CHECK(st == DM_OK, "get_many: %s", rel_status(st));
        size_t at = 0;
        for (int j = 0; j < 3 && st == DM_OK; j++) {
            if (j < 2) {
                expect_t *y = &o->keys[ix[j]];
                if (!y->present) {
                    REL_CHECK(lens[j] == SIZE_MAX, "get_many absent key has length %zu", lens[j]);
                    continue;
                }
                size_t yl = expected_value(o, ix[j], want);
                REL_CHECK(lens[j] == yl && memcmp(out + at, want, yl) == 0, "get_many value %d", j);
            } else if (lens[j] != SIZE_MAX) {
                check_seen(kk[2].ptr, kk[2].len, out + at, lens[j], "get_many");
            }
            if (lens[j] != SIZE_MAX) at += lens[j];
        }
        REL_CHECK(st != DM_OK || at == used, "get_many used %zu, lengths add up to %zu", used, at);
        COUNT(OP_GET_MANY);
        break;
    }
    case 13: { /* remove_if with an exact-value predicate */
        pred_ctx c = {want, wl, false};
        st = dm_remove_if(M, K, kl, owner_pred, &c);
        REL_CHECK(st == (x->present ? DM_OK : DM_NOT_FOUND), "remove_if %s: %s", k, rel_status(st));
        x->present = false;
        COUNT(OP_REMOVE_IF);
        break;
    }
    case 14: { /* counters */
        int ci = (int)(rel_rand(&o->rng) % COUNTERS);
        char ck[32];
        size_t cl = ctr_key(o->id, ci, ck);
        int64_t delta = (int64_t)(rel_rand(&o->rng) % 2001) - 1000, result = 0;
        st = dm_add_i64(M, (const uint8_t *)ck, cl, delta, &result);
        o->counters[ci] += delta;
        REL_CHECK(st == DM_OK && result == o->counters[ci], "add_i64 %s: %s, %" PRId64 " want %" PRId64, ck,
                  rel_status(st), result, o->counters[ci]);
        COUNT(OP_ADD);
        break;
    }
    default: { /* TTL: hour-long deadlines never expire during the run */
        uint64_t ms = 0;
        switch (rel_rand(&o->rng) % 4) {
        case 0:
            st = dm_insert_ttl(M, K, kl, val, nl, HOUR_MS);
            REL_CHECK(st == (x->present ? DM_REPLACED : DM_OK), "insert_ttl %s: %s", k, rel_status(st));
            *x = (expect_t){true, true, nver, npad};
            break;
        case 1:
            st = dm_expire(M, K, kl, 0);
            REL_CHECK(st == (x->present ? DM_OK : DM_NOT_FOUND), "expire(0) %s: %s", k, rel_status(st));
            x->ttl = false;
            break;
        case 2:
            st = dm_touch(M, K, kl, HOUR_MS);
            REL_CHECK(st == (x->present ? DM_OK : DM_NOT_FOUND), "touch %s: %s", k, rel_status(st));
            x->ttl = x->present;
            break;
        default:
            st = dm_ttl_remaining(M, K, kl, &ms);
            if (!x->present)
                REL_CHECK(st == DM_NOT_FOUND, "ttl_remaining absent %s: %s", k, rel_status(st));
            else if (x->ttl)
                REL_CHECK(st == DM_OK && ms > 0 && ms <= HOUR_MS, "ttl_remaining %s: %s %" PRIu64, k,
                          rel_status(st), ms);
            else
                REL_CHECK(st == DM_OK && ms == DM_TTL_NONE, "ttl_remaining %s (no TTL): %s", k, rel_status(st));
        }
        COUNT(OP_TTL);
        break;
    }
    }
}

static void *owner_main(void *arg) {
    owner_t *o = arg;
    long n = 0;
    while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
        owner_step(o);
        if ((++n & 255) == 0 && rel_now() > deadline_s) break;
    }
    return NULL;
}

/* --- readers ------------------------------------------------------------- */
static void read_cb(const uint8_t *v, size_t vl, void *ctx) {
    const dm_slice *k = ctx;
    check_seen(k->ptr, k->len, v, vl, "get_with");
}

static size_t random_key(uint64_t *rng, char *k) {
    uint64_t r = rel_rand(rng);
    switch (r % 5) {
    case 0: return own_key((int)(r >> 8) % OWNERS, (int)((r >> 16) % OWNED), k);
    case 1: return ctr_key((int)(r >> 8) % OWNERS, (int)((r >> 16) % COUNTERS), k);
    case 2: return (size_t)sprintf(k, "st:%05d", (int)((r >> 16) % STABLE));
    case 3: return (size_t)sprintf(k, "s:%05d", (int)((r >> 16) % SCRATCH));
    default: return (size_t)sprintf(k, "t:%05d", (int)((r >> 16) % SCRATCH));
    }
}

static void *reader_main(void *arg) {
    uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ULL + 1;
    char k[32];
    uint8_t buf[512];
    long n = 0;
    while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
        size_t kl = random_key(&rng, k), len = 0;
        const uint8_t *K = (const uint8_t *)k;
        bool stable = k[0] == 's' && k[1] == 't';
        switch (rel_rand(&rng) % 3) {
        case 0: {
            dm_status st = dm_get_copy(M, K, kl, buf, sizeof buf, &len);
            REL_CHECK(st == DM_OK || (st == DM_NOT_FOUND && !stable), "get_copy %s: %s", k, rel_status(st));
            if (st == DM_OK) check_seen(K, kl, buf, len, "get_copy");
            break;
        }
        case 1: {
            dm_slice key = {K, kl};
            dm_status st = dm_get_with(M, K, kl, read_cb, &key);
            REL_CHECK(st == DM_OK || (st == DM_NOT_FOUND && !stable), "get_with %s: %s", k, rel_status(st));
            break;
        }
        default:
            if (stable) REL_CHECK(dm_contains_key(M, K, kl), "stable key %s missing", k);
            else (void)dm_contains_key(M, K, kl);
        }
        COUNT(OP_READ);
        if ((n & 63) == 63) sched_yield(); /* leave CPU to the owners on small machines */
        if ((++n & 1023) == 0 && rel_now() > deadline_s) break;
    }
    return NULL;
}

/* --- walkers: uniqueness ---------------------------------------------------- */
#define SEEN_SLOTS (1 << 15)
typedef struct {
    uint64_t slot[SEEN_SLOTS];
    long entries, stable, dups;
} seen_t;

static void seen_reset(seen_t *s) {
    memset(s->slot, 0, sizeof s->slot);
    s->entries = s->stable = s->dups = 0;
}

static void seen_add(seen_t *s, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, const char *who) {
    uint64_t h = fnv(k, kl) | 1;
    size_t i = (size_t)h & (SEEN_SLOTS - 1);
    while (s->slot[i] != 0) {
        if (s->slot[i] == h) {
            s->dups++;
            REL_CHECK(false, "%s returned %.*s twice in one walk", who, (int)kl, (const char *)k);
            return;
        }
        i = (i + 1) & (SEEN_SLOTS - 1);
    }
    s->slot[i] = h;
    s->entries++;
    if (has_prefix(k, kl, "st:")) s->stable++;
    check_seen(k, kl, v, vl, who);
}

static void walk_done(seen_t *s, const char *who) {
    REL_CHECK(s->stable == STABLE, "%s saw %ld stable keys, want each of %d exactly once", who, s->stable, STABLE);
    atomic_fetch_add(&op_count[OP_WALKED], s->entries);
}

static void *iter_walker(void *arg) {
    (void)arg;
    seen_t *s = malloc(sizeof *s);
    while (!atomic_load(&stop_flag) && rel_now() < deadline_s) {
        seen_reset(s);
        dm_iter *it = dm_iter_new(M);
        REL_CHECK(it != NULL, "dm_iter_new");
        const uint8_t *k, *v;
        size_t kl, vl;
        dm_status st;
        while ((st = dm_iter_next(it, &k, &kl, &v, &vl)) == DM_OK) seen_add(s, k, kl, v, vl, "dm_iter");
        REL_CHECK(st == DM_NOT_FOUND, "dm_iter_next: %s", rel_status(st));
        dm_iter_free(it);
        walk_done(s, "dm_iter");
        COUNT(OP_ITER_WALK);
    }
    free(s);
    return NULL;
}

static bool foreach_cb(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, void *ctx) {
    seen_add(ctx, k, kl, v, vl, "dm_for_each");
    return true;
}

static void *foreach_walker(void *arg) {
    (void)arg;
    seen_t *s = malloc(sizeof *s);
    while (!atomic_load(&stop_flag) && rel_now() < deadline_s) {
        seen_reset(s);
        dm_status st = dm_for_each(M, foreach_cb, s);
        REL_CHECK(st == DM_OK, "dm_for_each: %s", rel_status(st));
        walk_done(s, "dm_for_each");
        COUNT(OP_FOREACH_WALK);
    }
    free(s);
    return NULL;
}

/* --- scratch on M, and maintenance that may only delete scratch keys -------- */
static void *scratch_main(void *arg) {
    (void)arg;
    uint64_t rng = 77;
    char k[32];
    uint8_t val[16 + 64], buf[128];
    long n = 0;
    while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
        uint64_t r = rel_rand(&rng);
        bool ttl = r & 1;
        size_t kl = (size_t)sprintf(k, ttl ? "t:%05d" : "s:%05d", (int)((r >> 8) % SCRATCH)), len;
        size_t vl = make_value(k, kl, r >> 20, (size_t)(r >> 40) % 32, val);
        const uint8_t *K = (const uint8_t *)k;
        dm_status st;
        switch ((r >> 4) % 4) {
        case 0:
            st = ttl ? dm_insert_ttl(M, K, kl, val, vl, 1 + (r >> 50) % 50) : dm_insert(M, K, kl, val, vl);
            REL_CHECK(st == DM_OK || st == DM_REPLACED, "scratch insert: %s", rel_status(st));
            break;
        case 1:
            st = dm_remove(M, K, kl, NULL, 0, NULL);
            REL_CHECK(st == DM_OK || st == DM_NOT_FOUND, "scratch remove: %s", rel_status(st));
            break;
        case 2:
            st = dm_get_or_insert(M, K, kl, val, vl, buf, sizeof buf, &len);
            REL_CHECK(st == DM_OK || st == DM_EXISTS, "scratch get_or_insert: %s", rel_status(st));
            if (st == DM_EXISTS) check_seen(K, kl, buf, len, "scratch get_or_insert");
            break;
        default:
            st = dm_swap(M, K, kl, val, vl, buf, sizeof buf, &len);
            REL_CHECK(st == DM_OK || st == DM_REPLACED, "scratch swap: %s", rel_status(st));
            if (st == DM_REPLACED) check_seen(K, kl, buf, len, "scratch swap");
        }
        COUNT(OP_SCRATCH);
        if ((n & 63) == 63) sched_yield(); /* leave CPU to the owners on small machines */
        if ((++n & 1023) == 0 && rel_now() > deadline_s) break;
    }
    return NULL;
}

typedef struct {
    unsigned round;
    long removed;
} retain_ctx;

/* Deletes only scratch keys: about a third of them each round. */
static bool retain_scratch(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, void *arg) {
    retain_ctx *c = arg;
    check_seen(k, kl, v, vl, "dm_retain_cb");
    if (!(has_prefix(k, kl, "s:") || has_prefix(k, kl, "t:"))) return true;
    bool keep = (fnv(k, kl) + c->round) % 3 != 0;
    c->removed += !keep;
    return keep;
}

static void *maintenance_main(void *arg) {
    (void)arg;
    unsigned round = 0;
    while (!atomic_load(&stop_flag) && rel_now() < deadline_s) {
        retain_ctx c = {round++, 0};
        dm_status st;
        switch (round % 4) {
        case 0:
            st = dm_retain_cb(M, retain_scratch, &c);
            REL_CHECK(st == DM_OK, "retain_cb: %s", rel_status(st));
            COUNT(OP_RETAIN);
            break;
        case 1:
            REL_CHECK_EQ(dm_shrink_to_fit(M), DM_OK, "shrink_to_fit");
            COUNT(OP_SHRINK);
            break;
        case 2: {
            size_t removed = 0;
            REL_CHECK_EQ(dm_purge_expired(M, &removed), DM_OK, "purge_expired");
            COUNT(OP_PURGE);
            break;
        }
        default: {
            dm_stats s;
            REL_CHECK_EQ(dm_stats_get(M, &s), DM_OK, "stats_get");
            REL_CHECK(s.len >= STABLE && s.min_shard_len <= s.max_shard_len && s.capacity >= s.max_shard_len,
                      "stats: len %zu min %zu max %zu cap %zu", s.len, s.min_shard_len, s.max_shard_len, s.capacity);
            REL_CHECK(dm_len(M) >= STABLE, "dm_len below the stable keys");
            size_t l = 0;
            REL_CHECK_EQ(dm_shard_len(M, round % dm_shard_count(M), &l), DM_OK, "shard_len");
            COUNT(OP_STATS);
        }
        }
        usleep(2000);
    }
    return NULL;
}

/* --- map S: dm_clear, retain, shrink and for_each_mut against a writer ----- */
static void *s_writer(void *arg) {
    (void)arg;
    uint64_t rng = 99;
    char k[32];
    uint8_t val[16 + 64];
    long n = 0;
    while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
        uint64_t r = rel_rand(&rng);
        size_t kl = (size_t)sprintf(k, "x:%05d", (int)(r % 4096));
        size_t vl = make_value(k, kl, r >> 16, (size_t)(r >> 40) % 40, val);
        dm_status st;
        if ((r >> 60) < 10) {
            st = dm_insert(S, (const uint8_t *)k, kl, val, vl);
            REL_CHECK(st == DM_OK || st == DM_REPLACED, "S insert: %s", rel_status(st));
        } else if ((r >> 60) < 14) {
            st = dm_remove(S, (const uint8_t *)k, kl, NULL, 0, NULL);
            REL_CHECK(st == DM_OK || st == DM_NOT_FOUND, "S remove: %s", rel_status(st));
        } else {
            dm_slice kk[1] = {{(const uint8_t *)k, kl}}, vv[1] = {{val, vl}};
            REL_CHECK_EQ(dm_extend(S, kk, vv, 1), DM_OK, "S extend");
        }
        COUNT(OP_S_WRITE);
        if ((n & 63) == 63) sched_yield(); /* leave CPU to the owners on small machines */
        if ((++n & 1023) == 0 && rel_now() > deadline_s) break;
    }
    return NULL;
}

static bool s_rewrite(const uint8_t *k, size_t kl, uint8_t *v, size_t vl, void *arg) {
    uint64_t *ver = arg;
    REL_CHECK(valid_value(k, kl, v, vl), "S for_each_mut: corrupt value");
    if (vl >= 16) make_value((const char *)k, kl, ++*ver, vl - 16, v); /* same length, still valid */
    return true;
}

static bool s_retain(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, void *arg) {
    (void)arg;
    REL_CHECK(valid_value(k, kl, v, vl), "S retain: corrupt value");
    return fnv(k, kl) % 2 == 0;
}

static void *s_maintenance(void *arg) {
    (void)arg;
    uint64_t ver = 1ULL << 40;
    unsigned round = 0;
    while (!atomic_load(&stop_flag) && rel_now() < deadline_s) {
        switch (round++ % 4) {
        case 0: REL_CHECK_EQ(dm_clear(S), DM_OK, "S clear"); COUNT(OP_S_CLEAR); break;
        case 1: REL_CHECK_EQ(dm_retain_cb(S, s_retain, NULL), DM_OK, "S retain"); COUNT(OP_S_CLEAR); break;
        case 2: REL_CHECK_EQ(dm_shrink_to_fit(S), DM_OK, "S shrink"); COUNT(OP_S_CLEAR); break;
        default: REL_CHECK_EQ(dm_for_each_mut(S, s_rewrite, &ver), DM_OK, "S for_each_mut"); COUNT(OP_S_MUT);
        }
        usleep(1000);
    }
    return NULL;
}

static void *s_reader(void *arg) {
    (void)arg;
    uint64_t rng = 1234;
    char k[32];
    uint8_t buf[128];
    long n = 0;
    seen_t *s = malloc(sizeof *s);
    while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
        uint64_t r = rel_rand(&rng);
        if (r % 512 == 0) { /* a uniqueness walk over S while it is cleared */
            seen_reset(s);
            dm_iter *it = dm_iter_new(S);
            const uint8_t *kk, *vv;
            size_t kl, vl;
            while (it && dm_iter_next(it, &kk, &kl, &vv, &vl) == DM_OK) seen_add(s, kk, kl, vv, vl, "S iter");
            dm_iter_free(it);
        }
        size_t kl = (size_t)sprintf(k, "x:%05d", (int)(r % 4096)), len = 0;
        dm_status st = dm_get_copy(S, (const uint8_t *)k, kl, buf, sizeof buf, &len);
        REL_CHECK(st == DM_OK || st == DM_NOT_FOUND, "S get_copy: %s", rel_status(st));
        if (st == DM_OK) check_seen((const uint8_t *)k, kl, buf, len, "S get_copy");
        COUNT(OP_S_READ);
        if ((n & 63) == 63) sched_yield(); /* leave CPU to the owners on small machines */
        if ((++n & 1023) == 0 && rel_now() > deadline_s) break;
    }
    free(s);
    return NULL;
}

/* --- final verification ----------------------------------------------------- */
static bool drop_ttl_scratch(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, void *arg) {
    (void)v, (void)vl, (void)arg;
    return !has_prefix(k, kl, "t:");
}

static long verify(owner_t *owners) {
    long owned_present = 0, counters_present = 0, bad = 0;
    uint8_t buf[16 + 256], want[16 + 256];
    for (int t = 0; t < OWNERS; t++) {
        owner_t *o = &owners[t];
        for (int i = 0; i < OWNED; i++) {
            char k[32];
            size_t kl = own_key(t, i, k), len = 0;
            dm_status st = dm_get_copy(M, (const uint8_t *)k, kl, buf, sizeof buf, &len);
            expect_t *x = &o->keys[i];
            if (x->present) {
                size_t wl = expected_value(o, i, want);
                bad += !REL_CHECK(st == DM_OK && len == wl && memcmp(buf, want, wl) == 0,
                                  "final: %s holds the wrong value (%s)", k, rel_status(st));
                uint64_t ms = 0;
                st = dm_ttl_remaining(M, (const uint8_t *)k, kl, &ms);
                bad += !REL_CHECK(st == DM_OK && (x->ttl ? ms <= HOUR_MS : ms == DM_TTL_NONE),
                                  "final: %s TTL %" PRIu64 " (expected %s)", k, ms, x->ttl ? "one" : "none");
                owned_present++;
            } else {
                bad += !REL_CHECK(st == DM_NOT_FOUND, "final: %s should be absent (%s)", k, rel_status(st));
            }
        }
        for (int i = 0; i < COUNTERS; i++) {
            char k[32];
            size_t kl = ctr_key(t, i, k), len = 0;
            int64_t v = 0;
            dm_status st = dm_get_copy(M, (const uint8_t *)k, kl, (uint8_t *)&v, 8, &len);
            if (st == DM_OK) counters_present++;
            bad += !REL_CHECK((st == DM_OK && v == o->counters[i]) || (st == DM_NOT_FOUND && o->counters[i] == 0),
                              "final: counter %s = %" PRId64 " (%s), want %" PRId64, k, v, rel_status(st),
                              o->counters[i]);
        }
    }
    /* Scratch: drop the TTL keys (their expiry races any count), recount the rest. */
    REL_CHECK_EQ(dm_retain_cb(M, drop_ttl_scratch, NULL), DM_OK, "final retain");
    long scratch = 0, stable = 0, total = 0;
    dm_iter *it = dm_iter_new(M);
    const uint8_t *k, *v;
    size_t kl, vl;
    while (dm_iter_next(it, &k, &kl, &v, &vl) == DM_OK) {
        total++;
        scratch += has_prefix(k, kl, "s:");
        stable += has_prefix(k, kl, "st:");
        bad += !REL_CHECK(!has_prefix(k, kl, "t:"), "final: TTL scratch key left");
    }
    dm_iter_free(it);
    long want_len = owned_present + counters_present + STABLE + scratch;
    bad += !REL_CHECK(stable == STABLE, "final: %ld stable keys", stable);
    bad += !REL_CHECK((long)dm_len(M) == want_len && total == want_len,
                      "final: dm_len %zu, walk %ld, want %ld = %ld owned + %ld counters + %d stable + %ld scratch",
                      dm_len(M), total, want_len, owned_present, counters_present, STABLE, scratch);
    printf("stress: final M: %zu entries = %ld owned + %ld counters + %d stable + %ld scratch (exact)\n", dm_len(M),
           owned_present, counters_present, STABLE, scratch);
    /* S: no TTLs, so its length equals a walk. */
    long s_total = 0;
    it = dm_iter_new(S);
    while (dm_iter_next(it, &k, &kl, &v, &vl) == DM_OK) s_total++;
    dm_iter_free(it);
    bad += !REL_CHECK((long)dm_len(S) == s_total, "final: dm_len(S) %zu, walk %ld", dm_len(S), s_total);
    return bad;
}

int main(int argc, char **argv) {
    double secs = rel_seconds_arg(argc, argv, 1, "DM_STRESS_SECONDS", 15);
    if (secs <= 0) {
        fprintf(stderr, "usage: stress [seconds > 0]\n");
        return 2;
    }
    rel_watchdog("stress", (unsigned)(secs * 3) + 300);
    dm_options opts = dm_options_default();
    opts.shards = 16;
    if (dm_new_with_options(&opts, &M) != DM_OK || !(S = dm_with_shards(8))) return 1;
    for (int i = 0; i < STABLE; i++) {
        char k[32];
        uint8_t val[16 + 64];
        size_t kl = (size_t)sprintf(k, "st:%05d", i);
        if (dm_insert(M, (const uint8_t *)k, kl, val, make_value(k, kl, 7, (size_t)i % 50, val)) != DM_OK) return 1;
    }
    owner_t *owners = calloc(OWNERS, sizeof *owners);
    for (int t = 0; t < OWNERS; t++) {
        owners[t].id = t;
        owners[t].rng = 0x1234567ULL * (uint64_t)(t + 1);
        owners[t].next_version = 1;
    }
    printf("stress: %.0f s, %d owners x %d keys (+%d counters each), %d stable keys, scratch on M and on S\n", secs,
           OWNERS, OWNED, COUNTERS, STABLE);
    fflush(stdout);
    deadline_s = rel_now() + secs;
    pthread_t th[OWNERS + 10];
    int n = 0;
    for (int t = 0; t < OWNERS; t++) pthread_create(&th[n++], NULL, owner_main, &owners[t]);
    pthread_create(&th[n++], NULL, reader_main, (void *)1);
    pthread_create(&th[n++], NULL, reader_main, (void *)2);
    pthread_create(&th[n++], NULL, iter_walker, NULL);
    pthread_create(&th[n++], NULL, foreach_walker, NULL);
    pthread_create(&th[n++], NULL, scratch_main, NULL);
    pthread_create(&th[n++], NULL, maintenance_main, NULL);
    pthread_create(&th[n++], NULL, s_writer, NULL);
    pthread_create(&th[n++], NULL, s_maintenance, NULL);
    pthread_create(&th[n++], NULL, s_reader, NULL);
    while (rel_now() < deadline_s && rel_failed() == 0) usleep(50000);
    atomic_store(&stop_flag, true);
    for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
    double elapsed = secs - (deadline_s - rel_now());

    long bad = verify(owners);
    long total_ops = 0;
    printf("stress: operations by kind:\n");
    for (int i = 0; i < NOPS; i++) {
        long c = atomic_load(&op_count[i]);
        if (i != OP_WALKED) total_ops += c;
        printf("  %-22s %12ld\n", op_name[i], c);
    }
    printf("stress: %ld operations in %.1f s (%.0f ops/s), %ld checks, %ld failed\n", total_ops, elapsed,
           (double)total_ops / elapsed, rel_passed() + rel_failed(), rel_failed());
    dm_free(M);
    dm_free(S);
    free(owners);
    printf("%ld passed, %ld failed\n", rel_passed(), rel_failed());
    return rel_failed() == 0 && bad == 0 ? 0 : 1;
}
