/*
 * test_basic.c: every dm_ function's documented behaviour on valid input:
 * version and status names, constructors and options, reference counting,
 * single-key operations, the atomics, batches and inspection.
 * (Bad input: test_errors.c. Callbacks and cursors: test_callbacks.c.)
 */
#include "check.h"

#include <limits.h>

/* ---------------------------------------------------------------- helpers */

/* The value of `key` as a NUL-free byte string compare: true when equal. */
static bool has_value(const dm_map *m, const uint8_t *key, size_t key_len, const void *want, size_t want_len) {
    uint8_t buf[256];
    size_t len = 0;
    if (dm_get_copy(m, key, key_len, buf, sizeof buf, &len) != DM_OK) return false;
    return len == want_len && (want_len == 0 || memcmp(buf, want, want_len) == 0);
}

static int64_t le_i64(const uint8_t b[8]) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return (int64_t)v;
}

static void put_le_i64(uint8_t b[8], int64_t x) {
    uint64_t v = (uint64_t)x;
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
}

static bool is_pow2(size_t n) { return n != 0 && (n & (n - 1)) == 0; }

/* ------------------------------------------------------ version & status */

static void test_version_and_status(void) {
    CHECK_EQ(dm_version_number(), DM_VERSION_NUMBER);
    CHECK_EQ(DM_VERSION_NUMBER, DM_VERSION_MAJOR * 10000 + DM_VERSION_MINOR * 100 + DM_VERSION_PATCH);
    CHECK_STR(dm_version(), DM_VERSION_STRING);
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", DM_VERSION_MAJOR, DM_VERSION_MINOR, DM_VERSION_PATCH);
    CHECK_STR(dm_version(), expect);

    CHECK_STR(dm_status_str(DM_OK), "ok");
    CHECK_STR(dm_status_str(DM_NOT_FOUND), "not found");
    CHECK_STR(dm_status_str(DM_REPLACED), "replaced an existing value");
    CHECK_STR(dm_status_str(DM_EXISTS), "key already exists");
    CHECK_STR(dm_status_str(DM_MISMATCH), "value did not match");
    CHECK_STR(dm_status_str(DM_BUFFER_TOO_SMALL), "buffer too small");
    CHECK_STR(dm_status_str(DM_STOPPED), "stopped by callback");
    CHECK_STR(dm_status_str(DM_ERR_NULL), "NULL pointer argument");
    CHECK_STR(dm_status_str(DM_ERR_INVALID), "invalid argument");
    CHECK_STR(dm_status_str(DM_ERR_NO_MEMORY), "out of memory");
    CHECK_STR(dm_status_str(DM_ERR_REENTRANT), "reentrant call from inside a callback on the same map");
    CHECK_STR(dm_status_str(DM_ERR_PANIC), "internal panic caught (map still usable)");
#ifdef DM_ERR_FULL
    CHECK_STR(dm_status_str(DM_ERR_FULL), "map is full (max_entries reached)");
#define DM_FIRST_UNKNOWN_ERROR (DM_ERR_FULL - 1)
#else
#define DM_FIRST_UNKNOWN_ERROR (DM_ERR_PANIC - 1)
#endif
    CHECK_STR(dm_status_str(12345), "unknown status");
    CHECK_STR(dm_status_str(DM_STOPPED + 1), "unknown status");
    CHECK_STR(dm_status_str(DM_FIRST_UNKNOWN_ERROR), "unknown status");
    CHECK_STR(dm_status_str(INT32_MIN), "unknown status");
    CHECK_STR(dm_status_str(INT32_MAX), "unknown status");
    /* Every known code has its own, distinct text. */
    const dm_status all[] = {DM_OK,         DM_NOT_FOUND,        DM_REPLACED,  DM_EXISTS,
                             DM_MISMATCH,   DM_BUFFER_TOO_SMALL, DM_STOPPED,   DM_ERR_NULL,
                             DM_ERR_INVALID, DM_ERR_NO_MEMORY,   DM_ERR_REENTRANT, DM_ERR_PANIC,
#ifdef DM_ERR_FULL
                             DM_ERR_FULL,
#endif
    };
    size_t n = sizeof all / sizeof all[0], distinct = 0;
    for (size_t i = 0; i < n; i++) {
        bool unique = strcmp(dm_status_str(all[i]), "unknown status") != 0;
        for (size_t j = 0; j < n; j++)
            if (j != i && strcmp(dm_status_str(all[i]), dm_status_str(all[j])) == 0) unique = false;
        distinct += unique;
    }
    CHECK_EQ(distinct, n);
    /* Static storage: the same pointer every time. */
    CHECK(dm_status_str(DM_OK) == dm_status_str(DM_OK));
    CHECK(dm_version() == dm_version());
}

/* --------------------------------------------------------- constructors */

