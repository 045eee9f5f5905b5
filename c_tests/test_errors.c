/*
 * test_errors.c: bad input for every pointer and length argument of every
 * dm_ function: a NULL map, a NULL byte pointer with a non-zero length
 * (DM_ERR_NULL), a length over PTRDIFF_MAX (DM_ERR_INVALID), a NULL callback,
 * a NULL required out-pointer. After each error the map must be unchanged and
 * every out-pointer untouched. NULL errors come before DM_ERR_INVALID.
 * Also allocation failure (DM_ERR_NO_MEMORY) for value copies, where the
 * system refuses a 64 TiB allocation.
 */
#include "check.h"

#include <stdio.h>

enum { NKEYS = 10 };

/* The fixture: key0..key9 -> value0..value9, plus "short" -> "ab". */
static dm_map *fixture(void) {
    dm_map *m = MUST(dm_with_shards(4));
    char k[16], v[16];
    for (int i = 0; i < NKEYS; i++) {
        int kn = snprintf(k, sizeof k, "key%d", i), vn = snprintf(v, sizeof v, "value%d", i);
        if (dm_insert(m, (const uint8_t *)k, (size_t)kn, (const uint8_t *)v, (size_t)vn) != DM_OK) exit(EXIT_FAILURE);
    }
    if (dm_insert(m, S("short"), S("ab")) != DM_OK) exit(EXIT_FAILURE);
    return m;
}

/* True when the map still holds exactly the fixture. */
static bool unchanged(const dm_map *m) {
    if (dm_len(m) != NKEYS + 1) return false;
    char k[16], v[16];
    uint8_t buf[32];
    for (int i = 0; i < NKEYS; i++) {
        int kn = snprintf(k, sizeof k, "key%d", i), vn = snprintf(v, sizeof v, "value%d", i);
        size_t len = 0;
        if (dm_get_copy(m, (const uint8_t *)k, (size_t)kn, buf, sizeof buf, &len) != DM_OK) return false;
        if (len != (size_t)vn || memcmp(buf, v, len) != 0) return false;
    }
    size_t len = 0;
    if (dm_get_copy(m, S("short"), buf, sizeof buf, &len) != DM_OK || len != 2 || memcmp(buf, "ab", 2) != 0)
        return false;
    return true;
}

