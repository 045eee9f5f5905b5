/*
 * bad_input_matrix.c: every dm_ function x every kind of bad input.
 *
 * Kinds: NULL map, NULL pointer with a non-zero length, a length over
 * PTRDIFF_MAX, NULL callback, NULL out-pointer, out-of-range values (shard
 * index, shard count, hasher, TTL 0 for dm_touch, counters that are not 8
 * bytes, array counts too large to exist), and combinations that test the
 * documented order: NULL errors before DM_ERR_INVALID, both before
 * DM_ERR_REENTRANT. Functions that return a plain value are checked against
 * their documented value for bad input (0, false, NULL, SIZE_MAX, "unknown
 * status"); void functions (dm_free, dm_iter_free, dm_bytes_free) must be
 * no-ops for NULL.
 *
 * Each case checks the status, that no out-pointer was written (sentinels),
 * and that the map is unchanged afterwards (length, entries, values, byte
 * totals, a cursor's position). The whole table runs four times: at top
 * level, and inside a dm_get_with, a dm_entry_update and a dm_for_each
 * callback on the same map, where argument errors must still win over
 * DM_ERR_REENTRANT. The dm_entry_* functions get their own table inside an
 * entry callback. Prints "bad input matrix: N cases, N passed".
 */
#include "rel.h"

#include <limits.h>

#define BIG ((size_t)PTRDIFF_MAX + 1)
#define SENT ((size_t)0xDEADBEEF0BADF00DULL)

static const uint8_t K[] = "key";
static const uint8_t V[] = "val";
static const uint8_t CK[] = "ctr";
#define KL 3
#define VL 3

static dm_map *M;  /* the map under test (real-time clock) */
static dm_iter *IT; /* a cursor on M, one entry in */
static const char *phase = "top level";
static bool in_cb = false;

static long cases = 0, passed = 0;

/* Out-pointers handed to the calls; each must still hold its sentinel. */
static size_t out_len, out_len2, out_removed, lens[2];
static uint64_t out_ms;
static int64_t out_i64;
static uint8_t *out_ptr;
static dm_map *out_map;
static const uint8_t *out_k, *out_v;
static dm_stats out_stats;
static uint8_t buf[64];

static void reset_outs(void) {
    out_len = out_len2 = out_removed = lens[0] = lens[1] = SENT;
    out_ms = (uint64_t)SENT;
    out_i64 = (int64_t)0x5555;
    out_ptr = (uint8_t *)(uintptr_t)0x1;
    out_map = (dm_map *)(uintptr_t)0x1;
    out_k = out_v = (const uint8_t *)(uintptr_t)0x1;
    memset(&out_stats, 0x5A, sizeof out_stats);
    memset(buf, 0xA5, sizeof buf);
}

static bool outs_untouched(void) {
    dm_stats s;
    memset(&s, 0x5A, sizeof s);
    bool ok = out_len == SENT && out_len2 == SENT && out_removed == SENT && lens[0] == SENT && lens[1] == SENT &&
              out_ms == (uint64_t)SENT && out_i64 == 0x5555 && out_ptr == (uint8_t *)(uintptr_t)0x1 &&
              out_map == (dm_map *)(uintptr_t)0x1 && out_k == (const uint8_t *)(uintptr_t)0x1 &&
              out_v == (const uint8_t *)(uintptr_t)0x1 && memcmp(&s, &out_stats, sizeof s) == 0;
    for (size_t i = 0; i < sizeof buf; i++) ok &= buf[i] == 0xA5;
    return ok;
}

/* What the map holds: length, byte totals and an order-independent hash. */
typedef struct {
    size_t len, key_bytes, value_bytes;
    uint64_t hash;
} fingerprint;

static uint64_t fnv(const uint8_t *p, size_t n, uint64_t h) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static fingerprint fp_of(dm_map *m) {
    fingerprint f = {dm_len(m), 0, 0, 0};
    dm_iter *it = dm_iter_new(m);
    const uint8_t *k, *v;
    size_t kl, vl;
    while (it && dm_iter_next(it, &k, &kl, &v, &vl) == DM_OK) {
        f.key_bytes += kl;
        f.value_bytes += vl;
        f.hash ^= fnv(v, vl, fnv(k, kl, 0xcbf29ce484222325ULL) ^ 0xff);
    }
    dm_iter_free(it);
    return f;
}

static bool fp_eq(fingerprint a, fingerprint b) {
    return a.len == b.len && a.key_bytes == b.key_bytes && a.value_bytes == b.value_bytes && a.hash == b.hash;
}

static fingerprint fp0;

static void finish(const char *fn, const char *kind, long long got, long long want, int line) {
    cases++;
    bool ok = true;
    if (got != want) {
        REL_CHECK(false, "[%s] %s (%s), line %d: got %lld (%s), want %lld (%s)", phase, fn, kind, line, got,
                  rel_status((dm_status)got), want, rel_status((dm_status)want));
        ok = false;
    }
    if (!outs_untouched()) {
        REL_CHECK(false, "[%s] %s (%s), line %d: an out-pointer was written", phase, fn, kind, line);
        ok = false;
    }
    if (!in_cb && !fp_eq(fp_of(M), fp0)) {
        REL_CHECK(false, "[%s] %s (%s), line %d: the map changed", phase, fn, kind, line);
        ok = false;
    }
    if (ok) passed++;
}

/* CASE: the same answer at top level and inside callbacks (argument errors). */
#define CASE(fn, kind, expr, want)                       \
    do {                                                 \
        reset_outs();                                    \
        long long got_ = (long long)(expr);              \
        finish(fn, kind, got_, (long long)(want), __LINE__); \
    } while (0)
/* CASE2: a state-dependent error at top level; DM_ERR_REENTRANT (or the
 * documented value) inside a callback, where the map cannot be read. */
#define CASE2(fn, kind, expr, want, want_cb) CASE(fn, kind, expr, in_cb ? (want_cb) : (want))