static void test_constructors(void) {
    dm_options d = dm_options_default();
    CHECK_EQ(d.capacity, 0);
    CHECK_EQ(d.shards, 0);
    CHECK_EQ(d.hasher, DM_HASHER_SIPHASH);
    CHECK_EQ(d.seed, 0);

    /* dm_new: default shard count, a power of two: 4 x CPUs, at least 64. */
    dm_map *m = dm_new();
    CHECK(m != NULL);
    size_t default_shards = dm_shard_count(m);
    CHECK(is_pow2(default_shards) && default_shards >= 64 && default_shards <= DM_MAX_SHARDS);
    CHECK_EQ(dm_len(m), 0);
    CHECK(dm_is_empty(m));
    CHECK_EQ(dm_capacity(m), 0);
    dm_free(m);

    /* dm_new_with_options with the defaults gives the same shard count. */
    dm_map *o = NULL;
    CHECK_ST(dm_new_with_options(&d, &o), DM_OK);
    CHECK(o != NULL);
    CHECK_EQ(dm_shard_count(o), default_shards);
    dm_free(o);

    /* dm_with_capacity */
    m = dm_with_capacity(1000);
    CHECK(m != NULL);
    CHECK(dm_capacity(m) >= 1000);
    CHECK_EQ(dm_shard_count(m), default_shards);
    CHECK_EQ(dm_len(m), 0);
    dm_free(m);
    m = dm_with_capacity(0);
    CHECK(m != NULL);
    CHECK_EQ(dm_capacity(m), 0);
    dm_free(m);
    /* Impossible sizes: NULL, not an abort. */
    CHECK(dm_with_capacity(SIZE_MAX / 2) == NULL);
    CHECK(dm_with_capacity(SIZE_MAX) == NULL);

    /* dm_with_shards: a power of two in [2, DM_MAX_SHARDS]. */
    const size_t bad_shards[] = {0, 1, 3, 6, 12, 100, DM_MAX_SHARDS - 1, DM_MAX_SHARDS + 1, 2 * (size_t)DM_MAX_SHARDS,
                                 SIZE_MAX};
    for (size_t i = 0; i < sizeof bad_shards / sizeof bad_shards[0]; i++) {
        dm_map *bad = dm_with_shards(bad_shards[i]);
        if (!CHECK(bad == NULL)) fprintf(stderr, "    dm_with_shards(%zu) accepted\n", bad_shards[i]);
        dm_free(bad);
    }
    const size_t good_shards[] = {2, 4, 64, 1024, DM_MAX_SHARDS};
    for (size_t i = 0; i < sizeof good_shards / sizeof good_shards[0]; i++) {
        dm_map *good = dm_with_shards(good_shards[i]);
        CHECK(good != NULL);
        CHECK_EQ(dm_shard_count(good), good_shards[i]);
        CHECK_ST(dm_insert(good, S("k"), S("v")), DM_OK);
        CHECK(has_value(good, S("k"), "v", 1));
        dm_free(good);
    }

    /* dm_with_capacity_and_shards */
    m = dm_with_capacity_and_shards(100, 4);
    CHECK(m != NULL);
    CHECK_EQ(dm_shard_count(m), 4);
    CHECK(dm_capacity(m) >= 100);
    dm_free(m);
    CHECK(dm_with_capacity_and_shards(100, 0) == NULL);
    CHECK(dm_with_capacity_and_shards(100, 3) == NULL);
    CHECK(dm_with_capacity_and_shards(100, 2 * (size_t)DM_MAX_SHARDS) == NULL);
    CHECK(dm_with_capacity_and_shards(SIZE_MAX / 2, 4) == NULL);
    m = dm_with_capacity_and_shards(0, DM_MAX_SHARDS);
    CHECK(m != NULL);
    CHECK_EQ(dm_shard_count(m), DM_MAX_SHARDS);
    dm_free(m);

    /* dm_new_with_options: every field. */
    dm_options opts = dm_options_default();
    opts.shards = 8;
    opts.capacity = 64;
    opts.hasher = DM_HASHER_FAST;
    opts.seed = 99;
    o = NULL;
    CHECK_ST(dm_new_with_options(&opts, &o), DM_OK);
    CHECK(o != NULL);
    CHECK_EQ(dm_shard_count(o), 8);
    CHECK(dm_capacity(o) >= 64);
    CHECK_ST(dm_insert(o, S("fast"), S("hash")), DM_OK);
    CHECK(has_value(o, S("fast"), "hash", 4));
    dm_free(o);

    dm_map *const sentinel = (dm_map *)&opts; /* never dereferenced */
    const size_t bad_opt_shards[] = {1, 3, 6, DM_MAX_SHARDS + 1, 2 * (size_t)DM_MAX_SHARDS};
    for (size_t i = 0; i < sizeof bad_opt_shards / sizeof bad_opt_shards[0]; i++) {
        opts = dm_options_default();
        opts.shards = bad_opt_shards[i];
        o = sentinel;
        CHECK_ST(dm_new_with_options(&opts, &o), DM_ERR_INVALID);
        CHECK(o == sentinel); /* untouched on error */
    }
    opts = dm_options_default();
    opts.shards = DM_MAX_SHARDS;
    o = NULL;
    CHECK_ST(dm_new_with_options(&opts, &o), DM_OK);
    CHECK_EQ(dm_shard_count(o), DM_MAX_SHARDS);
    dm_free(o);

    const dm_hasher bad_hashers[] = {2, -1, 12345, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof bad_hashers / sizeof bad_hashers[0]; i++) {
        opts = dm_options_default();
        opts.hasher = bad_hashers[i];
        o = sentinel;
        CHECK_ST(dm_new_with_options(&opts, &o), DM_ERR_INVALID);
        CHECK(o == sentinel);
    }
    opts = dm_options_default();
    opts.hasher = DM_HASHER_SIPHASH;
    opts.seed = 1;
    o = NULL;
    CHECK_ST(dm_new_with_options(&opts, &o), DM_OK);
    dm_free(o);

    /* Absurd capacities: DM_ERR_NO_MEMORY (size overflow, and an allocation
     * of petabytes that the system refuses), *out untouched. */
    const size_t absurd[] = {SIZE_MAX, SIZE_MAX / 2, (size_t)1 << 50};
    for (size_t i = 0; i < sizeof absurd / sizeof absurd[0]; i++) {
        opts = dm_options_default();
        opts.capacity = absurd[i];
        opts.shards = 4;
        o = sentinel;
        CHECK_ST(dm_new_with_options(&opts, &o), DM_ERR_NO_MEMORY);
        CHECK(o == sentinel);
    }
    /* A bad shard count is reported even with an absurd capacity. */
    opts = dm_options_default();
    opts.capacity = SIZE_MAX;
    opts.shards = 3;
    o = sentinel;
    CHECK_ST(dm_new_with_options(&opts, &o), DM_ERR_INVALID);
    CHECK(o == sentinel);
}

/* A fixed seed places keys in the same shards in two maps (both hashers). */
static void test_seeded_placement(void) {
    const dm_hasher hashers[] = {DM_HASHER_SIPHASH, DM_HASHER_FAST};
    for (size_t h = 0; h < 2; h++) {
        dm_options opts = dm_options_default();
        opts.shards = 16;
        opts.hasher = hashers[h];
        opts.seed = 0x1234abcdULL;
        dm_map *a = NULL, *b = NULL;
        CHECK_ST(dm_new_with_options(&opts, &a), DM_OK);
        CHECK_ST(dm_new_with_options(&opts, &b), DM_OK);
        if (a == NULL || b == NULL) return;
        char key[32];
        for (int i = 0; i < 500; i++) {
            int n = snprintf(key, sizeof key, "seeded-key-%d", i);
            dm_insert(a, (const uint8_t *)key, (size_t)n, NULL, 0);
        }
        /* Insert into b in the opposite order: placement depends on the hash only. */
        for (int i = 499; i >= 0; i--) {
            int n = snprintf(key, sizeof key, "seeded-key-%d", i);
            dm_insert(b, (const uint8_t *)key, (size_t)n, NULL, 0);
        }
        CHECK_EQ(dm_len(a), 500);
        CHECK_EQ(dm_len(b), 500);
        size_t same = 0, sum = 0, max = 0;
        for (size_t s = 0; s < 16; s++) {
            size_t la = SIZE_MAX, lb = SIZE_MAX;
            CHECK_ST(dm_shard_len(a, s, &la), DM_OK);
            CHECK_ST(dm_shard_len(b, s, &lb), DM_OK);
            same += (la == lb);
            sum += la;
            if (la > max) max = la;
        }
        CHECK_EQ(same, 16);
        CHECK_EQ(sum, 500);
        CHECK(max < 500); /* the keys really are spread over several shards */
        dm_free(a);
        dm_free(b);
    }
}