/* A status check followed by "the map is unchanged". */
#define ERR(call, want)                                                                                                \
    do {                                                                                                               \
        check_status_((call), (want), __FILE__, __LINE__, #call " == " #want);                                         \
        CHECK(unchanged(m));                                                                                           \
    } while (0)

static const uint8_t K[] = "key3";                 /* an existing key */
static const uint8_t NEWK[] = "brand-new";         /* an absent key */
static const uint8_t V[] = "some value";           /* a valid value */
#define KL ((size_t)4)
#define NEWKL ((size_t)9)
#define VL ((size_t)10)

static int g_calls;
static void read_cb(const uint8_t *v, size_t n, void *ctx) {
    (void)v, (void)n, (void)ctx;
    g_calls++;
}
static bool visit_cb(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    (void)k, (void)kn, (void)v, (void)vn, (void)ctx;
    g_calls++;
    return false; /* would remove (remove_if) / drop (retain) / stop (for_each) */
}
static bool visit_mut_cb(const uint8_t *k, size_t kn, uint8_t *v, size_t vn, void *ctx) {
    (void)k, (void)kn, (void)ctx;
    g_calls++;
    if (vn > 0) v[0] = 'X';
    return true;
}
static void entry_cb(dm_entry *e, void *ctx) {
    (void)ctx;
    g_calls++;
    dm_entry_remove(e);
}

/* ------------------------------------------------------------ creation */

static void test_create_errors(void) {
    dm_options opts = dm_options_default();
    dm_map *const sentinel = (dm_map *)&opts;
    dm_map *out = sentinel;
    CHECK_ST(dm_new_with_options(NULL, &out), DM_ERR_NULL);
    CHECK(out == sentinel);
    CHECK_ST(dm_new_with_options(&opts, NULL), DM_ERR_NULL);
    CHECK_ST(dm_new_with_options(NULL, NULL), DM_ERR_NULL);
    /* NULL before INVALID: a bad shard count with a NULL out. */
    opts.shards = 3;
    CHECK_ST(dm_new_with_options(&opts, NULL), DM_ERR_NULL);
    opts.shards = 0;
    opts.hasher = 7;
    CHECK_ST(dm_new_with_options(&opts, NULL), DM_ERR_NULL);
    CHECK_ST(dm_new_with_options(&opts, &out), DM_ERR_INVALID);
    CHECK(out == sentinel);

    CHECK(dm_ref(NULL) == NULL);
    dm_free(NULL);
    dm_iter_free(NULL);
    dm_bytes_free(NULL, 0);
    CHECK_EQ(dm_len(NULL), 0);
    CHECK(!dm_is_empty(NULL));
    CHECK_EQ(dm_capacity(NULL), 0);
    CHECK_EQ(dm_shard_count(NULL), 0);
    CHECK(dm_iter_new(NULL) == NULL);
    CHECK(!dm_contains_key(NULL, K, KL));
    CHECK(!dm_contains_key(NULL, NULL, 0));
    CHECK_ST(dm_clear(NULL), DM_ERR_NULL);
    CHECK_ST(dm_shrink_to_fit(NULL), DM_ERR_NULL);
}

/* ------------------------------------------------------ single-key calls */

static void test_insert_family(void) {
    dm_map *m = fixture();
    CHECK(unchanged(m));

    /* dm_insert */
    ERR(dm_insert(NULL, NEWK, NEWKL, V, VL), DM_ERR_NULL);
    ERR(dm_insert(m, NULL, 1, V, VL), DM_ERR_NULL);
    ERR(dm_insert(m, K, KL, NULL, 1), DM_ERR_NULL);
    ERR(dm_insert(m, NEWK, TOO_LONG, V, VL), DM_ERR_INVALID);
    ERR(dm_insert(m, NEWK, NEWKL, V, TOO_LONG), DM_ERR_INVALID);
    ERR(dm_insert(m, K, SIZE_MAX, V, VL), DM_ERR_INVALID);
    ERR(dm_insert(m, NULL, 1, V, TOO_LONG), DM_ERR_NULL);     /* NULL before INVALID */
    ERR(dm_insert(m, K, TOO_LONG, NULL, 1), DM_ERR_NULL);     /* ... in either order */
    ERR(dm_insert(NULL, K, TOO_LONG, V, VL), DM_ERR_NULL);
    ERR(dm_insert(m, NULL, TOO_LONG, V, VL), DM_ERR_NULL);    /* NULL with a huge length */
    CHECK(!dm_contains_key(m, NEWK, NEWKL));

    /* dm_try_insert */
    ERR(dm_try_insert(NULL, NEWK, NEWKL, V, VL), DM_ERR_NULL);
    ERR(dm_try_insert(m, NULL, 1, V, VL), DM_ERR_NULL);
    ERR(dm_try_insert(m, NEWK, NEWKL, NULL, 1), DM_ERR_NULL);
    ERR(dm_try_insert(m, NEWK, TOO_LONG, V, VL), DM_ERR_INVALID);
    ERR(dm_try_insert(m, NEWK, NEWKL, V, TOO_LONG), DM_ERR_INVALID);
    ERR(dm_try_insert(m, NEWK, TOO_LONG, NULL, 1), DM_ERR_NULL);

    /* dm_get_or_insert */
    uint8_t buf[32];
    size_t out = 4242;
    ERR(dm_get_or_insert(NULL, NEWK, NEWKL, V, VL, buf, sizeof buf, &out), DM_ERR_NULL);
    ERR(dm_get_or_insert(m, NULL, 1, V, VL, buf, sizeof buf, &out), DM_ERR_NULL);
    ERR(dm_get_or_insert(m, NEWK, NEWKL, NULL, 1, buf, sizeof buf, &out), DM_ERR_NULL);
    ERR(dm_get_or_insert(m, K, KL, V, VL, NULL, 1, &out), DM_ERR_NULL);
    ERR(dm_get_or_insert(m, NEWK, NEWKL, V, VL, buf, sizeof buf, NULL), DM_ERR_NULL);
    ERR(dm_get_or_insert(m, NEWK, TOO_LONG, V, VL, buf, sizeof buf, &out), DM_ERR_INVALID);
    ERR(dm_get_or_insert(m, NEWK, NEWKL, V, TOO_LONG, buf, sizeof buf, &out), DM_ERR_INVALID);
    ERR(dm_get_or_insert(m, K, KL, V, VL, buf, TOO_LONG, &out), DM_ERR_INVALID);
    ERR(dm_get_or_insert(m, NEWK, TOO_LONG, V, VL, buf, sizeof buf, NULL), DM_ERR_NULL);
    CHECK_EQ(out, 4242);

    /* dm_compare_and_swap */
    ERR(dm_compare_and_swap(NULL, K, KL, S("value3"), V, VL), DM_ERR_NULL);
    ERR(dm_compare_and_swap(m, NULL, 1, S("value3"), V, VL), DM_ERR_NULL);
    ERR(dm_compare_and_swap(m, K, KL, NULL, 1, V, VL), DM_ERR_NULL);
    ERR(dm_compare_and_swap(m, K, KL, S("value3"), NULL, 1), DM_ERR_NULL);
    ERR(dm_compare_and_swap(m, K, TOO_LONG, S("value3"), V, VL), DM_ERR_INVALID);
    ERR(dm_compare_and_swap(m, K, KL, (const uint8_t *)"value3", TOO_LONG, V, VL), DM_ERR_INVALID);
    ERR(dm_compare_and_swap(m, K, KL, S("value3"), V, TOO_LONG), DM_ERR_INVALID);
    ERR(dm_compare_and_swap(m, K, TOO_LONG, S("value3"), NULL, 1), DM_ERR_NULL);

    /* dm_compare_and_remove */
    ERR(dm_compare_and_remove(NULL, K, KL, S("value3")), DM_ERR_NULL);
    ERR(dm_compare_and_remove(m, NULL, 1, S("value3")), DM_ERR_NULL);
    ERR(dm_compare_and_remove(m, K, KL, NULL, 1), DM_ERR_NULL);
    ERR(dm_compare_and_remove(m, K, TOO_LONG, S("value3")), DM_ERR_INVALID);
    ERR(dm_compare_and_remove(m, K, KL, (const uint8_t *)"value3", TOO_LONG), DM_ERR_INVALID);
    ERR(dm_compare_and_remove(m, K, TOO_LONG, NULL, 1), DM_ERR_NULL);

    /* dm_swap */
    size_t old_len = 4242;
    ERR(dm_swap(NULL, K, KL, V, VL, buf, sizeof buf, &old_len), DM_ERR_NULL);
    ERR(dm_swap(m, NULL, 1, V, VL, buf, sizeof buf, &old_len), DM_ERR_NULL);
    ERR(dm_swap(m, K, KL, NULL, 1, buf, sizeof buf, &old_len), DM_ERR_NULL);
    ERR(dm_swap(m, K, KL, V, VL, NULL, 1, &old_len), DM_ERR_NULL);
    ERR(dm_swap(m, K, KL, V, VL, buf, sizeof buf, NULL), DM_ERR_NULL);
    ERR(dm_swap(m, NEWK, NEWKL, V, VL, buf, sizeof buf, NULL), DM_ERR_NULL); /* even for an absent key */
    ERR(dm_swap(m, K, TOO_LONG, V, VL, buf, sizeof buf, &old_len), DM_ERR_INVALID);
    ERR(dm_swap(m, K, KL, V, TOO_LONG, buf, sizeof buf, &old_len), DM_ERR_INVALID);
    ERR(dm_swap(m, K, KL, V, VL, buf, TOO_LONG, &old_len), DM_ERR_INVALID);
    ERR(dm_swap(m, K, KL, V, TOO_LONG, buf, sizeof buf, NULL), DM_ERR_NULL);
    CHECK_EQ(old_len, 4242);

    /* dm_add_i64 */
    int64_t r = 4242;
    ERR(dm_add_i64(NULL, S("ctr"), 1, &r), DM_ERR_NULL);
    ERR(dm_add_i64(m, NULL, 1, 1, &r), DM_ERR_NULL);
    ERR(dm_add_i64(m, (const uint8_t *)"ctr", TOO_LONG, 1, &r), DM_ERR_INVALID);
    ERR(dm_add_i64(m, S("short"), 1, &r), DM_ERR_INVALID); /* existing value not 8 bytes */
    ERR(dm_add_i64(m, K, KL, 1, &r), DM_ERR_INVALID);
    ERR(dm_add_i64(m, K, KL, 1, NULL), DM_ERR_INVALID);
    CHECK_I64(r, 4242);
    dm_free(m);
}

static void test_read_remove_family(void) {
    dm_map *m = fixture();
    uint8_t buf[32];
    memset(buf, 'z', sizeof buf);

    /* dm_get_copy */
    size_t len = 4242;
    ERR(dm_get_copy(NULL, K, KL, buf, sizeof buf, &len), DM_ERR_NULL);
    ERR(dm_get_copy(m, NULL, 1, buf, sizeof buf, &len), DM_ERR_NULL);
    ERR(dm_get_copy(m, K, KL, NULL, 1, &len), DM_ERR_NULL);
    ERR(dm_get_copy(m, K, KL, buf, sizeof buf, NULL), DM_ERR_NULL);
    ERR(dm_get_copy(m, K, KL, NULL, 0, NULL), DM_ERR_NULL);
    ERR(dm_get_copy(m, K, TOO_LONG, buf, sizeof buf, &len), DM_ERR_INVALID);
    ERR(dm_get_copy(m, K, KL, buf, TOO_LONG, &len), DM_ERR_INVALID);
    ERR(dm_get_copy(m, K, TOO_LONG, buf, sizeof buf, NULL), DM_ERR_NULL);
    CHECK_EQ(len, 4242);
    CHECK_EQ(buf[0], 'z');

    /* dm_get_with */
    g_calls = 0;
    ERR(dm_get_with(NULL, K, KL, read_cb, NULL), DM_ERR_NULL);
    ERR(dm_get_with(m, NULL, 1, read_cb, NULL), DM_ERR_NULL);
    ERR(dm_get_with(m, K, KL, NULL, NULL), DM_ERR_NULL);
    ERR(dm_get_with(m, K, TOO_LONG, read_cb, NULL), DM_ERR_INVALID);
    ERR(dm_get_with(m, K, TOO_LONG, NULL, NULL), DM_ERR_NULL);
    CHECK_EQ(g_calls, 0);

    /* dm_get_alloc */
    uint8_t *p = buf;
    len = 4242;
    ERR(dm_get_alloc(NULL, K, KL, &p, &len), DM_ERR_NULL);
    ERR(dm_get_alloc(m, NULL, 1, &p, &len), DM_ERR_NULL);
    ERR(dm_get_alloc(m, K, KL, NULL, &len), DM_ERR_NULL);
    ERR(dm_get_alloc(m, K, KL, &p, NULL), DM_ERR_NULL);
    ERR(dm_get_alloc(m, K, TOO_LONG, &p, &len), DM_ERR_INVALID);
    ERR(dm_get_alloc(m, K, TOO_LONG, NULL, &len), DM_ERR_NULL);
    CHECK(p == buf);
    CHECK_EQ(len, 4242);

    /* dm_contains_key: false for anything invalid, even if the bytes exist. */
    CHECK(!dm_contains_key(m, NULL, 1));
    CHECK(!dm_contains_key(m, K, TOO_LONG));
    CHECK(dm_contains_key(m, K, KL));

    /* dm_remove */
    len = 4242;
    ERR(dm_remove(NULL, K, KL, buf, sizeof buf, &len), DM_ERR_NULL);
    ERR(dm_remove(m, NULL, 1, buf, sizeof buf, &len), DM_ERR_NULL);
    ERR(dm_remove(m, NULL, 1, NULL, 0, NULL), DM_ERR_NULL);
    ERR(dm_remove(m, K, KL, NULL, 1, &len), DM_ERR_NULL); /* buf required when val_len is given */
    ERR(dm_remove(m, K, TOO_LONG, buf, sizeof buf, &len), DM_ERR_INVALID);
    ERR(dm_remove(m, K, TOO_LONG, NULL, 0, NULL), DM_ERR_INVALID);
    ERR(dm_remove(m, K, KL, buf, TOO_LONG, &len), DM_ERR_INVALID);
    ERR(dm_remove(m, K, TOO_LONG, NULL, 1, &len), DM_ERR_NULL);
    CHECK_EQ(len, 4242);

    /* dm_remove_if */
    g_calls = 0;
    ERR(dm_remove_if(NULL, K, KL, visit_cb, NULL), DM_ERR_NULL);
    ERR(dm_remove_if(m, NULL, 1, visit_cb, NULL), DM_ERR_NULL);
    ERR(dm_remove_if(m, K, KL, NULL, NULL), DM_ERR_NULL);
    ERR(dm_remove_if(m, K, TOO_LONG, visit_cb, NULL), DM_ERR_INVALID);
    ERR(dm_remove_if(m, K, TOO_LONG, NULL, NULL), DM_ERR_NULL);
    CHECK_EQ(g_calls, 0);

    /* dm_entry_update */
    g_calls = 0;
    ERR(dm_entry_update(NULL, K, KL, entry_cb, NULL), DM_ERR_NULL);
    ERR(dm_entry_update(m, NULL, 1, entry_cb, NULL), DM_ERR_NULL);
    ERR(dm_entry_update(m, K, KL, NULL, NULL), DM_ERR_NULL);
    ERR(dm_entry_update(m, K, TOO_LONG, entry_cb, NULL), DM_ERR_INVALID);
    ERR(dm_entry_update(m, K, TOO_LONG, NULL, NULL), DM_ERR_NULL);
    CHECK_EQ(g_calls, 0);

    /* Whole-map walks */
    g_calls = 0;
    ERR(dm_for_each(NULL, visit_cb, NULL), DM_ERR_NULL);
    ERR(dm_for_each(m, NULL, NULL), DM_ERR_NULL);
    ERR(dm_for_each_mut(NULL, visit_mut_cb, NULL), DM_ERR_NULL);
    ERR(dm_for_each_mut(m, NULL, NULL), DM_ERR_NULL);
    ERR(dm_retain_cb(NULL, visit_cb, NULL), DM_ERR_NULL);
    ERR(dm_retain_cb(m, NULL, NULL), DM_ERR_NULL);
    CHECK_EQ(g_calls, 0);
    dm_free(m);
}

/* ----------------------------------------------------------- entry API */

struct entry_err_ctx {
    int calls;
};

static void entry_err_cb(dm_entry *e, void *ctx) {
    struct entry_err_ctx *c = ctx;
    c->calls++;
    /* Bad values: DM_ERR_NULL / DM_ERR_INVALID, the entry unchanged. */
    CHECK_ST(dm_entry_set(e, NULL, 1), DM_ERR_NULL);
    CHECK_ST(dm_entry_set(e, V, TOO_LONG), DM_ERR_INVALID);
    CHECK_ST(dm_entry_set(e, NULL, TOO_LONG), DM_ERR_NULL);
    CHECK(dm_entry_occupied(e));
    size_t len = 0;
    const uint8_t *v = dm_entry_value(e, &len);
    CHECK_MEM(v, len, "value3", 6);
}

static void entry_vacant_err_cb(dm_entry *e, void *ctx) {
    struct entry_err_ctx *c = ctx;
    c->calls++;
    CHECK_ST(dm_entry_set(e, NULL, 1), DM_ERR_NULL);
    CHECK_ST(dm_entry_set(e, V, TOO_LONG), DM_ERR_INVALID);
    CHECK(!dm_entry_occupied(e));
    CHECK(dm_entry_value(e, NULL) == NULL);
}

static void test_entry_errors(void) {
    /* NULL entry handles. */
    size_t len = 4242;
    CHECK(!dm_entry_occupied(NULL));
    CHECK(dm_entry_key(NULL, &len) == NULL);
    CHECK(dm_entry_key(NULL, NULL) == NULL);
    CHECK(dm_entry_value(NULL, &len) == NULL);
    CHECK(dm_entry_value(NULL, NULL) == NULL);
    CHECK(dm_entry_value_mut(NULL, &len) == NULL);
    CHECK(dm_entry_value_mut(NULL, NULL) == NULL);
    CHECK_EQ(len, 4242);
    CHECK_ST(dm_entry_set(NULL, V, VL), DM_ERR_NULL);
    CHECK_ST(dm_entry_set(NULL, NULL, 0), DM_ERR_NULL);
    CHECK_ST(dm_entry_set(NULL, V, TOO_LONG), DM_ERR_NULL);
    CHECK_ST(dm_entry_remove(NULL), DM_ERR_NULL);

    dm_map *m = fixture();
    struct entry_err_ctx c = {0};
    ERR(dm_entry_update(m, K, KL, entry_err_cb, &c), DM_OK);
    CHECK_EQ(c.calls, 1);
    ERR(dm_entry_update(m, NEWK, NEWKL, entry_vacant_err_cb, &c), DM_OK);
    CHECK_EQ(c.calls, 2);
    CHECK(!dm_contains_key(m, NEWK, NEWKL));
    dm_free(m);
}

/* --------------------------------------------------------------- cursor */

static void test_iter_errors(void) {
    dm_map *m = fixture();
    dm_iter *it = dm_iter_new(m);
    CHECK(it != NULL);
    const uint8_t *k = K, *v = V;
    size_t kl = 4242, vl = 4242;
    CHECK_ST(dm_iter_next(NULL, &k, &kl, &v, &vl), DM_ERR_NULL);
    CHECK_ST(dm_iter_next(it, NULL, &kl, &v, &vl), DM_ERR_NULL);
    CHECK_ST(dm_iter_next(it, &k, NULL, &v, &vl), DM_ERR_NULL);
    CHECK_ST(dm_iter_next(it, &k, &kl, NULL, &vl), DM_ERR_NULL);
    CHECK_ST(dm_iter_next(it, &k, &kl, &v, NULL), DM_ERR_NULL);
    CHECK_ST(dm_iter_next(it, NULL, NULL, NULL, NULL), DM_ERR_NULL);
    CHECK(k == K && v == V);
    CHECK_EQ(kl, 4242);
    CHECK_EQ(vl, 4242);
    /* The errors did not advance the cursor: all entries still come out. */
    size_t n = 0;
    while (dm_iter_next(it, &k, &kl, &v, &vl) == DM_OK) n++;
    CHECK_EQ(n, NKEYS + 1);
    CHECK_ST(dm_iter_next(it, &k, &kl, NULL, &vl), DM_ERR_NULL); /* also at the end */
    CHECK_ST(dm_iter_next(it, &k, &kl, &v, &vl), DM_NOT_FOUND);
    dm_iter_free(it);
    CHECK(unchanged(m));
    dm_free(m);
}

/* -------------------------------------------------------------- batches */

static void test_batch_errors(void) {
    dm_map *m = fixture();
    /* keys[0] is new, keys[1] existing: an error must insert/remove neither. */
    dm_slice keys[3] = {{NEWK, NEWKL}, {K, KL}, {(const uint8_t *)"key5", 4}};
    dm_slice vals[3] = {{V, VL}, {V, VL}, {V, VL}};
    dm_slice bad_null[3] = {{NEWK, NEWKL}, {K, KL}, {NULL, 1}};
    dm_slice bad_long[3] = {{NEWK, NEWKL}, {K, KL}, {V, TOO_LONG}};
    dm_slice bad_null_long[3] = {{NULL, 1}, {K, TOO_LONG}, {V, VL}};

    /* dm_extend */
    ERR(dm_extend(NULL, keys, vals, 3), DM_ERR_NULL);
    ERR(dm_extend(m, NULL, vals, 3), DM_ERR_NULL);
    ERR(dm_extend(m, keys, NULL, 3), DM_ERR_NULL);
    ERR(dm_extend(m, bad_null, vals, 3), DM_ERR_NULL);
    ERR(dm_extend(m, keys, bad_null, 3), DM_ERR_NULL);
    ERR(dm_extend(m, bad_long, vals, 3), DM_ERR_INVALID);
    ERR(dm_extend(m, keys, bad_long, 3), DM_ERR_INVALID);
    ERR(dm_extend(m, bad_null_long, vals, 3), DM_ERR_NULL);
    ERR(dm_extend(m, keys, bad_null_long, 3), DM_ERR_NULL);
    ERR(dm_extend(m, keys, vals, SIZE_MAX), DM_ERR_INVALID); /* no array can be that long */
    ERR(dm_extend(NULL, NULL, NULL, 0), DM_ERR_NULL);
    ERR(dm_extend(m, NULL, NULL, 0), DM_OK);
    CHECK(!dm_contains_key(m, NEWK, NEWKL));

    /* dm_get_many */
    uint8_t buf[64];
    size_t lens[3] = {4242, 4242, 4242}, used = 4242;
    ERR(dm_get_many(NULL, keys, 3, buf, sizeof buf, lens, &used), DM_ERR_NULL);
    ERR(dm_get_many(m, NULL, 3, buf, sizeof buf, lens, &used), DM_ERR_NULL);
    ERR(dm_get_many(m, keys, 3, NULL, 1, lens, &used), DM_ERR_NULL);
    ERR(dm_get_many(m, keys, 3, buf, sizeof buf, NULL, &used), DM_ERR_NULL);
    ERR(dm_get_many(m, keys, 3, buf, sizeof buf, lens, NULL), DM_ERR_NULL);
    ERR(dm_get_many(m, bad_null, 3, buf, sizeof buf, lens, &used), DM_ERR_NULL);
    ERR(dm_get_many(m, bad_long, 3, buf, sizeof buf, lens, &used), DM_ERR_INVALID);
    ERR(dm_get_many(m, keys, 3, buf, TOO_LONG, lens, &used), DM_ERR_INVALID);
    ERR(dm_get_many(m, bad_null_long, 3, buf, sizeof buf, lens, &used), DM_ERR_NULL);
    ERR(dm_get_many(m, keys, SIZE_MAX, buf, sizeof buf, lens, &used), DM_ERR_INVALID);
    ERR(dm_get_many(m, NULL, 0, NULL, 0, NULL, NULL), DM_ERR_NULL); /* used is always required */
    CHECK_EQ(lens[0], 4242);
    CHECK_EQ(lens[1], 4242);
    CHECK_EQ(lens[2], 4242);
    CHECK_EQ(used, 4242);

    /* dm_remove_many */
    size_t removed = 4242;
    ERR(dm_remove_many(NULL, keys, 3, &removed), DM_ERR_NULL);
    ERR(dm_remove_many(m, NULL, 3, &removed), DM_ERR_NULL);
    ERR(dm_remove_many(m, bad_null, 3, &removed), DM_ERR_NULL);
    ERR(dm_remove_many(m, bad_long, 3, &removed), DM_ERR_INVALID);
    ERR(dm_remove_many(m, bad_null_long, 3, &removed), DM_ERR_NULL);
    ERR(dm_remove_many(m, keys, SIZE_MAX, &removed), DM_ERR_INVALID);
    ERR(dm_remove_many(NULL, NULL, 0, NULL), DM_ERR_NULL);
    CHECK_EQ(removed, 4242);
    dm_free(m);
}

/* ----------------------------------------------------------- inspection */

static void test_inspect_errors(void) {
    dm_map *m = fixture();
    size_t len = 4242;
    ERR(dm_shard_len(NULL, 0, &len), DM_ERR_NULL);
    ERR(dm_shard_len(m, 0, NULL), DM_ERR_NULL);
    ERR(dm_shard_len(m, 4, &len), DM_ERR_INVALID);
    ERR(dm_shard_len(m, SIZE_MAX, &len), DM_ERR_INVALID);
    ERR(dm_shard_len(m, 4, NULL), DM_ERR_NULL);
    ERR(dm_shard_len(NULL, 0, NULL), DM_ERR_NULL);
    CHECK_EQ(len, 4242);
    dm_stats st;
    memset(&st, 0x5a, sizeof st);
    dm_stats before = st;
    ERR(dm_stats_get(NULL, &st), DM_ERR_NULL);
    ERR(dm_stats_get(m, NULL), DM_ERR_NULL);
    CHECK(memcmp(&st, &before, sizeof st) == 0);
    dm_free(m);
}

/* ------------------------------------------------ allocation failure */

/* Copying a 64 TiB value must fail cleanly: the library reserves the copy
 * before reading the bytes, so `V` (10 bytes) is never read past its end.
 * Skipped where the kernel is set to always overcommit. */
static bool huge_allocations_fail(void) {
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int mode = 0;
    if (f != NULL) {
        if (fscanf(f, "%d", &mode) != 1) mode = 0;
        fclose(f);
    }
    return mode != 1;
}

static void big_set_cb(dm_entry *e, void *ctx) {
    (void)ctx;
    CHECK_ST(dm_entry_set(e, V, (size_t)1 << 46), DM_ERR_NO_MEMORY);
    size_t len = 0;
    const uint8_t *v = dm_entry_value(e, &len);
    CHECK_MEM(v, len, "value3", 6); /* entry unchanged */
}

static void big_set_vacant_cb(dm_entry *e, void *ctx) {
    (void)ctx;
    CHECK_ST(dm_entry_set(e, V, (size_t)1 << 46), DM_ERR_NO_MEMORY);
    CHECK(!dm_entry_occupied(e));
}

static void test_no_memory(void) {
    if (!huge_allocations_fail()) {
        printf("vm.overcommit_memory=1: skipping the 64 TiB allocation checks\n");
        return;
    }
    const size_t huge = (size_t)1 << 46;
    dm_map *m = fixture();
    uint8_t buf[16];
    size_t out = 4242;
    ERR(dm_insert(m, NEWK, NEWKL, V, huge), DM_ERR_NO_MEMORY);
    ERR(dm_insert(m, K, KL, V, huge), DM_ERR_NO_MEMORY);
    ERR(dm_try_insert(m, NEWK, NEWKL, V, huge), DM_ERR_NO_MEMORY);
    ERR(dm_get_or_insert(m, NEWK, NEWKL, V, huge, buf, sizeof buf, &out), DM_ERR_NO_MEMORY);
    CHECK_EQ(out, 4242);
    ERR(dm_compare_and_swap(m, K, KL, S("value3"), V, huge), DM_ERR_NO_MEMORY);
    ERR(dm_swap(m, K, KL, V, huge, buf, sizeof buf, &out), DM_ERR_NO_MEMORY);
    ERR(dm_swap(m, NEWK, NEWKL, V, huge, buf, sizeof buf, &out), DM_ERR_NO_MEMORY);
    CHECK_EQ(out, 4242);
    dm_slice keys[2] = {{NEWK, NEWKL}, {K, KL}};
    dm_slice vals[2] = {{V, VL}, {V, huge}};
    ERR(dm_extend(m, keys, vals, 2), DM_ERR_NO_MEMORY); /* values are copied before anything is inserted */
    ERR(dm_entry_update(m, K, KL, big_set_cb, NULL), DM_OK);
    ERR(dm_entry_update(m, NEWK, NEWKL, big_set_vacant_cb, NULL), DM_OK);
    /* A key that exists: dm_get_or_insert never copies `val`. */
    out = 0;
    CHECK_ST(dm_get_or_insert(m, K, KL, V, huge, buf, sizeof buf, &out), DM_EXISTS);
    CHECK_MEM(buf, out, "value3", 6);
    CHECK(unchanged(m));
    dm_free(m);
}

int main(void) {
    test_create_errors();
    test_insert_family();
    test_read_remove_family();
    test_entry_errors();
    test_iter_errors();
    test_batch_errors();
    test_inspect_errors();
    test_no_memory();
    return check_finish();
}