static void read_noop(const uint8_t *v, size_t l, void *c) { (void)v, (void)l, (void)c; abort(); }
static bool visit_noop(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, void *c) {
    (void)k, (void)kl, (void)v, (void)vl, (void)c;
    abort();
}
static bool visit_mut_noop(const uint8_t *k, size_t kl, uint8_t *v, size_t vl, void *c) {
    (void)k, (void)kl, (void)v, (void)vl, (void)c;
    abort();
}
static void entry_noop(dm_entry *e, void *c) { (void)e, (void)c; abort(); }

/* 1 when a constructor returned NULL (else frees the map and answers 0). */
static int is_null_map(dm_map *m) {
    if (!m) return 1;
    dm_free(m);
    return 0;
}

static dm_status new_with(size_t cap, size_t shards, dm_hasher hasher, bool out_null) {
    dm_options o = dm_options_default();
    o.capacity = cap;
    o.shards = shards;
    o.hasher = hasher;
    dm_status st = dm_new_with_options(&o, out_null ? NULL : &out_map);
    if (st == DM_OK && !out_null) {
        dm_free(out_map);
        out_map = (dm_map *)(uintptr_t)0x1; /* flagged by the status check anyway */
    }
    return st;
}

static int str_is(const char *s, const char *want) { return s != NULL && strcmp(s, want) == 0; }