/* -------------------------------------------------------- refcounting */

static void test_refcount(void) {
    dm_map *m = MUST(dm_new());
    CHECK(dm_ref(NULL) == NULL);
    dm_map *r = dm_ref(m);
    CHECK(r == m);
    CHECK_ST(dm_insert(m, S("a"), S("1")), DM_OK);
    dm_free(m); /* the creator's reference */
    /* Still alive through the other one. */
    CHECK_EQ(dm_len(r), 1);
    CHECK(has_value(r, S("a"), "1", 1));
    CHECK_ST(dm_insert(r, S("b"), S("2")), DM_OK);
    CHECK_EQ(dm_len(r), 2);
    dm_map *r2 = dm_ref(dm_ref(r));
    CHECK(r2 == r);
    dm_free(r);
    dm_free(r);
    CHECK(has_value(r2, S("b"), "2", 1));
    dm_free(r2); /* the last one; ASan/valgrind verify everything is released */
    dm_free(NULL);
}

/* --------------------------------------------------- insert / get / remove */

static void test_insert_get(void) {
    dm_map *m = MUST(dm_with_shards(4));
    CHECK_ST(dm_insert(m, S("alpha"), S("one")), DM_OK);
    CHECK_ST(dm_insert(m, S("alpha"), S("uno")), DM_REPLACED);
    CHECK_EQ(dm_len(m), 1);

    uint8_t buf[64];
    size_t len = 777;
    memset(buf, 'x', sizeof buf);
    CHECK_ST(dm_get_copy(m, S("alpha"), buf, sizeof buf, &len), DM_OK);
    CHECK_MEM(buf, len, "uno", 3);
    CHECK_EQ(buf[3], 'x'); /* nothing written past the value */

    /* Exactly fitting buffer. */
    len = 0;
    CHECK_ST(dm_get_copy(m, S("alpha"), buf, 3, &len), DM_OK);
    CHECK_EQ(len, 3);
    /* Too small: needed size, nothing copied. */
    memset(buf, 'x', sizeof buf);
    len = 0;
    CHECK_ST(dm_get_copy(m, S("alpha"), buf, 2, &len), DM_BUFFER_TOO_SMALL);
    CHECK_EQ(len, 3);
    CHECK_EQ(buf[0], 'x');
    CHECK_EQ(buf[1], 'x');
    /* Size query. */
    len = 0;
    CHECK_ST(dm_get_copy(m, S("alpha"), NULL, 0, &len), DM_BUFFER_TOO_SMALL);
    CHECK_EQ(len, 3);
    /* Missing key: *val_len untouched. */
    len = 4242;
    CHECK_ST(dm_get_copy(m, S("beta"), buf, sizeof buf, &len), DM_NOT_FOUND);
    CHECK_EQ(len, 4242);

    /* Empty value: buf = NULL, cap = 0 is enough. */
    CHECK_ST(dm_insert(m, S("empty"), NULL, 0), DM_OK);
    len = 99;
    CHECK_ST(dm_get_copy(m, S("empty"), NULL, 0, &len), DM_OK);
    CHECK_EQ(len, 0);
    /* (non-NULL, 0) is the same empty string. */
    CHECK_ST(dm_insert(m, S("empty"), buf, 0), DM_REPLACED);
    len = 99;
    CHECK_ST(dm_get_copy(m, S("empty"), buf, 0, &len), DM_OK);
    CHECK_EQ(len, 0);

    /* (NULL, 0) is a valid empty key, distinct from any other. */
    CHECK(!dm_contains_key(m, NULL, 0));
    CHECK_ST(dm_insert(m, NULL, 0, S("nokey")), DM_OK);
    CHECK(dm_contains_key(m, NULL, 0));
    CHECK(dm_contains_key(m, buf, 0)); /* any pointer with length 0 is the same key */
    CHECK(has_value(m, NULL, 0, "nokey", 5));
    CHECK_ST(dm_insert(m, buf, 0, S("nokey2")), DM_REPLACED);
    CHECK(has_value(m, NULL, 0, "nokey2", 6));
    CHECK_EQ(dm_len(m), 3);

    /* Binary keys and values: embedded NULs, prefixes are different keys. */
    const uint8_t k1[] = {0, 1, 2, 0}, k2[] = {0, 1, 2}, v1[] = {0, 0, 0xff};
    CHECK_ST(dm_insert(m, k1, sizeof k1, v1, sizeof v1), DM_OK);
    CHECK(!dm_contains_key(m, k2, sizeof k2));
    CHECK_ST(dm_insert(m, k2, sizeof k2, v1, 1), DM_OK);
    CHECK(has_value(m, k1, sizeof k1, v1, 3));
    CHECK(has_value(m, k2, sizeof k2, v1, 1));
    CHECK_EQ(dm_len(m), 5);

    /* The map copies: changing the caller's buffers afterwards changes nothing. */
    uint8_t kk[4] = {'k', 'e', 'y', '!'}, vv[3] = {'v', 'a', 'l'};
    CHECK_ST(dm_insert(m, kk, 4, vv, 3), DM_OK);
    memset(kk, 0, sizeof kk);
    memset(vv, 0, sizeof vv);
    CHECK(has_value(m, S("key!"), "val", 3));

    /* A large value (1 MiB) round-trips. */
    size_t big_n = (size_t)1 << 20;
    uint8_t *big = malloc(big_n), *back = malloc(big_n);
    if (big != NULL && back != NULL) {
        for (size_t i = 0; i < big_n; i++) big[i] = (uint8_t)(i * 31 + 7);
        CHECK_ST(dm_insert(m, S("big"), big, big_n), DM_OK);
        len = 0;
        CHECK_ST(dm_get_copy(m, S("big"), back, big_n, &len), DM_OK);
        CHECK_EQ(len, big_n);
        CHECK(memcmp(big, back, big_n) == 0);
        CHECK_ST(dm_remove(m, S("big"), NULL, 0, NULL), DM_OK);
    }
    free(big);
    free(back);
    dm_free(m);
}

static int g_read_calls;
static uint8_t g_read_buf[64];
static size_t g_read_len;
static void *g_read_ctx;

static void read_cb(const uint8_t *val, size_t val_len, void *ctx) {
    g_read_calls++;
    g_read_len = val_len;
    g_read_ctx = ctx;
    if (val_len <= sizeof g_read_buf && val_len > 0) memcpy(g_read_buf, val, val_len);
}

static void test_get_with_alloc_contains(void) {
    dm_map *m = MUST(dm_new());
    int token = 0;
    CHECK_ST(dm_insert(m, S("k"), S("value")), DM_OK);
    g_read_calls = 0;
    CHECK_ST(dm_get_with(m, S("k"), read_cb, &token), DM_OK);
    CHECK_EQ(g_read_calls, 1);
    CHECK_MEM(g_read_buf, g_read_len, "value", 5);
    CHECK(g_read_ctx == &token);
    g_read_calls = 0;
    CHECK_ST(dm_get_with(m, S("missing"), read_cb, &token), DM_NOT_FOUND);
    CHECK_EQ(g_read_calls, 0);
    CHECK_ST(dm_insert(m, S("e"), NULL, 0), DM_OK);
    g_read_len = 99;
    CHECK_ST(dm_get_with(m, S("e"), read_cb, NULL), DM_OK);
    CHECK_EQ(g_read_calls, 1);
    CHECK_EQ(g_read_len, 0);
    CHECK(g_read_ctx == NULL);

    /* dm_get_alloc */
    uint8_t *out = (uint8_t *)&token;
    size_t out_len = 555;
    CHECK_ST(dm_get_alloc(m, S("k"), &out, &out_len), DM_OK);
    CHECK_MEM(out, out_len, "value", 5);
    dm_bytes_free(out, out_len);
    /* Empty value: NULL, 0. */
    out = (uint8_t *)&token;
    out_len = 555;
    CHECK_ST(dm_get_alloc(m, S("e"), &out, &out_len), DM_OK);
    CHECK(out == NULL);
    CHECK_EQ(out_len, 0);
    dm_bytes_free(out, out_len);
    dm_bytes_free(NULL, 0);
    /* Missing: both untouched. */
    out = (uint8_t *)&token;
    out_len = 555;
    CHECK_ST(dm_get_alloc(m, S("missing"), &out, &out_len), DM_NOT_FOUND);
    CHECK(out == (uint8_t *)&token);
    CHECK_EQ(out_len, 555);

    CHECK(dm_contains_key(m, S("k")));
    CHECK(dm_contains_key(m, S("e")));
    CHECK(!dm_contains_key(m, S("missing")));
    CHECK(!dm_contains_key(m, S("K")));
    dm_free(m);
}

static int g_pred_calls;
static bool g_pred_answer;
static bool g_pred_args_ok;

static bool pred_cb(const uint8_t *key, size_t key_len, const uint8_t *val, size_t val_len, void *ctx) {
    g_pred_calls++;
    g_pred_args_ok = key_len == 3 && memcmp(key, "key", 3) == 0 && val_len == 3 && memcmp(val, "val", 3) == 0 &&
                     ctx == (void *)&g_pred_calls;
    return g_pred_answer;
}

static void test_remove(void) {
    dm_map *m = MUST(dm_new());
    uint8_t buf[16];
    size_t len;

    /* Discard (val_len NULL): buf is ignored, even NULL with a capacity. */
    CHECK_ST(dm_insert(m, S("a"), S("apple")), DM_OK);
    CHECK_ST(dm_remove(m, S("a"), NULL, 5, NULL), DM_OK);
    CHECK(!dm_contains_key(m, S("a")));
    CHECK_ST(dm_insert(m, S("a"), S("apple")), DM_OK);
    CHECK_ST(dm_remove(m, S("a"), buf, TOO_LONG, NULL), DM_OK); /* ignored, even an invalid capacity */
    CHECK(!dm_contains_key(m, S("a")));
    CHECK_ST(dm_remove(m, S("a"), NULL, 0, NULL), DM_NOT_FOUND);

    /* With a buffer: the removed value is handed back. */
    CHECK_ST(dm_insert(m, S("a"), S("apple")), DM_OK);
    len = 0;
    CHECK_ST(dm_remove(m, S("a"), buf, sizeof buf, &len), DM_OK);
    CHECK_MEM(buf, len, "apple", 5);
    CHECK_EQ(dm_len(m), 0);

    /* Too small: needed size, entry still there. */
    CHECK_ST(dm_insert(m, S("a"), S("apple")), DM_OK);
    len = 0;
    memset(buf, 'x', sizeof buf);
    CHECK_ST(dm_remove(m, S("a"), buf, 4, &len), DM_BUFFER_TOO_SMALL);
    CHECK_EQ(len, 5);
    CHECK_EQ(buf[0], 'x');
    CHECK(has_value(m, S("a"), "apple", 5));
    len = 0;
    CHECK_ST(dm_remove(m, S("a"), NULL, 0, &len), DM_BUFFER_TOO_SMALL);
    CHECK_EQ(len, 5);
    CHECK_EQ(dm_len(m), 1);
    /* Missing: *val_len untouched. */
    len = 31337;
    CHECK_ST(dm_remove(m, S("zzz"), buf, sizeof buf, &len), DM_NOT_FOUND);
    CHECK_EQ(len, 31337);
    /* Empty value with buf NULL, cap 0. */
    CHECK_ST(dm_insert(m, S("e"), NULL, 0), DM_OK);
    len = 7;
    CHECK_ST(dm_remove(m, S("e"), NULL, 0, &len), DM_OK);
    CHECK_EQ(len, 0);
    CHECK(!dm_contains_key(m, S("e")));
    /* Empty key. */
    CHECK_ST(dm_insert(m, NULL, 0, S("v")), DM_OK);
    CHECK_ST(dm_remove(m, NULL, 0, NULL, 0, NULL), DM_OK);
    CHECK_ST(dm_remove(m, NULL, 0, NULL, 0, NULL), DM_NOT_FOUND);
    CHECK_EQ(dm_len(m), 1);

    /* dm_remove_if */
    CHECK_ST(dm_insert(m, S("key"), S("val")), DM_OK);
    g_pred_calls = 0;
    g_pred_answer = false;
    CHECK_ST(dm_remove_if(m, S("key"), pred_cb, &g_pred_calls), DM_MISMATCH);
    CHECK_EQ(g_pred_calls, 1);
    CHECK(g_pred_args_ok);
    CHECK(dm_contains_key(m, S("key")));
    g_pred_answer = true;
    CHECK_ST(dm_remove_if(m, S("key"), pred_cb, &g_pred_calls), DM_OK);
    CHECK_EQ(g_pred_calls, 2);
    CHECK(g_pred_args_ok);
    CHECK(!dm_contains_key(m, S("key")));
    CHECK_ST(dm_remove_if(m, S("key"), pred_cb, &g_pred_calls), DM_NOT_FOUND);
    CHECK_EQ(g_pred_calls, 2); /* not called for a missing key */
    CHECK_EQ(dm_len(m), 1);
    dm_free(m);
}