static void map_cases(void) {
    const dm_slice ok1[1] = {{K, KL}};
    const dm_slice ok2[2] = {{K, KL}, {V, VL}};
    const dm_slice null1[1] = {{NULL, 1}};
    const dm_slice big1[1] = {{K, BIG}};
    const dm_slice big_then_null[2] = {{K, BIG}, {NULL, 1}};
    const size_t n_huge = (size_t)PTRDIFF_MAX / sizeof(dm_slice) + 1;

    /* --- library info (no argument can be bad; documented values) --- */
    CASE("dm_status_str", "unknown code 7", str_is(dm_status_str(7), "unknown status"), 1);
    CASE("dm_status_str", "unknown code -7", str_is(dm_status_str(-7), "unknown status"), 1);
    CASE("dm_status_str", "INT32_MAX", str_is(dm_status_str(INT32_MAX), "unknown status"), 1);
    CASE("dm_status_str", "INT32_MIN", str_is(dm_status_str(INT32_MIN), "unknown status"), 1);
    CASE("dm_status_str", "every known code is named", ({
             int named = 1;
             for (int s = DM_ERR_FULL; s <= DM_STOPPED; s++)
                 named &= dm_status_str(s) != NULL && !str_is(dm_status_str(s), "unknown status");
             named;
         }), 1);
    CASE("dm_version", "matches the header", str_is(dm_version(), DM_VERSION_STRING), 1);
    CASE("dm_version_number", "matches the header", dm_version_number(), DM_VERSION_NUMBER);
    CASE("dm_options_default", "documented defaults", ({
             dm_options o = dm_options_default();
             o.capacity == 0 && o.shards == 0 && o.hasher == DM_HASHER_SIPHASH && o.seed == 0 &&
                 o.max_entries == 0 && !o.manual_clock;
         }), 1);

    /* --- constructors --- */
    CASE("dm_new_with_options", "NULL opts", dm_new_with_options(NULL, &out_map), DM_ERR_NULL);
    CASE("dm_new_with_options", "NULL out", ({
             dm_options o = dm_options_default();
             dm_new_with_options(&o, NULL);
         }), DM_ERR_NULL);
    CASE("dm_new_with_options", "NULL opts + NULL out", dm_new_with_options(NULL, NULL), DM_ERR_NULL);
    CASE("dm_new_with_options", "shards 1", new_with(0, 1, DM_HASHER_SIPHASH, false), DM_ERR_INVALID);
    CASE("dm_new_with_options", "shards 3", new_with(0, 3, DM_HASHER_SIPHASH, false), DM_ERR_INVALID);
    CASE("dm_new_with_options", "shards > DM_MAX_SHARDS", new_with(0, 2 * DM_MAX_SHARDS, DM_HASHER_SIPHASH, false),
         DM_ERR_INVALID);
    CASE("dm_new_with_options", "shards SIZE_MAX", new_with(0, SIZE_MAX, DM_HASHER_SIPHASH, false), DM_ERR_INVALID);
    CASE("dm_new_with_options", "hasher 2", new_with(0, 0, 2, false), DM_ERR_INVALID);
    CASE("dm_new_with_options", "hasher -1", new_with(0, 0, -1, false), DM_ERR_INVALID);
    CASE("dm_new_with_options", "capacity SIZE_MAX", new_with(SIZE_MAX, 0, DM_HASHER_SIPHASH, false),
         DM_ERR_NO_MEMORY);
    CASE("dm_new_with_options", "capacity > PTRDIFF_MAX", new_with(BIG, 2, DM_HASHER_FAST, false), DM_ERR_NO_MEMORY);
    CASE("dm_new_with_options", "NULL out + bad shards (NULL first)", new_with(0, 3, DM_HASHER_SIPHASH, true),
         DM_ERR_NULL);
    CASE("dm_new_with_options", "bad hasher + huge capacity (INVALID first)", new_with(SIZE_MAX, 0, 9, false),
         DM_ERR_INVALID);
    CASE("dm_new", "no bad input: non-NULL", is_null_map(dm_new()), 0);
    CASE("dm_with_capacity", "SIZE_MAX", is_null_map(dm_with_capacity(SIZE_MAX)), 1);
    CASE("dm_with_capacity", "> PTRDIFF_MAX", is_null_map(dm_with_capacity(BIG)), 1);
    CASE("dm_with_shards", "0", is_null_map(dm_with_shards(0)), 1);
    CASE("dm_with_shards", "1", is_null_map(dm_with_shards(1)), 1);
    CASE("dm_with_shards", "3", is_null_map(dm_with_shards(3)), 1);
    CASE("dm_with_shards", "> DM_MAX_SHARDS", is_null_map(dm_with_shards(2 * DM_MAX_SHARDS)), 1);
    CASE("dm_with_shards", "SIZE_MAX", is_null_map(dm_with_shards(SIZE_MAX)), 1);
    CASE("dm_with_capacity_and_shards", "shards 0", is_null_map(dm_with_capacity_and_shards(8, 0)), 1);
    CASE("dm_with_capacity_and_shards", "shards 6", is_null_map(dm_with_capacity_and_shards(8, 6)), 1);
    CASE("dm_with_capacity_and_shards", "capacity SIZE_MAX", is_null_map(dm_with_capacity_and_shards(SIZE_MAX, 4)),
         1);
    CASE("dm_ref", "NULL", dm_ref(NULL) == NULL, 1);
    CASE("dm_free", "NULL is a no-op", (dm_free(NULL), 1), 1);

    /* --- single-key calls --- */
    CASE("dm_insert", "NULL map", dm_insert(NULL, K, KL, V, VL), DM_ERR_NULL);
    CASE("dm_insert", "NULL key + len", dm_insert(M, NULL, 1, V, VL), DM_ERR_NULL);
    CASE("dm_insert", "NULL val + len", dm_insert(M, K, KL, NULL, 1), DM_ERR_NULL);
    CASE("dm_insert", "key len > PTRDIFF_MAX", dm_insert(M, K, BIG, V, VL), DM_ERR_INVALID);
    CASE("dm_insert", "key len SIZE_MAX", dm_insert(M, K, SIZE_MAX, V, VL), DM_ERR_INVALID);
    CASE("dm_insert", "val len > PTRDIFF_MAX", dm_insert(M, K, KL, V, BIG), DM_ERR_INVALID);
    CASE("dm_insert", "NULL map + huge key (NULL first)", dm_insert(NULL, K, BIG, V, VL), DM_ERR_NULL);
    CASE("dm_insert", "huge key + NULL val (NULL first)", dm_insert(M, K, BIG, NULL, 1), DM_ERR_NULL);

    CASE("dm_insert_ttl", "NULL map", dm_insert_ttl(NULL, K, KL, V, VL, 5), DM_ERR_NULL);
    CASE("dm_insert_ttl", "NULL key + len", dm_insert_ttl(M, NULL, 1, V, VL, 5), DM_ERR_NULL);
    CASE("dm_insert_ttl", "NULL val + len", dm_insert_ttl(M, K, KL, NULL, 2, 5), DM_ERR_NULL);
    CASE("dm_insert_ttl", "key len > PTRDIFF_MAX", dm_insert_ttl(M, K, BIG, V, VL, 5), DM_ERR_INVALID);
    CASE("dm_insert_ttl", "val len > PTRDIFF_MAX", dm_insert_ttl(M, K, KL, V, BIG, 5), DM_ERR_INVALID);
    CASE("dm_insert_ttl", "huge key + NULL val (NULL first)", dm_insert_ttl(M, K, BIG, NULL, 1, 5), DM_ERR_NULL);

    CASE("dm_get_copy", "NULL map", dm_get_copy(NULL, K, KL, buf, sizeof buf, &out_len), DM_ERR_NULL);
    CASE("dm_get_copy", "NULL key + len", dm_get_copy(M, NULL, 1, buf, sizeof buf, &out_len), DM_ERR_NULL);
    CASE("dm_get_copy", "NULL buf + cap", dm_get_copy(M, K, KL, NULL, 8, &out_len), DM_ERR_NULL);
    CASE("dm_get_copy", "NULL val_len", dm_get_copy(M, K, KL, buf, sizeof buf, NULL), DM_ERR_NULL);
    CASE("dm_get_copy", "key len > PTRDIFF_MAX", dm_get_copy(M, K, BIG, buf, sizeof buf, &out_len), DM_ERR_INVALID);
    CASE("dm_get_copy", "buf cap > PTRDIFF_MAX", dm_get_copy(M, K, KL, buf, BIG, &out_len), DM_ERR_INVALID);
    CASE("dm_get_copy", "NULL val_len + huge key (NULL first)", dm_get_copy(M, K, BIG, buf, 8, NULL), DM_ERR_NULL);

    CASE("dm_get_with", "NULL map", dm_get_with(NULL, K, KL, read_noop, NULL), DM_ERR_NULL);
    CASE("dm_get_with", "NULL key + len", dm_get_with(M, NULL, 2, read_noop, NULL), DM_ERR_NULL);
    CASE("dm_get_with", "NULL callback", dm_get_with(M, K, KL, NULL, NULL), DM_ERR_NULL);
    CASE("dm_get_with", "key len > PTRDIFF_MAX", dm_get_with(M, K, BIG, read_noop, NULL), DM_ERR_INVALID);
    CASE("dm_get_with", "NULL callback + huge key (NULL first)", dm_get_with(M, K, BIG, NULL, NULL), DM_ERR_NULL);

    CASE("dm_get_alloc", "NULL map", dm_get_alloc(NULL, K, KL, &out_ptr, &out_len), DM_ERR_NULL);
    CASE("dm_get_alloc", "NULL key + len", dm_get_alloc(M, NULL, 1, &out_ptr, &out_len), DM_ERR_NULL);
    CASE("dm_get_alloc", "NULL out", dm_get_alloc(M, K, KL, NULL, &out_len), DM_ERR_NULL);
    CASE("dm_get_alloc", "NULL out_len", dm_get_alloc(M, K, KL, &out_ptr, NULL), DM_ERR_NULL);
    CASE("dm_get_alloc", "key len > PTRDIFF_MAX", dm_get_alloc(M, K, BIG, &out_ptr, &out_len), DM_ERR_INVALID);
    CASE("dm_get_alloc", "NULL out + huge key (NULL first)", dm_get_alloc(M, K, BIG, NULL, &out_len), DM_ERR_NULL);
    CASE("dm_bytes_free", "NULL is a no-op", (dm_bytes_free(NULL, 0), 1), 1);

    CASE("dm_contains_key", "NULL map", dm_contains_key(NULL, K, KL), false);
    CASE("dm_contains_key", "NULL key + len", dm_contains_key(M, NULL, 1), false);
    CASE("dm_contains_key", "key len > PTRDIFF_MAX", dm_contains_key(M, K, BIG), false);

    CASE("dm_remove", "NULL map", dm_remove(NULL, K, KL, buf, sizeof buf, &out_len), DM_ERR_NULL);
    CASE("dm_remove", "NULL key + len", dm_remove(M, NULL, 1, buf, sizeof buf, &out_len), DM_ERR_NULL);
    CASE("dm_remove", "NULL buf + cap", dm_remove(M, K, KL, NULL, 4, &out_len), DM_ERR_NULL);
    CASE("dm_remove", "key len > PTRDIFF_MAX", dm_remove(M, K, BIG, buf, sizeof buf, &out_len), DM_ERR_INVALID);
    CASE("dm_remove", "buf cap > PTRDIFF_MAX", dm_remove(M, K, KL, buf, BIG, &out_len), DM_ERR_INVALID);
    CASE("dm_remove", "NULL key + huge cap (NULL first)", dm_remove(M, NULL, 1, buf, BIG, &out_len), DM_ERR_NULL);

    CASE("dm_remove_if", "NULL map", dm_remove_if(NULL, K, KL, visit_noop, NULL), DM_ERR_NULL);
    CASE("dm_remove_if", "NULL key + len", dm_remove_if(M, NULL, 1, visit_noop, NULL), DM_ERR_NULL);
    CASE("dm_remove_if", "NULL predicate", dm_remove_if(M, K, KL, NULL, NULL), DM_ERR_NULL);
    CASE("dm_remove_if", "key len > PTRDIFF_MAX", dm_remove_if(M, K, BIG, visit_noop, NULL), DM_ERR_INVALID);
    CASE("dm_remove_if", "NULL predicate + huge key (NULL first)", dm_remove_if(M, K, BIG, NULL, NULL), DM_ERR_NULL);

    CASE("dm_len", "NULL map", dm_len(NULL), 0);
    CASE("dm_is_empty", "NULL map", dm_is_empty(NULL), false);
    CASE("dm_capacity", "NULL map", dm_capacity(NULL), 0);
    CASE("dm_clear", "NULL map", dm_clear(NULL), DM_ERR_NULL);
    CASE("dm_shrink_to_fit", "NULL map", dm_shrink_to_fit(NULL), DM_ERR_NULL);

    CASE("dm_try_insert", "NULL map", dm_try_insert(NULL, K, KL, V, VL), DM_ERR_NULL);
    CASE("dm_try_insert", "NULL key + len", dm_try_insert(M, NULL, 1, V, VL), DM_ERR_NULL);
    CASE("dm_try_insert", "NULL val + len", dm_try_insert(M, K, KL, NULL, 1), DM_ERR_NULL);
    CASE("dm_try_insert", "key len > PTRDIFF_MAX", dm_try_insert(M, K, BIG, V, VL), DM_ERR_INVALID);
    CASE("dm_try_insert", "val len > PTRDIFF_MAX", dm_try_insert(M, K, KL, V, BIG), DM_ERR_INVALID);
    CASE("dm_try_insert", "huge val + NULL key (NULL first)", dm_try_insert(M, NULL, 1, V, BIG), DM_ERR_NULL);

    CASE("dm_try_insert_ttl", "NULL map", dm_try_insert_ttl(NULL, K, KL, V, VL, 9), DM_ERR_NULL);
    CASE("dm_try_insert_ttl", "NULL key + len", dm_try_insert_ttl(M, NULL, 1, V, VL, 9), DM_ERR_NULL);
    CASE("dm_try_insert_ttl", "NULL val + len", dm_try_insert_ttl(M, K, KL, NULL, 1, 9), DM_ERR_NULL);
    CASE("dm_try_insert_ttl", "key len > PTRDIFF_MAX", dm_try_insert_ttl(M, K, BIG, V, VL, 9), DM_ERR_INVALID);
    CASE("dm_try_insert_ttl", "val len > PTRDIFF_MAX", dm_try_insert_ttl(M, K, KL, V, BIG, 9), DM_ERR_INVALID);
    CASE("dm_try_insert_ttl", "huge val + NULL key (NULL first)", dm_try_insert_ttl(M, NULL, 1, V, BIG, 9),
         DM_ERR_NULL);

    CASE("dm_get_or_insert", "NULL map", dm_get_or_insert(NULL, K, KL, V, VL, buf, sizeof buf, &out_len), DM_ERR_NULL);
    CASE("dm_get_or_insert", "NULL key + len", dm_get_or_insert(M, NULL, 1, V, VL, buf, sizeof buf, &out_len),
         DM_ERR_NULL);
    CASE("dm_get_or_insert", "NULL val + len", dm_get_or_insert(M, K, KL, NULL, 1, buf, sizeof buf, &out_len),
         DM_ERR_NULL);
    CASE("dm_get_or_insert", "NULL buf + cap", dm_get_or_insert(M, K, KL, V, VL, NULL, 8, &out_len), DM_ERR_NULL);
    CASE("dm_get_or_insert", "NULL out_len", dm_get_or_insert(M, K, KL, V, VL, buf, sizeof buf, NULL), DM_ERR_NULL);
    CASE("dm_get_or_insert", "key len > PTRDIFF_MAX", dm_get_or_insert(M, K, BIG, V, VL, buf, sizeof buf, &out_len),
         DM_ERR_INVALID);
    CASE("dm_get_or_insert", "val len > PTRDIFF_MAX", dm_get_or_insert(M, K, KL, V, BIG, buf, sizeof buf, &out_len),
         DM_ERR_INVALID);
    CASE("dm_get_or_insert", "buf cap > PTRDIFF_MAX", dm_get_or_insert(M, K, KL, V, VL, buf, BIG, &out_len),
         DM_ERR_INVALID);
    CASE("dm_get_or_insert", "huge val + NULL out_len (NULL first)",
         dm_get_or_insert(M, K, KL, V, BIG, buf, sizeof buf, NULL), DM_ERR_NULL);

    CASE("dm_compare_and_swap", "NULL map", dm_compare_and_swap(NULL, K, KL, V, VL, V, VL), DM_ERR_NULL);
    CASE("dm_compare_and_swap", "NULL key + len", dm_compare_and_swap(M, NULL, 1, V, VL, V, VL), DM_ERR_NULL);
    CASE("dm_compare_and_swap", "NULL expected + len", dm_compare_and_swap(M, K, KL, NULL, 1, V, VL), DM_ERR_NULL);
    CASE("dm_compare_and_swap", "NULL val + len", dm_compare_and_swap(M, K, KL, V, VL, NULL, 1), DM_ERR_NULL);
    CASE("dm_compare_and_swap", "key len > PTRDIFF_MAX", dm_compare_and_swap(M, K, BIG, V, VL, V, VL),
         DM_ERR_INVALID);
    CASE("dm_compare_and_swap", "expected len > PTRDIFF_MAX", dm_compare_and_swap(M, K, KL, V, BIG, V, VL),
         DM_ERR_INVALID);
    CASE("dm_compare_and_swap", "val len > PTRDIFF_MAX", dm_compare_and_swap(M, K, KL, V, VL, V, BIG),
         DM_ERR_INVALID);
    CASE("dm_compare_and_swap", "huge key + NULL val (NULL first)", dm_compare_and_swap(M, K, BIG, V, VL, NULL, 1),
         DM_ERR_NULL);

    CASE("dm_compare_and_remove", "NULL map", dm_compare_and_remove(NULL, K, KL, V, VL), DM_ERR_NULL);
    CASE("dm_compare_and_remove", "NULL key + len", dm_compare_and_remove(M, NULL, 1, V, VL), DM_ERR_NULL);
    CASE("dm_compare_and_remove", "NULL expected + len", dm_compare_and_remove(M, K, KL, NULL, 1), DM_ERR_NULL);
    CASE("dm_compare_and_remove", "key len > PTRDIFF_MAX", dm_compare_and_remove(M, K, BIG, V, VL), DM_ERR_INVALID);
    CASE("dm_compare_and_remove", "expected len > PTRDIFF_MAX", dm_compare_and_remove(M, K, KL, V, BIG),
         DM_ERR_INVALID);
    CASE("dm_compare_and_remove", "huge key + NULL expected (NULL first)", dm_compare_and_remove(M, K, BIG, NULL, 1),
         DM_ERR_NULL);

    CASE("dm_swap", "NULL map", dm_swap(NULL, K, KL, V, VL, buf, sizeof buf, &out_len), DM_ERR_NULL);
    CASE("dm_swap", "NULL key + len", dm_swap(M, NULL, 1, V, VL, buf, sizeof buf, &out_len), DM_ERR_NULL);
    CASE("dm_swap", "NULL val + len", dm_swap(M, K, KL, NULL, 1, buf, sizeof buf, &out_len), DM_ERR_NULL);
    CASE("dm_swap", "NULL old_buf + cap", dm_swap(M, K, KL, V, VL, NULL, 2, &out_len), DM_ERR_NULL);
    CASE("dm_swap", "NULL old_len", dm_swap(M, K, KL, V, VL, buf, sizeof buf, NULL), DM_ERR_NULL);
    CASE("dm_swap", "key len > PTRDIFF_MAX", dm_swap(M, K, BIG, V, VL, buf, sizeof buf, &out_len), DM_ERR_INVALID);
    CASE("dm_swap", "val len > PTRDIFF_MAX", dm_swap(M, K, KL, V, BIG, buf, sizeof buf, &out_len), DM_ERR_INVALID);
    CASE("dm_swap", "old cap > PTRDIFF_MAX", dm_swap(M, K, KL, V, VL, buf, BIG, &out_len), DM_ERR_INVALID);
    CASE("dm_swap", "huge old cap + NULL old_len (NULL first)", dm_swap(M, K, KL, V, VL, buf, BIG, NULL), DM_ERR_NULL);

    CASE("dm_add_i64", "NULL map", dm_add_i64(NULL, CK, 3, 1, &out_i64), DM_ERR_NULL);
    CASE("dm_add_i64", "NULL key + len", dm_add_i64(M, NULL, 1, 1, &out_i64), DM_ERR_NULL);
    CASE("dm_add_i64", "key len > PTRDIFF_MAX", dm_add_i64(M, CK, BIG, 1, &out_i64), DM_ERR_INVALID);
    CASE2("dm_add_i64", "value not 8 bytes", dm_add_i64(M, K, KL, 1, &out_i64), DM_ERR_INVALID, DM_ERR_REENTRANT);
    CASE("dm_add_i64_ttl", "NULL map", dm_add_i64_ttl(NULL, CK, 3, 1, 5, &out_i64), DM_ERR_NULL);
    CASE("dm_add_i64_ttl", "NULL key + len", dm_add_i64_ttl(M, NULL, 1, 1, 5, &out_i64), DM_ERR_NULL);
    CASE("dm_add_i64_ttl", "key len > PTRDIFF_MAX", dm_add_i64_ttl(M, CK, BIG, 1, 5, &out_i64), DM_ERR_INVALID);
    CASE2("dm_add_i64_ttl", "value not 8 bytes", dm_add_i64_ttl(M, K, KL, 1, 5, &out_i64), DM_ERR_INVALID,
          DM_ERR_REENTRANT);

    /* --- time-to-live and the clock --- */
    CASE("dm_expire", "NULL map", dm_expire(NULL, K, KL, 5), DM_ERR_NULL);
    CASE("dm_expire", "NULL key + len", dm_expire(M, NULL, 1, 5), DM_ERR_NULL);
    CASE("dm_expire", "key len > PTRDIFF_MAX", dm_expire(M, K, BIG, 5), DM_ERR_INVALID);
    CASE("dm_touch", "NULL map", dm_touch(NULL, K, KL, 5), DM_ERR_NULL);
    CASE("dm_touch", "NULL key + len", dm_touch(M, NULL, 1, 5), DM_ERR_NULL);
    CASE("dm_touch", "key len > PTRDIFF_MAX", dm_touch(M, K, BIG, 5), DM_ERR_INVALID);
    CASE("dm_touch", "ttl 0", dm_touch(M, K, KL, 0), DM_ERR_INVALID);
    CASE("dm_touch", "NULL map + ttl 0 (NULL first)", dm_touch(NULL, K, KL, 0), DM_ERR_NULL);
    CASE("dm_touch", "NULL key + ttl 0 (NULL first)", dm_touch(M, NULL, 1, 0), DM_ERR_NULL);
    CASE("dm_ttl_remaining", "NULL map", dm_ttl_remaining(NULL, K, KL, &out_ms), DM_ERR_NULL);
    CASE("dm_ttl_remaining", "NULL key + len", dm_ttl_remaining(M, NULL, 1, &out_ms), DM_ERR_NULL);
    CASE("dm_ttl_remaining", "NULL ms", dm_ttl_remaining(M, K, KL, NULL), DM_ERR_NULL);
    CASE("dm_ttl_remaining", "key len > PTRDIFF_MAX", dm_ttl_remaining(M, K, BIG, &out_ms), DM_ERR_INVALID);
    CASE("dm_ttl_remaining", "huge key + NULL ms (NULL first)", dm_ttl_remaining(M, K, BIG, NULL), DM_ERR_NULL);
    CASE("dm_purge_expired", "NULL map", dm_purge_expired(NULL, &out_removed), DM_ERR_NULL);
    CASE("dm_clock_set", "NULL map", dm_clock_set(NULL, 5), DM_ERR_NULL);
    CASE("dm_clock_set", "real-time map", dm_clock_set(M, 5), DM_ERR_INVALID);
    CASE("dm_clock_now", "NULL map", dm_clock_now(NULL), 0);

    /* --- the entry API, callbacks, walks --- */
    CASE("dm_entry_update", "NULL map", dm_entry_update(NULL, K, KL, entry_noop, NULL), DM_ERR_NULL);
    CASE("dm_entry_update", "NULL key + len", dm_entry_update(M, NULL, 1, entry_noop, NULL), DM_ERR_NULL);
    CASE("dm_entry_update", "NULL callback", dm_entry_update(M, K, KL, NULL, NULL), DM_ERR_NULL);
    CASE("dm_entry_update", "key len > PTRDIFF_MAX", dm_entry_update(M, K, BIG, entry_noop, NULL), DM_ERR_INVALID);
    CASE("dm_entry_update", "NULL callback + huge key (NULL first)", dm_entry_update(M, K, BIG, NULL, NULL),
         DM_ERR_NULL);
    CASE("dm_for_each", "NULL map", dm_for_each(NULL, visit_noop, NULL), DM_ERR_NULL);
    CASE("dm_for_each", "NULL callback", dm_for_each(M, NULL, NULL), DM_ERR_NULL);
    CASE("dm_for_each", "NULL map + NULL callback", dm_for_each(NULL, NULL, NULL), DM_ERR_NULL);
    CASE("dm_for_each_mut", "NULL map", dm_for_each_mut(NULL, visit_mut_noop, NULL), DM_ERR_NULL);
    CASE("dm_for_each_mut", "NULL callback", dm_for_each_mut(M, NULL, NULL), DM_ERR_NULL);
    CASE("dm_retain_cb", "NULL map", dm_retain_cb(NULL, visit_noop, NULL), DM_ERR_NULL);
    CASE("dm_retain_cb", "NULL callback", dm_retain_cb(M, NULL, NULL), DM_ERR_NULL);

    /* --- the cursor (IT is one entry into M) --- */
    CASE("dm_iter_new", "NULL map", dm_iter_new(NULL) == NULL, 1);
    CASE("dm_iter_next", "NULL cursor", dm_iter_next(NULL, &out_k, &out_len, &out_v, &out_len2), DM_ERR_NULL);
    CASE("dm_iter_next", "NULL key", dm_iter_next(IT, NULL, &out_len, &out_v, &out_len2), DM_ERR_NULL);
    CASE("dm_iter_next", "NULL key_len", dm_iter_next(IT, &out_k, NULL, &out_v, &out_len2), DM_ERR_NULL);
    CASE("dm_iter_next", "NULL val", dm_iter_next(IT, &out_k, &out_len, NULL, &out_len2), DM_ERR_NULL);
    CASE("dm_iter_next", "NULL val_len", dm_iter_next(IT, &out_k, &out_len, &out_v, NULL), DM_ERR_NULL);
    CASE("dm_iter_next", "all NULL", dm_iter_next(NULL, NULL, NULL, NULL, NULL), DM_ERR_NULL);
    CASE("dm_iter_next_many", "NULL cursor", dm_iter_next_many(NULL, buf, sizeof buf, lens, 1, &out_len, &out_len2),
         DM_ERR_NULL);
    CASE("dm_iter_next_many", "NULL buf + cap", dm_iter_next_many(IT, NULL, 8, lens, 1, &out_len, &out_len2),
         DM_ERR_NULL);
    CASE("dm_iter_next_many", "NULL lens, max > 0", dm_iter_next_many(IT, buf, sizeof buf, NULL, 1, &out_len, &out_len2),
         DM_ERR_NULL);
    CASE("dm_iter_next_many", "NULL count", dm_iter_next_many(IT, buf, sizeof buf, lens, 1, NULL, &out_len2),
         DM_ERR_NULL);
    CASE("dm_iter_next_many", "NULL used", dm_iter_next_many(IT, buf, sizeof buf, lens, 1, &out_len, NULL),
         DM_ERR_NULL);
    CASE("dm_iter_next_many", "max 0", dm_iter_next_many(IT, buf, sizeof buf, lens, 0, &out_len, &out_len2),
         DM_ERR_INVALID);
    CASE("dm_iter_next_many", "buf cap > PTRDIFF_MAX", dm_iter_next_many(IT, buf, BIG, lens, 1, &out_len, &out_len2),
         DM_ERR_INVALID);
    CASE("dm_iter_next_many", "2 * max lens too large to exist",
         dm_iter_next_many(IT, buf, sizeof buf, lens, SIZE_MAX / 2, &out_len, &out_len2), DM_ERR_INVALID);
    CASE("dm_iter_next_many", "NULL count + max 0 (NULL first)",
         dm_iter_next_many(IT, buf, sizeof buf, lens, 0, NULL, &out_len2), DM_ERR_NULL);
    CASE("dm_iter_next_many", "NULL cursor + huge cap (NULL first)",
         dm_iter_next_many(NULL, buf, BIG, lens, 1, &out_len, &out_len2), DM_ERR_NULL);
    /* lens may be NULL when max == 0 ("lens with max > 0"): only max == 0 is wrong. */
    CASE("dm_iter_next_many", "NULL lens + max 0", dm_iter_next_many(IT, buf, sizeof buf, NULL, 0, &out_len, &out_len2),
         DM_ERR_INVALID);
    /* NULL before INVALID: a NULL lens with a max too large for lens to exist. */
    CASE("dm_iter_next_many", "NULL lens + huge max (NULL first)",
         dm_iter_next_many(IT, buf, sizeof buf, NULL, SIZE_MAX, &out_len, &out_len2), DM_ERR_NULL);
    CASE("dm_iter_free", "NULL is a no-op", (dm_iter_free(NULL), 1), 1);

    /* --- batches --- */
    CASE("dm_extend", "NULL map", dm_extend(NULL, ok1, ok1, 1), DM_ERR_NULL);
    CASE("dm_extend", "NULL keys, n > 0", dm_extend(M, NULL, ok1, 1), DM_ERR_NULL);
    CASE("dm_extend", "NULL vals, n > 0", dm_extend(M, ok1, NULL, 1), DM_ERR_NULL);
    CASE("dm_extend", "key slice NULL + len", dm_extend(M, null1, ok1, 1), DM_ERR_NULL);
    CASE("dm_extend", "value slice NULL + len", dm_extend(M, ok1, null1, 1), DM_ERR_NULL);
    CASE("dm_extend", "key slice len > PTRDIFF_MAX", dm_extend(M, big1, ok1, 1), DM_ERR_INVALID);
    CASE("dm_extend", "value slice len > PTRDIFF_MAX", dm_extend(M, ok1, big1, 1), DM_ERR_INVALID);
    CASE("dm_extend", "n too large to exist", dm_extend(M, ok1, ok1, n_huge), DM_ERR_INVALID);
    CASE("dm_extend", "huge key slice + NULL value slice (NULL first)", dm_extend(M, big1, null1, 1), DM_ERR_NULL);
    CASE("dm_extend", "[huge, NULL] key slices (NULL first)", dm_extend(M, big_then_null, ok2, 2), DM_ERR_NULL);
    CASE("dm_extend", "NULL map + huge n (NULL first)", dm_extend(NULL, ok1, ok1, n_huge), DM_ERR_NULL);

    CASE("dm_get_many", "NULL map", dm_get_many(NULL, ok1, 1, buf, sizeof buf, lens, &out_len), DM_ERR_NULL);
    CASE("dm_get_many", "NULL keys, n > 0", dm_get_many(M, NULL, 1, buf, sizeof buf, lens, &out_len), DM_ERR_NULL);
    CASE("dm_get_many", "NULL lens, n > 0", dm_get_many(M, ok1, 1, buf, sizeof buf, NULL, &out_len), DM_ERR_NULL);
    CASE("dm_get_many", "NULL used", dm_get_many(M, ok1, 1, buf, sizeof buf, lens, NULL), DM_ERR_NULL);
    CASE("dm_get_many", "NULL buf + cap", dm_get_many(M, ok1, 1, NULL, 4, lens, &out_len), DM_ERR_NULL);
    CASE("dm_get_many", "key slice NULL + len", dm_get_many(M, null1, 1, buf, sizeof buf, lens, &out_len),
         DM_ERR_NULL);
    CASE("dm_get_many", "key slice len > PTRDIFF_MAX", dm_get_many(M, big1, 1, buf, sizeof buf, lens, &out_len),
         DM_ERR_INVALID);
    CASE("dm_get_many", "buf cap > PTRDIFF_MAX", dm_get_many(M, ok1, 1, buf, BIG, lens, &out_len), DM_ERR_INVALID);
    CASE("dm_get_many", "n too large to exist", dm_get_many(M, ok1, n_huge, buf, sizeof buf, lens, &out_len),
         DM_ERR_INVALID);
    CASE("dm_get_many", "NULL key slice + huge cap (NULL first)", dm_get_many(M, null1, 1, buf, BIG, lens, &out_len),
         DM_ERR_NULL);
    CASE("dm_get_many", "NULL used + huge n (NULL first)", dm_get_many(M, ok1, n_huge, buf, sizeof buf, lens, NULL),
         DM_ERR_NULL);

    CASE("dm_remove_many", "NULL map", dm_remove_many(NULL, ok1, 1, &out_removed), DM_ERR_NULL);
    CASE("dm_remove_many", "NULL keys, n > 0", dm_remove_many(M, NULL, 1, &out_removed), DM_ERR_NULL);
    CASE("dm_remove_many", "key slice NULL + len", dm_remove_many(M, null1, 1, &out_removed), DM_ERR_NULL);
    CASE("dm_remove_many", "key slice len > PTRDIFF_MAX", dm_remove_many(M, big1, 1, &out_removed), DM_ERR_INVALID);
    CASE("dm_remove_many", "n too large to exist", dm_remove_many(M, ok1, n_huge, &out_removed), DM_ERR_INVALID);
    CASE("dm_remove_many", "[huge, NULL] key slices (NULL first)", dm_remove_many(M, big_then_null, 2, &out_removed),
         DM_ERR_NULL);

    /* --- inspection --- */
    CASE("dm_shard_count", "NULL map", dm_shard_count(NULL), 0);
    CASE("dm_shard_len", "NULL map", dm_shard_len(NULL, 0, &out_len), DM_ERR_NULL);
    CASE("dm_shard_len", "NULL len", dm_shard_len(M, 0, NULL), DM_ERR_NULL);
    CASE("dm_shard_len", "shard == dm_shard_count", dm_shard_len(M, dm_shard_count(M), &out_len), DM_ERR_INVALID);
    CASE("dm_shard_len", "shard SIZE_MAX", dm_shard_len(M, SIZE_MAX, &out_len), DM_ERR_INVALID);
    CASE("dm_shard_len", "NULL map + bad shard (NULL first)", dm_shard_len(NULL, SIZE_MAX, &out_len), DM_ERR_NULL);
    CASE("dm_shard_len", "NULL len + bad shard (NULL first)", dm_shard_len(M, SIZE_MAX, NULL), DM_ERR_NULL);
    CASE("dm_stats_get", "NULL map", dm_stats_get(NULL, &out_stats), DM_ERR_NULL);
    CASE("dm_stats_get", "NULL out", dm_stats_get(M, NULL), DM_ERR_NULL);
}