static void test_size_clear_shrink(void) {
    dm_map *m = MUST(dm_with_shards(8));
    CHECK(dm_is_empty(m));
    char key[16];
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(key, sizeof key, "n%d", i);
        CHECK_ST(dm_insert(m, (const uint8_t *)key, (size_t)n, (const uint8_t *)key, (size_t)n), DM_OK);
    }
    CHECK_EQ(dm_len(m), 1000);
    CHECK(!dm_is_empty(m));
    size_t cap = dm_capacity(m);
    CHECK(cap >= 1000);
    /* Remove 900, then shrink: capacity drops but stays >= len. */
    for (int i = 100; i < 1000; i++) {
        int n = snprintf(key, sizeof key, "n%d", i);
        CHECK_ST(dm_remove(m, (const uint8_t *)key, (size_t)n, NULL, 0, NULL), DM_OK);
    }
    CHECK_EQ(dm_len(m), 100);
    /* Removing releases no memory (tombstones may lower the free room a bit). */
    size_t after_remove = dm_capacity(m);
    CHECK(after_remove >= 100 && after_remove <= cap);
    CHECK_ST(dm_shrink_to_fit(m), DM_OK);
    size_t shrunk = dm_capacity(m);
    CHECK(shrunk >= 100 && shrunk < after_remove);
    CHECK_EQ(dm_len(m), 100);
    CHECK(has_value(m, S("n42"), "n42", 3));
    /* Clear keeps capacity. */
    CHECK_ST(dm_clear(m), DM_OK);
    CHECK_EQ(dm_len(m), 0);
    CHECK(dm_is_empty(m));
    CHECK_EQ(dm_capacity(m), shrunk);
    CHECK(!dm_contains_key(m, S("n42")));
    /* Shrinking an empty map releases everything. */
    CHECK_ST(dm_shrink_to_fit(m), DM_OK);
    CHECK_EQ(dm_capacity(m), 0);
    CHECK_ST(dm_clear(m), DM_OK); /* clearing an empty map is fine */
    CHECK_ST(dm_insert(m, S("again"), S("1")), DM_OK);
    CHECK_EQ(dm_len(m), 1);
    dm_free(m);
}

/* ------------------------------------------------------------- atomics */

static void test_try_insert_get_or_insert(void) {
    dm_map *m = MUST(dm_new());
    CHECK_ST(dm_try_insert(m, S("t"), S("first")), DM_OK);
    CHECK_ST(dm_try_insert(m, S("t"), S("second")), DM_EXISTS);
    CHECK(has_value(m, S("t"), "first", 5));
    CHECK_ST(dm_try_insert(m, NULL, 0, NULL, 0), DM_OK);
    CHECK_ST(dm_try_insert(m, NULL, 0, S("x")), DM_EXISTS);
    CHECK(has_value(m, NULL, 0, "", 0));
    CHECK_EQ(dm_len(m), 2);

    uint8_t buf[16];
    size_t out = 0;
    /* OK: inserted, *out_len = val_len, nothing copied. */
    memset(buf, 'x', sizeof buf);
    CHECK_ST(dm_get_or_insert(m, S("g"), S("init"), buf, sizeof buf, &out), DM_OK);
    CHECK_EQ(out, 4);
    CHECK_EQ(buf[0], 'x');
    CHECK(has_value(m, S("g"), "init", 4));
    /* EXISTS: the existing value copied. */
    out = 0;
    CHECK_ST(dm_get_or_insert(m, S("g"), S("other value"), buf, sizeof buf, &out), DM_EXISTS);
    CHECK_MEM(buf, out, "init", 4);
    CHECK(has_value(m, S("g"), "init", 4));
    /* BUFFER_TOO_SMALL: its length, nothing changed. */
    out = 0;
    memset(buf, 'x', sizeof buf);
    CHECK_ST(dm_get_or_insert(m, S("g"), S("zz"), buf, 3, &out), DM_BUFFER_TOO_SMALL);
    CHECK_EQ(out, 4);
    CHECK_EQ(buf[0], 'x');
    CHECK(has_value(m, S("g"), "init", 4));
    out = 0;
    CHECK_ST(dm_get_or_insert(m, S("g"), NULL, 0, NULL, 0, &out), DM_BUFFER_TOO_SMALL);
    CHECK_EQ(out, 4);
    /* Inserting an empty value with no buffer at all. */
    out = 77;
    CHECK_ST(dm_get_or_insert(m, S("h"), NULL, 0, NULL, 0, &out), DM_OK);
    CHECK_EQ(out, 0);
    out = 77;
    CHECK_ST(dm_get_or_insert(m, S("h"), S("new"), NULL, 0, &out), DM_EXISTS);
    CHECK_EQ(out, 0);
    CHECK_EQ(dm_len(m), 4);
    dm_free(m);
}

static void test_cas_swap(void) {
    dm_map *m = MUST(dm_new());
    CHECK_ST(dm_compare_and_swap(m, S("c"), S("a"), S("b")), DM_NOT_FOUND);
    CHECK(!dm_contains_key(m, S("c")));
    CHECK_ST(dm_insert(m, S("c"), S("a")), DM_OK);
    CHECK_ST(dm_compare_and_swap(m, S("c"), S("x"), S("b")), DM_MISMATCH);
    CHECK(has_value(m, S("c"), "a", 1));
    CHECK_ST(dm_compare_and_swap(m, S("c"), S("aa"), S("b")), DM_MISMATCH); /* longer */
    CHECK_ST(dm_compare_and_swap(m, S("c"), NULL, 0, S("b")), DM_MISMATCH); /* empty vs "a" */
    CHECK_ST(dm_compare_and_swap(m, S("c"), S("a"), S("bee")), DM_OK);
    CHECK(has_value(m, S("c"), "bee", 3));
    CHECK_ST(dm_compare_and_swap(m, S("c"), S("bee"), NULL, 0), DM_OK);
    CHECK(has_value(m, S("c"), "", 0));
    CHECK_ST(dm_compare_and_swap(m, S("c"), NULL, 0, S("z")), DM_OK); /* empty matches empty */
    CHECK(has_value(m, S("c"), "z", 1));

    CHECK_ST(dm_compare_and_remove(m, S("c"), S("y")), DM_MISMATCH);
    CHECK(dm_contains_key(m, S("c")));
    CHECK_ST(dm_compare_and_remove(m, S("c"), NULL, 0), DM_MISMATCH);
    CHECK_ST(dm_compare_and_remove(m, S("c"), S("z")), DM_OK);
    CHECK(!dm_contains_key(m, S("c")));
    CHECK_ST(dm_compare_and_remove(m, S("c"), S("z")), DM_NOT_FOUND);
    CHECK_ST(dm_insert(m, S("e"), NULL, 0), DM_OK);
    CHECK_ST(dm_compare_and_remove(m, S("e"), NULL, 0), DM_OK);
    CHECK_EQ(dm_len(m), 0);

    /* dm_swap */
    uint8_t old[8];
    size_t old_len = 1234;
    CHECK_ST(dm_swap(m, S("s"), S("one"), old, sizeof old, &old_len), DM_OK);
    CHECK(has_value(m, S("s"), "one", 3));
    old_len = 0;
    CHECK_ST(dm_swap(m, S("s"), S("two!"), old, sizeof old, &old_len), DM_REPLACED);
    CHECK_MEM(old, old_len, "one", 3);
    CHECK(has_value(m, S("s"), "two!", 4));
    old_len = 0;
    memset(old, 'x', sizeof old);
    CHECK_ST(dm_swap(m, S("s"), S("three"), old, 3, &old_len), DM_BUFFER_TOO_SMALL);
    CHECK_EQ(old_len, 4);
    CHECK_EQ(old[0], 'x');
    CHECK(has_value(m, S("s"), "two!", 4)); /* nothing changed */
    old_len = 0;
    CHECK_ST(dm_swap(m, S("s"), NULL, 0, NULL, 0, &old_len), DM_BUFFER_TOO_SMALL);
    CHECK_EQ(old_len, 4);
    old_len = 0;
    CHECK_ST(dm_swap(m, S("s"), NULL, 0, old, 4, &old_len), DM_REPLACED);
    CHECK_MEM(old, old_len, "two!", 4);
    CHECK(has_value(m, S("s"), "", 0));
    old_len = 99;
    CHECK_ST(dm_swap(m, S("s"), S("back"), NULL, 0, &old_len), DM_REPLACED); /* empty old value fits anywhere */
    CHECK_EQ(old_len, 0);
    CHECK(has_value(m, S("s"), "back", 4));
    CHECK_EQ(dm_len(m), 1);
    dm_free(m);
}

static void test_add_i64(void) {
    dm_map *m = MUST(dm_new());
    int64_t r = 0;
    CHECK_ST(dm_add_i64(m, S("n"), 5, &r), DM_OK);
    CHECK_I64(r, 5);
    CHECK_ST(dm_add_i64(m, S("n"), -12, &r), DM_OK);
    CHECK_I64(r, -7);
    CHECK_ST(dm_add_i64(m, S("n"), 3, NULL), DM_OK); /* result optional */
    uint8_t raw[8];
    size_t len = 0;
    CHECK_ST(dm_get_copy(m, S("n"), raw, sizeof raw, &len), DM_OK);
    CHECK_EQ(len, 8);
    CHECK_I64(le_i64(raw), -4); /* 8-byte little-endian */
    CHECK_ST(dm_add_i64(m, S("n"), 0, &r), DM_OK);
    CHECK_I64(r, -4);

    /* A counter written by hand. */
    put_le_i64(raw, INT64_MAX);
    CHECK_ST(dm_insert(m, S("max"), raw, 8), DM_OK);
    CHECK_ST(dm_add_i64(m, S("max"), 1, &r), DM_OK);
    CHECK_I64(r, INT64_MIN); /* wraps */
    CHECK_ST(dm_add_i64(m, S("max"), -1, &r), DM_OK);
    CHECK_I64(r, INT64_MAX);
    CHECK_ST(dm_add_i64(m, S("min"), INT64_MIN, &r), DM_OK);
    CHECK_I64(r, INT64_MIN);
    CHECK_ST(dm_add_i64(m, S("min"), -1, &r), DM_OK);
    CHECK_I64(r, INT64_MAX);
    /* An absent key starts at 0, including with a delta of 0. */
    CHECK_ST(dm_add_i64(m, S("zero"), 0, &r), DM_OK);
    CHECK_I64(r, 0);
    CHECK(has_value(m, S("zero"), "\0\0\0\0\0\0\0\0", 8));
    /* The empty key is a key like any other. */
    CHECK_ST(dm_add_i64(m, NULL, 0, 40, &r), DM_OK);
    CHECK_ST(dm_add_i64(m, NULL, 0, 2, &r), DM_OK);
    CHECK_I64(r, 42);

    /* Not 8 bytes: DM_ERR_INVALID, value and *result untouched. */
    const size_t bad_lens[] = {0, 1, 7, 9, 16};
    for (size_t i = 0; i < sizeof bad_lens / sizeof bad_lens[0]; i++) {
        uint8_t v[16] = "abcdefghijklmno";
        CHECK_ST(dm_insert(m, S("str"), v, bad_lens[i]), i == 0 ? DM_OK : DM_REPLACED);
        r = 999;
        CHECK_ST(dm_add_i64(m, S("str"), 1, &r), DM_ERR_INVALID);
        CHECK_I64(r, 999);
        CHECK_ST(dm_add_i64(m, S("str"), 1, NULL), DM_ERR_INVALID);
        CHECK(has_value(m, S("str"), v, bad_lens[i]));
    }
    CHECK_EQ(dm_len(m), 6);
    dm_free(m);
}

/* -------------------------------------------------------------- batches */