/* The dm_entry_* functions, inside an entry callback on key "key". */
static long entry_cases_before;
static void entry_cases(dm_entry *e, void *ctx) {
    (void)ctx;
    phase = "inside dm_entry_update (entry functions)";
    in_cb = true;
    entry_cases_before = cases;
    CASE("dm_entry_set", "NULL entry", dm_entry_set(NULL, V, VL), DM_ERR_NULL);
    CASE("dm_entry_set", "NULL val + len", dm_entry_set(e, NULL, 1), DM_ERR_NULL);
    CASE("dm_entry_set", "val len > PTRDIFF_MAX", dm_entry_set(e, V, BIG), DM_ERR_INVALID);
    CASE("dm_entry_set", "NULL entry + huge len (NULL first)", dm_entry_set(NULL, V, BIG), DM_ERR_NULL);
    CASE("dm_entry_set", "NULL val + huge len", dm_entry_set(e, NULL, BIG), DM_ERR_NULL);
    CASE("dm_entry_remove", "NULL entry", dm_entry_remove(NULL), DM_ERR_NULL);
    CASE("dm_entry_occupied", "NULL entry", dm_entry_occupied(NULL), false);
    CASE("dm_entry_key", "NULL entry", dm_entry_key(NULL, &out_len) == NULL, 1);
    CASE("dm_entry_value", "NULL entry", dm_entry_value(NULL, &out_len) == NULL, 1);
    CASE("dm_entry_value_mut", "NULL entry", dm_entry_value_mut(NULL, &out_len) == NULL, 1);
    /* The entry itself is untouched by all of the above. */
    size_t l = 0;
    const uint8_t *v = dm_entry_value(e, &l);
    CASE("dm_entry_value", "entry unchanged by bad calls", v != NULL && l == VL + 2 && memcmp(v, "value", 5) == 0, 1);
}