static void test_extend_get_many_remove_many(void) {
    dm_map *m = MUST(dm_with_shards(4));
    /* Duplicate keys: the last value wins. */
    dm_slice keys[6] = {{(const uint8_t *)"a", 1}, {(const uint8_t *)"b", 1}, {(const uint8_t *)"a", 1},
                        {NULL, 0},                 {(const uint8_t *)"c", 1}, {(const uint8_t *)"a", 1}};
    dm_slice vals[6] = {{(const uint8_t *)"1", 1},   {(const uint8_t *)"22", 2}, {(const uint8_t *)"333", 3},
                        {(const uint8_t *)"empty", 5}, {NULL, 0},                {(const uint8_t *)"last", 4}};
    CHECK_ST(dm_extend(m, keys, vals, 6), DM_OK);
    CHECK_EQ(dm_len(m), 4);
    CHECK(has_value(m, S("a"), "last", 4));
    CHECK(has_value(m, S("b"), "22", 2));
    CHECK(has_value(m, NULL, 0, "empty", 5));
    CHECK(has_value(m, S("c"), "", 0));
    /* Extending over existing keys replaces them. */
    dm_slice k2[2] = {{(const uint8_t *)"b", 1}, {(const uint8_t *)"d", 1}};
    dm_slice v2[2] = {{(const uint8_t *)"B", 1}, {(const uint8_t *)"D", 1}};
    CHECK_ST(dm_extend(m, k2, v2, 2), DM_OK);
    CHECK_EQ(dm_len(m), 5);
    CHECK(has_value(m, S("b"), "B", 1));
    CHECK(has_value(m, S("d"), "D", 1));
    CHECK_ST(dm_extend(m, NULL, NULL, 0), DM_OK); /* nothing to do */
    CHECK_EQ(dm_len(m), 5);

    /* A larger batch across shards. */
    enum { BATCH = 300 };
    char kbuf[BATCH][12], vbuf[BATCH][12];
    dm_slice bk[BATCH], bv[BATCH];
    for (int i = 0; i < BATCH; i++) {
        bk[i].len = (size_t)snprintf(kbuf[i], sizeof kbuf[i], "bk%d", i);
        bv[i].len = (size_t)snprintf(vbuf[i], sizeof vbuf[i], "bv%d", i * 7);
        bk[i].ptr = (const uint8_t *)kbuf[i];
        bv[i].ptr = (const uint8_t *)vbuf[i];
    }
    CHECK_ST(dm_extend(m, bk, bv, BATCH), DM_OK);
    CHECK_EQ(dm_len(m), 5 + BATCH);
    size_t good = 0;
    for (int i = 0; i < BATCH; i++) good += has_value(m, bk[i].ptr, bk[i].len, bv[i].ptr, bv[i].len);
    CHECK_EQ(good, BATCH);

    /* dm_get_many: packed in key order, SIZE_MAX for missing, duplicates allowed. */
    dm_slice q[7] = {{(const uint8_t *)"d", 1}, {(const uint8_t *)"nope", 4}, {(const uint8_t *)"a", 1},
                     {(const uint8_t *)"c", 1}, {NULL, 0},                    {(const uint8_t *)"b", 1},
                     {(const uint8_t *)"a", 1}};
    uint8_t buf[64];
    size_t lens[7], used = 0;
    memset(buf, '.', sizeof buf);
    CHECK_ST(dm_get_many(m, q, 7, buf, sizeof buf, lens, &used), DM_OK);
    CHECK_EQ(lens[0], 1);
    CHECK_EQ(lens[1], SIZE_MAX);
    CHECK_EQ(lens[2], 4);
    CHECK_EQ(lens[3], 0);
    CHECK_EQ(lens[4], 5);
    CHECK_EQ(lens[5], 1);
    CHECK_EQ(lens[6], 4);
    CHECK_EQ(used, 15);
    CHECK_MEM(buf, used, "DlastemptyBlast", 15);
    CHECK_EQ(buf[15], '.');

    /* Exactly enough room. */
    used = 0;
    CHECK_ST(dm_get_many(m, q, 7, buf, 15, lens, &used), DM_OK);
    CHECK_EQ(used, 15);
    /* Too small: *used = needed, lens filled. */
    size_t lens2[7];
    for (int i = 0; i < 7; i++) lens2[i] = 12345;
    used = 0;
    CHECK_ST(dm_get_many(m, q, 7, buf, 14, lens2, &used), DM_BUFFER_TOO_SMALL);
    CHECK_EQ(used, 15);
    CHECK(memcmp(lens, lens2, sizeof lens) == 0);
    for (int i = 0; i < 7; i++) lens2[i] = 12345;
    used = 0;
    CHECK_ST(dm_get_many(m, q, 7, NULL, 0, lens2, &used), DM_BUFFER_TOO_SMALL);
    CHECK_EQ(used, 15);
    CHECK(memcmp(lens, lens2, sizeof lens) == 0);
    /* Only missing / empty values: nothing needed, buf may be NULL. */
    dm_slice q2[2] = {{(const uint8_t *)"nope", 4}, {(const uint8_t *)"c", 1}};
    size_t lens3[2] = {0, 0};
    used = 99;
    CHECK_ST(dm_get_many(m, q2, 2, NULL, 0, lens3, &used), DM_OK);
    CHECK_EQ(lens3[0], SIZE_MAX);
    CHECK_EQ(lens3[1], 0);
    CHECK_EQ(used, 0);
    used = 99;
    CHECK_ST(dm_get_many(m, NULL, 0, NULL, 0, NULL, &used), DM_OK);
    CHECK_EQ(used, 0);
    /* The large batch read back in one call. */
    static uint8_t bigbuf[BATCH * 12];
    size_t blens[BATCH];
    used = 0;
    CHECK_ST(dm_get_many(m, bk, BATCH, bigbuf, sizeof bigbuf, blens, &used), DM_OK);
    size_t at = 0, matched = 0;
    for (int i = 0; i < BATCH; i++) {
        matched += blens[i] == bv[i].len && memcmp(bigbuf + at, bv[i].ptr, bv[i].len) == 0;
        at += blens[i];
    }
    CHECK_EQ(matched, BATCH);
    CHECK_EQ(used, at);

    /* dm_remove_many: counts present keys (a duplicate counts once). */
    dm_slice r[5] = {{(const uint8_t *)"a", 1}, {(const uint8_t *)"nope", 4}, {(const uint8_t *)"a", 1},
                     {NULL, 0},                 {(const uint8_t *)"b", 1}};
    size_t removed = 999;
    CHECK_ST(dm_remove_many(m, r, 5, &removed), DM_OK);
    CHECK_EQ(removed, 3);
    CHECK_EQ(dm_len(m), 2 + BATCH);
    CHECK(!dm_contains_key(m, S("a")));
    CHECK(!dm_contains_key(m, NULL, 0));
    CHECK(dm_contains_key(m, S("c")));
    removed = 999;
    CHECK_ST(dm_remove_many(m, r, 5, &removed), DM_OK);
    CHECK_EQ(removed, 0);
    CHECK_ST(dm_remove_many(m, bk, BATCH, NULL), DM_OK); /* removed optional */
    CHECK_EQ(dm_len(m), 2);
    removed = 999;
    CHECK_ST(dm_remove_many(m, NULL, 0, &removed), DM_OK);
    CHECK_EQ(removed, 0);
    dm_free(m);
}

/* ----------------------------------------------------------- inspection */

static void test_shards_and_stats(void) {
    dm_map *m = MUST(dm_with_shards(8));
    CHECK_EQ(dm_shard_count(m), 8);
    CHECK_EQ(dm_shard_count(NULL), 0);
    dm_stats st;
    memset(&st, 0xab, sizeof st);
    CHECK_ST(dm_stats_get(m, &st), DM_OK);
    CHECK_EQ(st.len, 0);
    CHECK_EQ(st.shards, 8);
    CHECK_EQ(st.min_shard_len, 0);
    CHECK_EQ(st.max_shard_len, 0);
    CHECK_EQ(st.key_bytes, 0);
    CHECK_EQ(st.value_bytes, 0);
    CHECK_EQ(st.capacity, 0);

    size_t kb = 0, vb = 0;
    char key[32], val[64];
    for (int i = 0; i < 777; i++) {
        int kn = snprintf(key, sizeof key, "stat-%d", i);
        int vn = i % 40;
        memset(val, 'v', (size_t)vn);
        CHECK_ST(dm_insert(m, (const uint8_t *)key, (size_t)kn, (const uint8_t *)val, (size_t)vn), DM_OK);
        kb += (size_t)kn;
        vb += (size_t)vn;
    }
    /* Replacing changes value_bytes only. */
    CHECK_ST(dm_insert(m, S("stat-0"), S("0123456789")), DM_REPLACED);
    vb += 10;
    CHECK_ST(dm_insert(m, NULL, 0, S("xyz")), DM_OK);
    vb += 3;

    size_t sum = 0, mn = SIZE_MAX, mx = 0;
    for (size_t s = 0; s < 8; s++) {
        size_t l = SIZE_MAX;
        CHECK_ST(dm_shard_len(m, s, &l), DM_OK);
        sum += l;
        if (l < mn) mn = l;
        if (l > mx) mx = l;
    }
    CHECK_EQ(sum, 778);
    size_t l = 4321;
    CHECK_ST(dm_shard_len(m, 8, &l), DM_ERR_INVALID);
    CHECK_EQ(l, 4321);
    CHECK_ST(dm_shard_len(m, SIZE_MAX, &l), DM_ERR_INVALID);
    CHECK_EQ(l, 4321);

    CHECK_ST(dm_stats_get(m, &st), DM_OK);
    CHECK_EQ(st.len, 778);
    CHECK_EQ(st.shards, 8);
    CHECK_EQ(st.key_bytes, kb);
    CHECK_EQ(st.value_bytes, vb);
    CHECK_EQ(st.min_shard_len, mn);
    CHECK_EQ(st.max_shard_len, mx);
    CHECK(st.min_shard_len <= st.max_shard_len);
    CHECK_EQ(st.capacity, dm_capacity(m));
    CHECK(st.capacity >= st.len);
    dm_free(m);

    /* Two shards: one with everything is visible as min 0 / max n. */
    m = MUST(dm_with_shards(2));
    CHECK_ST(dm_insert(m, S("only"), S("1")), DM_OK);
    CHECK_ST(dm_stats_get(m, &st), DM_OK);
    CHECK_EQ(st.min_shard_len, 0);
    CHECK_EQ(st.max_shard_len, 1);
    CHECK_EQ(st.key_bytes, 4);
    CHECK_EQ(st.value_bytes, 1);
    dm_free(m);
}

/* dm_iter_next_many: every entry exactly once, packed key-then-value, never
 * split across calls; errors leave the cursor where it was. */
static void test_iter_next_many(void) {
    dm_map *m = MUST(dm_with_shards(4));
    char key[16];
    for (int i = 0; i < 300; i++) {
        int n = snprintf(key, sizeof key, "key%03d", i);
        CHECK_ST(dm_insert(m, (const uint8_t *)key, (size_t)n, (const uint8_t *)"vv", 2), DM_OK);
    }
    dm_iter *it = dm_iter_new(m);
    CHECK(it != NULL);
    uint8_t buf[100];
    size_t lens[2 * 16], count = 99, used = 99;
    CHECK_ST(dm_iter_next_many(it, buf, 7, lens, 16, &count, &used), DM_BUFFER_TOO_SMALL);
    CHECK_EQ(count, 0);
    CHECK_EQ(used, 8); /* "keyNNN" + "vv" */
    CHECK_ST(dm_iter_next_many(it, buf, sizeof buf, lens, 0, &count, &used), DM_ERR_INVALID);
    CHECK_ST(dm_iter_next_many(it, buf, sizeof buf, NULL, 16, &count, &used), DM_ERR_NULL);
    CHECK_ST(dm_iter_next_many(NULL, buf, sizeof buf, lens, 16, &count, &used), DM_ERR_NULL);
    CHECK_ST(dm_iter_next_many(it, NULL, 8, lens, 16, &count, &used), DM_ERR_NULL);
    int seen[300] = {0};
    size_t total = 0, calls = 0;
    dm_status st;
    while ((st = dm_iter_next_many(it, buf, sizeof buf, lens, 16, &count, &used)) == DM_OK) {
        calls++;
        CHECK(count >= 1 && count <= 12); /* 100 bytes hold at most 12 entries of 8 */
        size_t at = 0;
        for (size_t i = 0; i < count; i++) {
            CHECK_EQ(lens[2 * i], 6);
            CHECK_EQ(lens[2 * i + 1], 2);
            char digits[4] = {(char)buf[at + 3], (char)buf[at + 4], (char)buf[at + 5], 0};
            int k = atoi(digits);
            if (k >= 0 && k < 300) seen[k]++;
            CHECK_MEM(buf + at + 6, 2, "vv", 2);
            at += 8;
        }
        CHECK_EQ(at, used);
        total += count;
    }
    CHECK_ST(st, DM_NOT_FOUND);
    CHECK_EQ(count, 0);
    CHECK_EQ(total, 300);
    CHECK(calls >= 25);
    int once = 0;
    for (int i = 0; i < 300; i++) once += seen[i] == 1;
    CHECK_EQ(once, 300);
    dm_iter_free(it);
    dm_free(m);
}

int main(void) {
    test_version_and_status();
    test_constructors();
    test_seeded_placement();
    test_refcount();
    test_insert_get();
    test_get_with_alloc_contains();
    test_remove();
    test_size_clear_shrink();
    test_try_insert_get_or_insert();
    test_cas_swap();
    test_add_i64();
    test_extend_get_many_remove_many();
    test_shards_and_stats();
    test_iter_next_many();
    return check_finish();
}