static void in_get_with(const uint8_t *v, size_t l, void *ctx) {
    (void)v, (void)l, (void)ctx;
    phase = "inside dm_get_with";
    in_cb = true;
    map_cases();
}
static void in_entry(dm_entry *e, void *ctx) {
    (void)e, (void)ctx;
    phase = "inside dm_entry_update";
    in_cb = true;
    map_cases();
}
static bool in_for_each(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, void *ctx) {
    (void)k, (void)kl, (void)v, (void)vl, (void)ctx;
    phase = "inside dm_for_each";
    in_cb = true;
    map_cases();
    return false; /* once is enough */
}

int main(void) {
    rel_watchdog("bad_input_matrix", 120);
    M = dm_new();
    if (!M) return 1;
    if (dm_insert(M, K, KL, (const uint8_t *)"value", 5) != DM_OK) return 1;
    int64_t one = 1;
    if (dm_insert(M, CK, 3, (const uint8_t *)&one, 8) != DM_OK) return 1;
    if (dm_insert_ttl(M, (const uint8_t *)"ttl", 3, V, VL, 3600 * 1000) != DM_OK) return 1;
    for (int i = 0; i < 20; i++) {
        char k[16];
        int n = snprintf(k, sizeof k, "k%02d", i);
        dm_insert(M, (const uint8_t *)k, (size_t)n, (const uint8_t *)k, (size_t)n);
    }
    fp0 = fp_of(M);
    IT = dm_iter_new(M);
    const uint8_t *k0, *v0;
    size_t kl0, vl0;
    if (!IT || dm_iter_next(IT, &k0, &kl0, &v0, &vl0) != DM_OK) return 1;

    long per_phase[5];
    long c0 = cases;
    map_cases();
    per_phase[0] = cases - c0;

    c0 = cases;
    REL_CHECK_EQ(dm_get_with(M, K, KL, in_get_with, NULL), DM_OK, "dm_get_with phase");
    per_phase[1] = cases - c0;
    c0 = cases;
    REL_CHECK_EQ(dm_entry_update(M, K, KL, in_entry, NULL), DM_OK, "dm_entry_update phase");
    per_phase[2] = cases - c0;
    c0 = cases;
    REL_CHECK_EQ(dm_for_each(M, in_for_each, NULL), DM_STOPPED, "dm_for_each phase");
    per_phase[3] = cases - c0;
    c0 = cases;
    REL_CHECK_EQ(dm_entry_update(M, K, KL, entry_cases, NULL), DM_OK, "entry functions phase");
    per_phase[4] = cases - c0;
    in_cb = false;
    phase = "after the callbacks";

    /* Nothing the callback phases did changed the map or moved the cursor. */
    cases++;
    if (REL_CHECK(fp_eq(fp_of(M), fp0), "the map changed during the callback phases")) passed++;
    size_t rest = 0;
    while (dm_iter_next(IT, &k0, &kl0, &v0, &vl0) == DM_OK) rest++;
    cases++;
    if (REL_CHECK(rest + 1 == dm_len(M), "the cursor moved: %zu entries left of %zu", rest, dm_len(M))) passed++;
    dm_iter_free(IT);
    dm_free(M);

    printf("bad input matrix: %ld top-level cases, %ld inside dm_get_with, %ld inside dm_entry_update, "
           "%ld inside dm_for_each, %ld entry-function cases, 2 final checks\n",
           per_phase[0], per_phase[1], per_phase[2], per_phase[3], per_phase[4]);
    printf("bad input matrix: %ld cases, %ld passed\n", cases, passed);
    printf("%ld passed, %ld failed\n", passed, cases - passed);
    return passed == cases && rel_failed() == 0 ? 0 : 1;
}
