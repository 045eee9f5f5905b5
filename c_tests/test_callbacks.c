/*
 * test_callbacks.c: the six callback kinds (dm_get_with, dm_remove_if,
 * dm_entry_update, dm_for_each, dm_for_each_mut, dm_retain_cb):
 *   - reentrancy: every dm_ call on the same map from inside returns
 *     DM_ERR_REENTRANT (or its documented plain value), argument errors come
 *     first, dm_ref / dm_free / dm_shard_count work, other maps work;
 *   - dm_free of the last reference from inside a callback (run under ASan);
 *   - the entry API (or_insert, and_modify, or_default, alter, several
 *     changes in one callback, in-place mutation);
 *   - walks (for_each, for_each_mut, retain) and the dm_iter cursor,
 *     including a cursor outliving every user reference.
 */
#include "check.h"

static bool has_value(const dm_map *m, const uint8_t *key, size_t key_len, const void *want, size_t want_len) {
    uint8_t buf[256];
    size_t len = 0;
    if (dm_get_copy(m, key, key_len, buf, sizeof buf, &len) != DM_OK) return false;
    return len == want_len && (want_len == 0 || memcmp(buf, want, want_len) == 0);
}

/* ================================================================
 * Reentrancy
 * ================================================================ */

enum { NFIX = 20 };

/* The fixture for the reentrancy tests: r0..r19 -> v0..v19. */
static void fill(dm_map *m) {
    char k[16], v[16];
    for (int i = 0; i < NFIX; i++) {
        int kn = snprintf(k, sizeof k, "r%d", i), vn = snprintf(v, sizeof v, "v%d", i);
        dm_insert(m, (const uint8_t *)k, (size_t)kn, (const uint8_t *)v, (size_t)vn);
    }
}

static bool is_fixture(const dm_map *m) {
    if (dm_len(m) != NFIX) return false;
    char k[16], v[16];
    for (int i = 0; i < NFIX; i++) {
        int kn = snprintf(k, sizeof k, "r%d", i), vn = snprintf(v, sizeof v, "v%d", i);
        if (!has_value(m, (const uint8_t *)k, (size_t)kn, v, (size_t)vn)) return false;
    }
    return true;
}

struct probe {
    dm_map *self;  /* the map whose callback is running */
    dm_map *other; /* an unrelated map */
    dm_iter *it;   /* a cursor over `self`, created before the callback */
    size_t shards; /* dm_shard_count(self) */
    int probes;    /* how many times probe_all ran */
    int calls;     /* callback invocations */
    int inner;     /* callbacks that must not have run */
};

static void never_read(const uint8_t *v, size_t n, void *ctx) {
    (void)v, (void)n;
    ((struct probe *)ctx)->inner++;
}
static bool never_visit(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    (void)k, (void)kn, (void)v, (void)vn;
    ((struct probe *)ctx)->inner++;
    return true;
}
static bool never_visit_mut(const uint8_t *k, size_t kn, uint8_t *v, size_t vn, void *ctx) {
    (void)k, (void)kn, (void)v, (void)vn;
    ((struct probe *)ctx)->inner++;
    return true;
}
static void never_entry(dm_entry *e, void *ctx) {
    (void)e;
    ((struct probe *)ctx)->inner++;
}

/* Inside a callback of `other` that itself runs inside a callback of `self`:
 * both maps are now off limits on this thread. */
static bool nested_visit(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    (void)k, (void)kn, (void)v, (void)vn;
    struct probe *p = ctx;
    CHECK_EQ(dm_len(p->self), SIZE_MAX);
    CHECK_EQ(dm_len(p->other), SIZE_MAX);
    CHECK_ST(dm_insert(p->other, S("nested"), S("no")), DM_ERR_REENTRANT);
    CHECK(!dm_contains_key(p->other, S("from-cb")));
    /* A third map is fine. */
    dm_map *third = dm_new();
    CHECK(third != NULL);
    CHECK_ST(dm_insert(third, S("t"), S("3")), DM_OK);
    CHECK_EQ(dm_len(third), 1);
    dm_free(third);
    return false; /* one visit is enough */
}

static void other_entry(dm_entry *e, void *ctx) {
    (void)ctx;
    dm_add_i64(NULL, NULL, 0, 0, NULL); /* harmless: DM_ERR_NULL */
    size_t len = 0;
    const uint8_t *v = dm_entry_value(e, &len);
    int64_t n = 0;
    if (v != NULL && len == 8) memcpy(&n, v, 8);
    n++;
    dm_entry_set(e, (const uint8_t *)&n, 8);
}

/* Every dm_ function on p->self, from inside one of its callbacks. */
static void probe_all(struct probe *p) {
    dm_map *m = p->self;
    p->probes++;
    uint8_t buf[32];
    memset(buf, 'z', sizeof buf);
    size_t len = 4242;
    int64_t r = 4242;
    const uint8_t *kp = buf, *vp = buf;
    size_t kl = 4242, vl = 4242;

    /* Plain-value functions. */
    CHECK_EQ(dm_len(m), SIZE_MAX);
    CHECK(!dm_is_empty(m));
    CHECK_EQ(dm_capacity(m), SIZE_MAX);
    CHECK(!dm_contains_key(m, S("r1")));
    CHECK(dm_iter_new(m) == NULL);
    /* Allowed: dm_shard_count, dm_ref, dm_free. */
    CHECK_EQ(dm_shard_count(m), p->shards);
    dm_map *ref = dm_ref(m);
    CHECK(ref == m);
    dm_free(ref);

    /* Status functions: DM_ERR_REENTRANT, nothing happens, outputs untouched. */
    CHECK_ST(dm_insert(m, S("new"), S("x")), DM_ERR_REENTRANT);
    CHECK_ST(dm_insert(m, S("r1"), S("x")), DM_ERR_REENTRANT);
    CHECK_ST(dm_get_copy(m, S("r1"), buf, sizeof buf, &len), DM_ERR_REENTRANT);
    CHECK_ST(dm_get_with(m, S("r1"), never_read, p), DM_ERR_REENTRANT);
    uint8_t *alloc = buf;
    CHECK_ST(dm_get_alloc(m, S("r1"), &alloc, &len), DM_ERR_REENTRANT);
    CHECK(alloc == buf);
    CHECK_ST(dm_remove(m, S("r1"), NULL, 0, NULL), DM_ERR_REENTRANT);
    CHECK_ST(dm_remove(m, S("r1"), buf, sizeof buf, &len), DM_ERR_REENTRANT);
    CHECK_ST(dm_remove_if(m, S("r1"), never_visit, p), DM_ERR_REENTRANT);
    CHECK_ST(dm_clear(m), DM_ERR_REENTRANT);
    CHECK_ST(dm_shrink_to_fit(m), DM_ERR_REENTRANT);
    CHECK_ST(dm_try_insert(m, S("new"), S("x")), DM_ERR_REENTRANT);
    CHECK_ST(dm_get_or_insert(m, S("new"), S("x"), buf, sizeof buf, &len), DM_ERR_REENTRANT);
    CHECK_ST(dm_compare_and_swap(m, S("r1"), S("v1"), S("x")), DM_ERR_REENTRANT);
    CHECK_ST(dm_compare_and_remove(m, S("r1"), S("v1")), DM_ERR_REENTRANT);
    CHECK_ST(dm_swap(m, S("r1"), S("x"), buf, sizeof buf, &len), DM_ERR_REENTRANT);
    CHECK_ST(dm_add_i64(m, S("ctr"), 1, &r), DM_ERR_REENTRANT);
    CHECK_ST(dm_entry_update(m, S("r1"), never_entry, p), DM_ERR_REENTRANT);
    CHECK_ST(dm_for_each(m, never_visit, p), DM_ERR_REENTRANT);
    CHECK_ST(dm_for_each_mut(m, never_visit_mut, p), DM_ERR_REENTRANT);
    CHECK_ST(dm_retain_cb(m, never_visit, p), DM_ERR_REENTRANT);
    CHECK_ST(dm_iter_next(p->it, &kp, &kl, &vp, &vl), DM_ERR_REENTRANT);
    dm_slice keys[2] = {{(const uint8_t *)"r1", 2}, {(const uint8_t *)"new", 3}};
    dm_slice vals[2] = {{(const uint8_t *)"x", 1}, {(const uint8_t *)"y", 1}};
    size_t lens[2] = {4242, 4242}, used = 4242, removed = 4242;
    CHECK_ST(dm_extend(m, keys, vals, 2), DM_ERR_REENTRANT);
    CHECK_ST(dm_get_many(m, keys, 2, buf, sizeof buf, lens, &used), DM_ERR_REENTRANT);
    CHECK_ST(dm_remove_many(m, keys, 2, &removed), DM_ERR_REENTRANT);
    CHECK_ST(dm_shard_len(m, 0, &len), DM_ERR_REENTRANT);
    dm_stats st;
    memset(&st, 0x5a, sizeof st);
    CHECK_ST(dm_stats_get(m, &st), DM_ERR_REENTRANT);
    CHECK_EQ(st.len, 0x5a5a5a5a5a5a5a5aULL);
    CHECK_EQ(len, 4242);
    CHECK_I64(r, 4242);
    CHECK(kp == buf && vp == buf);
    CHECK_EQ(kl, 4242);
    CHECK_EQ(vl, 4242);
    CHECK_EQ(lens[0], 4242);
    CHECK_EQ(used, 4242);
    CHECK_EQ(removed, 4242);
    CHECK_EQ(buf[0], 'z');

    /* Argument errors are reported before DM_ERR_REENTRANT. */
    CHECK_ST(dm_insert(m, NULL, 1, S("x")), DM_ERR_NULL);
    CHECK_ST(dm_insert(m, S("k"), NULL, 1), DM_ERR_NULL);
    CHECK_ST(dm_insert(m, (const uint8_t *)"k", TOO_LONG, S("x")), DM_ERR_INVALID);
    CHECK_ST(dm_get_copy(m, S("r1"), buf, sizeof buf, NULL), DM_ERR_NULL);
    CHECK_ST(dm_get_copy(m, S("r1"), buf, TOO_LONG, &len), DM_ERR_INVALID);
    CHECK_ST(dm_get_with(m, S("r1"), NULL, p), DM_ERR_NULL);
    CHECK_ST(dm_get_with(m, (const uint8_t *)"r1", TOO_LONG, never_read, p), DM_ERR_INVALID);
    CHECK_ST(dm_get_alloc(m, S("r1"), NULL, &len), DM_ERR_NULL);
    CHECK_ST(dm_remove(m, NULL, 1, NULL, 0, NULL), DM_ERR_NULL);
    CHECK_ST(dm_remove_if(m, S("r1"), NULL, p), DM_ERR_NULL);
    CHECK_ST(dm_try_insert(m, (const uint8_t *)"k", TOO_LONG, S("x")), DM_ERR_INVALID);
    CHECK_ST(dm_get_or_insert(m, S("k"), S("x"), buf, sizeof buf, NULL), DM_ERR_NULL);
    CHECK_ST(dm_compare_and_swap(m, S("r1"), NULL, 1, S("x")), DM_ERR_NULL);
    CHECK_ST(dm_compare_and_remove(m, S("r1"), (const uint8_t *)"v1", TOO_LONG), DM_ERR_INVALID);
    CHECK_ST(dm_swap(m, S("r1"), S("x"), buf, sizeof buf, NULL), DM_ERR_NULL);
    CHECK_ST(dm_add_i64(m, NULL, 1, 1, &r), DM_ERR_NULL);
    CHECK_ST(dm_add_i64(m, (const uint8_t *)"ctr", TOO_LONG, 1, &r), DM_ERR_INVALID);
    CHECK_ST(dm_entry_update(m, S("r1"), NULL, p), DM_ERR_NULL);
    CHECK_ST(dm_entry_update(m, (const uint8_t *)"r1", TOO_LONG, never_entry, p), DM_ERR_INVALID);
    CHECK_ST(dm_for_each(m, NULL, p), DM_ERR_NULL);
    CHECK_ST(dm_for_each_mut(m, NULL, p), DM_ERR_NULL);
    CHECK_ST(dm_retain_cb(m, NULL, p), DM_ERR_NULL);
    CHECK_ST(dm_iter_next(p->it, NULL, &kl, &vp, &vl), DM_ERR_NULL);
    dm_slice bad_null[1] = {{NULL, 1}}, bad_long[1] = {{(const uint8_t *)"k", TOO_LONG}};
    CHECK_ST(dm_extend(m, bad_null, vals, 1), DM_ERR_NULL);
    CHECK_ST(dm_extend(m, keys, bad_long, 1), DM_ERR_INVALID);
    CHECK_ST(dm_extend(m, NULL, vals, 1), DM_ERR_NULL);
    CHECK_ST(dm_get_many(m, keys, 2, buf, sizeof buf, lens, NULL), DM_ERR_NULL);
    CHECK_ST(dm_get_many(m, bad_long, 1, buf, sizeof buf, lens, &used), DM_ERR_INVALID);
    CHECK_ST(dm_remove_many(m, bad_null, 1, &removed), DM_ERR_NULL);
    CHECK_ST(dm_remove_many(m, bad_long, 1, &removed), DM_ERR_INVALID);
    CHECK_ST(dm_shard_len(m, 0, NULL), DM_ERR_NULL);
    CHECK_ST(dm_stats_get(m, NULL), DM_ERR_NULL);
    CHECK_EQ(p->inner, 0); /* no callback passed above ever ran */

    /* Another map works normally, including its own callbacks. */
    dm_status st_ins = dm_insert(p->other, S("from-cb"), S("yes"));
    CHECK(st_ins == DM_OK || st_ins == DM_REPLACED);
    CHECK(has_value(p->other, S("from-cb"), "yes", 3));
    CHECK(dm_contains_key(p->other, S("from-cb")));
    CHECK(!dm_is_empty(p->other));
    CHECK_ST(dm_entry_update(p->other, S("counter"), other_entry, NULL), DM_OK);
    dm_iter *oit = dm_iter_new(p->other);
    CHECK(oit != NULL);
    size_t seen = 0;
    while (dm_iter_next(oit, &kp, &kl, &vp, &vl) == DM_OK) seen++;
    dm_iter_free(oit);
    CHECK_EQ(seen, dm_len(p->other));
    CHECK_ST(dm_for_each(p->other, nested_visit, p), DM_STOPPED);
    /* Back in self's callback: self still off limits, other usable again. */
    CHECK_EQ(dm_len(m), SIZE_MAX);
    CHECK_EQ(dm_len(p->other), 2);
}

static void probe_read_cb(const uint8_t *v, size_t n, void *ctx) {
    struct probe *p = ctx;
    p->calls++;
    CHECK_MEM(v, n, "v1", 2);
    probe_all(p);
}
static bool probe_visit_cb(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    (void)k, (void)kn, (void)v, (void)vn;
    struct probe *p = ctx;
    if (p->calls++ == 0) probe_all(p);
    return true; /* for_each: go on; retain: keep; remove_if: remove */
}
static bool probe_pred_cb(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    struct probe *p = ctx;
    p->calls++;
    CHECK_MEM(k, kn, "r1", 2);
    CHECK_MEM(v, vn, "v1", 2);
    probe_all(p);
    return false; /* keep it: the map must stay the fixture */
}
static bool probe_visit_mut_cb(const uint8_t *k, size_t kn, uint8_t *v, size_t vn, void *ctx) {
    (void)k, (void)kn, (void)v, (void)vn;
    struct probe *p = ctx;
    if (p->calls++ == 0) probe_all(p);
    return true;
}
static void probe_entry_cb(dm_entry *e, void *ctx) {
    struct probe *p = ctx;
    p->calls++;
    probe_all(p);
    /* The entry itself still works. */
    size_t len = 0;
    const uint8_t *v = dm_entry_value(e, &len);
    if (dm_entry_occupied(e)) CHECK_MEM(v, len, "v1", 2);
}

enum cb_kind { K_GET_WITH, K_REMOVE_IF, K_ENTRY, K_FOR_EACH, K_FOR_EACH_MUT, K_RETAIN, K_COUNT };
static const char *const kind_name[K_COUNT] = {"dm_get_with",  "dm_remove_if",    "dm_entry_update",
                                               "dm_for_each", "dm_for_each_mut", "dm_retain_cb"};

static void test_reentrancy(enum cb_kind kind) {
    dm_map *m = MUST(dm_with_shards(8));
    dm_map *other = MUST(dm_new());
    fill(m);
    struct probe p = {.self = m, .other = other, .it = dm_iter_new(m), .shards = 8};
    CHECK(p.it != NULL);
    dm_status st = DM_ERR_PANIC;
    switch (kind) {
    case K_GET_WITH: st = dm_get_with(m, S("r1"), probe_read_cb, &p); break;
    case K_REMOVE_IF: st = dm_remove_if(m, S("r1"), probe_pred_cb, &p); break;
    case K_ENTRY: st = dm_entry_update(m, S("r1"), probe_entry_cb, &p); break;
    case K_FOR_EACH: st = dm_for_each(m, probe_visit_cb, &p); break;
    case K_FOR_EACH_MUT: st = dm_for_each_mut(m, probe_visit_mut_cb, &p); break;
    case K_RETAIN: st = dm_retain_cb(m, probe_visit_cb, &p); break;
    default: break;
    }
    const dm_status want = kind == K_REMOVE_IF ? DM_MISMATCH : DM_OK;
    if (!CHECK_ST(st, want)) fprintf(stderr, "    in %s\n", kind_name[kind]);
    if (!CHECK_EQ(p.probes, 1)) fprintf(stderr, "    in %s\n", kind_name[kind]);
    const int want_calls = (kind == K_FOR_EACH || kind == K_FOR_EACH_MUT || kind == K_RETAIN) ? NFIX : 1;
    CHECK_EQ(p.calls, want_calls);
    /* Nothing attempted from inside happened; the map works normally again. */
    if (!CHECK(is_fixture(m))) fprintf(stderr, "    after %s\n", kind_name[kind]);
    CHECK(!dm_contains_key(m, S("new")));
    CHECK_EQ(dm_len(other), 2);
    CHECK(has_value(other, S("from-cb"), "yes", 3));
    /* The cursor was not advanced by the refused dm_iter_next. */
    const uint8_t *k, *v;
    size_t kl, vl, n = 0;
    while (dm_iter_next(p.it, &k, &kl, &v, &vl) == DM_OK) n++;
    CHECK_EQ(n, NFIX);
    dm_iter_free(p.it);
    /* Outside a callback the same calls work. */
    CHECK_ST(dm_insert(m, S("new"), S("x")), DM_OK);
    CHECK_EQ(dm_len(m), NFIX + 1);
    dm_free(m);
    dm_free(other);
}

/* dm_entry_update on an empty map: dm_is_empty must say false inside. */
static void empty_probe_cb(dm_entry *e, void *ctx) {
    dm_map *m = ctx;
    CHECK(!dm_entry_occupied(e));
    CHECK(!dm_is_empty(m));
    CHECK_EQ(dm_len(m), SIZE_MAX);
    CHECK_EQ(dm_capacity(m), SIZE_MAX);
    CHECK(!dm_contains_key(m, S("absent")));
    CHECK(dm_iter_new(m) == NULL);
    CHECK_EQ(dm_shard_count(m), 4);
    CHECK_ST(dm_entry_set(e, S("set")), DM_OK);
}

static void test_reentrancy_empty_map(void) {
    dm_map *m = MUST(dm_with_shards(4));
    CHECK(dm_is_empty(m));
    CHECK_ST(dm_entry_update(m, S("k"), empty_probe_cb, m), DM_OK);
    CHECK(has_value(m, S("k"), "set", 3));
    dm_free(m);
}

/* ================================================================
 * dm_free of the last reference from inside a callback
 * ================================================================ */

struct freer {
    dm_map *m;
    int calls;
    bool freed;
};

static void free_read_cb(const uint8_t *v, size_t n, void *ctx) {
    struct freer *f = ctx;
    f->calls++;
    dm_free(f->m);
    f->freed = true;
    /* The value is still readable: the call holds the map. */
    CHECK_MEM(v, n, "v1", 2);
}
static bool free_visit_cb(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    struct freer *f = ctx;
    f->calls++;
    if (!f->freed) {
        dm_free(f->m);
        f->freed = true;
    }
    /* Keys and values stay valid for the rest of the walk. */
    CHECK(kn >= 2 && k[0] == 'r');
    CHECK(vn >= 2 && v[0] == 'v');
    return false; /* remove_if: keep; retain: drop everything; for_each: stop */
}
static bool free_visit_all_cb(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    free_visit_cb(k, kn, v, vn, ctx);
    return true;
}
static bool free_visit_mut_cb(const uint8_t *k, size_t kn, uint8_t *v, size_t vn, void *ctx) {
    free_visit_cb(k, kn, v, vn, ctx);
    v[0] = 'w';
    return true;
}
static void free_entry_cb(dm_entry *e, void *ctx) {
    struct freer *f = ctx;
    f->calls++;
    dm_free(f->m);
    f->freed = true;
    /* The entry can still be read and changed. */
    size_t len = 0;
    const uint8_t *v = dm_entry_value(e, &len);
    CHECK_MEM(v, len, "v1", 2);
    CHECK_ST(dm_entry_set(e, S("changed after free")), DM_OK);
    CHECK(dm_entry_occupied(e));
    CHECK_ST(dm_entry_remove(e), DM_OK);
    CHECK_ST(dm_entry_set(e, S("again")), DM_OK);
}

struct refctx {
    dm_map *m, *ref;
};

static void ref_entry_cb(dm_entry *e, void *ctx) {
    struct refctx *c = ctx;
    c->ref = dm_ref(c->m);
    CHECK_ST(dm_entry_set(e, S("kept")), DM_OK);
}

static void test_free_inside_callbacks(void) {
    for (int kind = 0; kind < K_COUNT; kind++) {
        dm_map *m = MUST(dm_with_shards(4));
        fill(m);
        struct freer f = {.m = m};
        dm_status st = DM_ERR_PANIC, want = DM_OK;
        int want_calls = 1;
        switch (kind) {
        case K_GET_WITH: st = dm_get_with(m, S("r1"), free_read_cb, &f); break;
        case K_REMOVE_IF:
            st = dm_remove_if(m, S("r1"), free_visit_cb, &f);
            want = DM_MISMATCH;
            break;
        case K_ENTRY: st = dm_entry_update(m, S("r1"), free_entry_cb, &f); break;
        case K_FOR_EACH:
            st = dm_for_each(m, free_visit_all_cb, &f);
            want_calls = NFIX;
            break;
        case K_FOR_EACH_MUT:
            st = dm_for_each_mut(m, free_visit_mut_cb, &f);
            want_calls = NFIX;
            break;
        case K_RETAIN:
            st = dm_retain_cb(m, free_visit_cb, &f);
            want_calls = NFIX;
            break;
        default: break;
        }
        if (!CHECK_ST(st, want)) fprintf(stderr, "    in %s\n", kind_name[kind]);
        CHECK(f.freed);
        CHECK_EQ(f.calls, want_calls);
        /* m is gone now (ASan/valgrind check that it was freed exactly once). */
    }

    /* A reference taken inside a callback keeps the map alive after the
     * creator's reference is released outside. */
    dm_map *m = MUST(dm_new());
    fill(m);
    struct refctx c = {m, NULL};
    CHECK_ST(dm_entry_update(m, S("r3"), ref_entry_cb, &c), DM_OK);
    CHECK(c.ref == m);
    dm_free(m);
    CHECK_EQ(dm_len(c.ref), NFIX);
    CHECK(has_value(c.ref, S("r3"), "kept", 4));
    dm_free(c.ref);
}

/* ================================================================
 * Entry API
 * ================================================================ */

/* or_insert: insert "default" if vacant; leave an existing value alone. */
static void or_insert_cb(dm_entry *e, void *ctx) {
    (void)ctx;
    if (!dm_entry_occupied(e)) CHECK_ST(dm_entry_set(e, S("default")), DM_OK);
}
/* and_modify: append "!" if occupied, nothing if vacant. */
static void and_modify_cb(dm_entry *e, void *ctx) {
    (void)ctx;
    size_t len = 0;
    const uint8_t *v = dm_entry_value(e, &len);
    if (v == NULL) return;
    uint8_t buf[64];
    if (len + 1 > sizeof buf) return;
    memcpy(buf, v, len);
    buf[len] = '!';
    CHECK_ST(dm_entry_set(e, buf, len + 1), DM_OK);
}
/* or_default: an empty value. */
static void or_default_cb(dm_entry *e, void *ctx) {
    (void)ctx;
    if (!dm_entry_occupied(e)) CHECK_ST(dm_entry_set(e, NULL, 0), DM_OK);
}
/* alter: a counter decremented in place, removed when it reaches 0,
 * created at *ctx when vacant. */
static void alter_cb(dm_entry *e, void *ctx) {
    size_t len = 0;
    uint8_t *v = dm_entry_value_mut(e, &len);
    if (v == NULL) {
        uint8_t start = *(const uint8_t *)ctx;
        CHECK_ST(dm_entry_set(e, &start, 1), DM_OK);
        return;
    }
    CHECK_EQ(len, 1);
    if (--v[0] == 0) CHECK_ST(dm_entry_remove(e), DM_OK);
}

struct steps {
    int calls;
};

/* Several sets and removes in one callback: only the final state counts,
 * and every intermediate read sees the callback's own changes. */
static void many_steps_occupied_cb(dm_entry *e, void *ctx) {
    struct steps *s = ctx;
    s->calls++;
    size_t len = 99;
    CHECK(dm_entry_occupied(e));
    const uint8_t *cur = dm_entry_value(e, &len);
    CHECK_MEM(cur, len, "orig", 4);
    CHECK_ST(dm_entry_set(e, S("a")), DM_OK);
    cur = dm_entry_value(e, &len);
    CHECK_MEM(cur, len, "a", 1);
    CHECK_ST(dm_entry_set(e, S("bb")), DM_OK);
    cur = dm_entry_value(e, &len);
    CHECK_MEM(cur, len, "bb", 2);
    CHECK_ST(dm_entry_remove(e), DM_OK);
    CHECK(!dm_entry_occupied(e));
    CHECK(dm_entry_value(e, &len) == NULL);
    CHECK(dm_entry_value_mut(e, &len) == NULL);
    CHECK_ST(dm_entry_remove(e), DM_NOT_FOUND); /* already vacant */
    CHECK_ST(dm_entry_set(e, S("ccc")), DM_OK);
    CHECK(dm_entry_occupied(e));
    uint8_t *w = dm_entry_value_mut(e, &len);
    CHECK_EQ(len, 3);
    if (w != NULL) w[1] = 'X'; /* mutate the pending value in place */
    CHECK_MEM(dm_entry_value(e, NULL), 3, "cXc", 3);
}

static void set_then_remove_cb(dm_entry *e, void *ctx) {
    struct steps *s = ctx;
    s->calls++;
    CHECK_ST(dm_entry_set(e, S("temp")), DM_OK);
    CHECK(dm_entry_occupied(e));
    CHECK_ST(dm_entry_remove(e), DM_OK);
    CHECK(!dm_entry_occupied(e));
}

static void remove_then_set_cb(dm_entry *e, void *ctx) {
    struct steps *s = ctx;
    s->calls++;
    CHECK_ST(dm_entry_remove(e), DM_OK);
    CHECK_ST(dm_entry_set(e, S("reborn")), DM_OK);
}

static void vacant_remove_cb(dm_entry *e, void *ctx) {
    struct steps *s = ctx;
    s->calls++;
    CHECK(!dm_entry_occupied(e));
    CHECK(dm_entry_value(e, NULL) == NULL);
    size_t len = 4242;
    CHECK(dm_entry_value_mut(e, &len) == NULL);
    CHECK_EQ(len, 4242); /* not written when vacant */
    CHECK_ST(dm_entry_remove(e), DM_NOT_FOUND);
}

struct key_ctx {
    const uint8_t *want;
    size_t want_len;
    int calls;
};

static void key_cb(dm_entry *e, void *ctx) {
    struct key_ctx *c = ctx;
    c->calls++;
    size_t len = 4242;
    const uint8_t *k = dm_entry_key(e, &len);
    CHECK(k != NULL); /* never NULL, even for the empty key */
    CHECK_MEM(k, len, c->want, c->want_len);
    CHECK(dm_entry_key(e, NULL) == k); /* len is optional */
}

/* In-place mutation of an existing value without dm_entry_set. */
static void upcase_cb(dm_entry *e, void *ctx) {
    (void)ctx;
    size_t len = 0;
    uint8_t *v = dm_entry_value_mut(e, &len);
    CHECK(v != NULL);
    for (size_t i = 0; v != NULL && i < len; i++)
        if (v[i] >= 'a' && v[i] <= 'z') v[i] = (uint8_t)(v[i] - 'a' + 'A');
    /* The read-only view shows the change at once. */
    CHECK_MEM(dm_entry_value(e, NULL), len, "HELLO, WORLD", 12);
}

static void nothing_cb(dm_entry *e, void *ctx) {
    (void)e;
    ++*(int *)ctx;
}

static void test_entry_api(void) {
    dm_map *m = MUST(dm_with_shards(4));

    /* or_insert */
    CHECK_ST(dm_entry_update(m, S("oi"), or_insert_cb, NULL), DM_OK);
    CHECK(has_value(m, S("oi"), "default", 7));
    CHECK_ST(dm_insert(m, S("oi2"), S("mine")), DM_OK);
    CHECK_ST(dm_entry_update(m, S("oi2"), or_insert_cb, NULL), DM_OK);
    CHECK(has_value(m, S("oi2"), "mine", 4));

    /* and_modify */
    CHECK_ST(dm_entry_update(m, S("oi2"), and_modify_cb, NULL), DM_OK);
    CHECK_ST(dm_entry_update(m, S("oi2"), and_modify_cb, NULL), DM_OK);
    CHECK(has_value(m, S("oi2"), "mine!!", 6));
    CHECK_ST(dm_entry_update(m, S("am-absent"), and_modify_cb, NULL), DM_OK);
    CHECK(!dm_contains_key(m, S("am-absent")));

    /* or_default */
    CHECK_ST(dm_entry_update(m, S("od"), or_default_cb, NULL), DM_OK);
    CHECK(has_value(m, S("od"), "", 0));
    CHECK_ST(dm_entry_update(m, S("oi"), or_default_cb, NULL), DM_OK);
    CHECK(has_value(m, S("oi"), "default", 7));

    /* alter: create at 3, then 2, 1, removed. */
    uint8_t three = 3;
    CHECK_ST(dm_entry_update(m, S("alt"), alter_cb, &three), DM_OK);
    CHECK(has_value(m, S("alt"), "\3", 1));
    CHECK_ST(dm_entry_update(m, S("alt"), alter_cb, &three), DM_OK);
    CHECK(has_value(m, S("alt"), "\2", 1));
    CHECK_ST(dm_entry_update(m, S("alt"), alter_cb, &three), DM_OK);
    CHECK(has_value(m, S("alt"), "\1", 1));
    CHECK_ST(dm_entry_update(m, S("alt"), alter_cb, &three), DM_OK);
    CHECK(!dm_contains_key(m, S("alt")));
    CHECK_EQ(dm_len(m), 3);

    /* Several changes in one callback: the final state only. */
    struct steps s = {0};
    CHECK_ST(dm_insert(m, S("multi"), S("orig")), DM_OK);
    CHECK_ST(dm_entry_update(m, S("multi"), many_steps_occupied_cb, &s), DM_OK);
    CHECK(has_value(m, S("multi"), "cXc", 3));
    CHECK_ST(dm_entry_update(m, S("gone"), set_then_remove_cb, &s), DM_OK); /* vacant: set, remove */
    CHECK(!dm_contains_key(m, S("gone")));
    CHECK_ST(dm_insert(m, S("gone2"), S("x")), DM_OK);
    CHECK_ST(dm_entry_update(m, S("gone2"), set_then_remove_cb, &s), DM_OK); /* occupied: set, remove */
    CHECK(!dm_contains_key(m, S("gone2")));
    CHECK_ST(dm_insert(m, S("re"), S("old")), DM_OK);
    CHECK_ST(dm_entry_update(m, S("re"), remove_then_set_cb, &s), DM_OK);
    CHECK(has_value(m, S("re"), "reborn", 6));
    CHECK_ST(dm_entry_update(m, S("vac"), vacant_remove_cb, &s), DM_OK);
    CHECK(!dm_contains_key(m, S("vac")));
    CHECK_EQ(s.calls, 5);
    CHECK_EQ(dm_len(m), 5);

    /* dm_entry_key */
    struct key_ctx kc = {(const uint8_t *)"the key", 7, 0};
    CHECK_ST(dm_entry_update(m, S("the key"), key_cb, &kc), DM_OK); /* vacant */
    CHECK_ST(dm_entry_update(m, S("multi"), key_cb, &(struct key_ctx){(const uint8_t *)"multi", 5, 0}), DM_OK);
    kc = (struct key_ctx){(const uint8_t *)"", 0, 0};
    CHECK_ST(dm_entry_update(m, NULL, 0, key_cb, &kc), DM_OK);
    CHECK_EQ(kc.calls, 1);
    const uint8_t bin[] = {0, 'k', 0};
    kc = (struct key_ctx){bin, 3, 0};
    CHECK_ST(dm_entry_update(m, bin, 3, key_cb, &kc), DM_OK);
    CHECK_EQ(kc.calls, 1);
    CHECK(!dm_contains_key(m, S("the key"))); /* looking does not insert */

    /* dm_entry_value_mut in place. */
    CHECK_ST(dm_insert(m, S("hello"), S("hello, world")), DM_OK);
    CHECK_ST(dm_entry_update(m, S("hello"), upcase_cb, NULL), DM_OK);
    CHECK(has_value(m, S("hello"), "HELLO, WORLD", 12));

    /* A callback that does nothing changes nothing. */
    int n = 0;
    CHECK_ST(dm_entry_update(m, S("nothing"), nothing_cb, &n), DM_OK);
    CHECK_ST(dm_entry_update(m, S("hello"), nothing_cb, &n), DM_OK);
    CHECK_EQ(n, 2);
    CHECK(!dm_contains_key(m, S("nothing")));
    CHECK(has_value(m, S("hello"), "HELLO, WORLD", 12));
    CHECK_EQ(dm_len(m), 6);

    /* Growth: many keys inserted through the entry API. */
    char key[16];
    size_t ok = 0;
    for (int i = 0; i < 2000; i++) {
        int kn = snprintf(key, sizeof key, "e%d", i);
        ok += dm_entry_update(m, (const uint8_t *)key, (size_t)kn, or_insert_cb, NULL) == DM_OK;
    }
    CHECK_EQ(ok, 2000);
    CHECK_EQ(dm_len(m), 2006);
    CHECK(has_value(m, S("e1999"), "default", 7));
    dm_free(m);
}

/* ================================================================
 * Walks
 * ================================================================ */

enum { NWALK = 500 };

struct walk {
    int seen[NWALK];
    int visits;
    int bad;
    int stop_after; /* 0: never */
};

static int walk_index(const uint8_t *k, size_t kn) {
    /* keys are "w<index>" */
    if (kn < 2 || kn > 6 || k[0] != 'w') return -1;
    int n = 0;
    for (size_t i = 1; i < kn; i++) {
        if (k[i] < '0' || k[i] > '9') return -1;
        n = n * 10 + (k[i] - '0');
    }
    return n < NWALK ? n : -1;
}

static bool walk_cb(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    struct walk *w = ctx;
    int i = walk_index(k, kn);
    w->visits++;
    if (i < 0 || vn != 4 || memcmp(v, "val", 3) != 0 || v[3] != (uint8_t)('a' + i % 26)) {
        w->bad++;
    } else {
        w->seen[i]++;
    }
    return w->stop_after == 0 || w->visits < w->stop_after;
}

static bool walk_mut_cb(const uint8_t *k, size_t kn, uint8_t *v, size_t vn, void *ctx) {
    struct walk *w = ctx;
    int i = walk_index(k, kn);
    w->visits++;
    if (i < 0 || vn != 4) {
        w->bad++;
    } else {
        w->seen[i]++;
        v[0] = 'V'; /* in place */
        v[3] = (uint8_t)('A' + i % 26);
    }
    return w->stop_after == 0 || w->visits < w->stop_after;
}

static bool keep_even_cb(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    (void)v, (void)vn;
    struct walk *w = ctx;
    int i = walk_index(k, kn);
    w->visits++;
    if (i < 0) w->bad++;
    return i >= 0 && i % 2 == 0;
}

static bool keep_none_cb(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    (void)k, (void)kn, (void)v, (void)vn;
    ((struct walk *)ctx)->visits++;
    return false;
}

static void fill_walk(dm_map *m) {
    char k[16];
    uint8_t v[4] = {'v', 'a', 'l', 0};
    for (int i = 0; i < NWALK; i++) {
        int kn = snprintf(k, sizeof k, "w%d", i);
        v[3] = (uint8_t)('a' + i % 26);
        dm_insert(m, (const uint8_t *)k, (size_t)kn, v, 4);
    }
}

static int count_exactly_once(const struct walk *w) {
    int n = 0;
    for (int i = 0; i < NWALK; i++) n += w->seen[i] == 1;
    return n;
}

static void test_walks(void) {
    dm_map *m = MUST(dm_with_shards(16));
    struct walk w;

    /* Empty map: no visits, DM_OK. */
    memset(&w, 0, sizeof w);
    CHECK_ST(dm_for_each(m, walk_cb, &w), DM_OK);
    CHECK_ST(dm_for_each_mut(m, walk_mut_cb, &w), DM_OK);
    CHECK_ST(dm_retain_cb(m, keep_none_cb, &w), DM_OK);
    CHECK_EQ(w.visits, 0);

    fill_walk(m);
    memset(&w, 0, sizeof w);
    CHECK_ST(dm_for_each(m, walk_cb, &w), DM_OK);
    CHECK_EQ(w.visits, NWALK);
    CHECK_EQ(w.bad, 0);
    CHECK_EQ(count_exactly_once(&w), NWALK);

    /* Stop early: exactly stop_after visits. */
    memset(&w, 0, sizeof w);
    w.stop_after = 37;
    CHECK_ST(dm_for_each(m, walk_cb, &w), DM_STOPPED);
    CHECK_EQ(w.visits, 37);
    memset(&w, 0, sizeof w);
    w.stop_after = 1;
    CHECK_ST(dm_for_each(m, walk_cb, &w), DM_STOPPED);
    CHECK_EQ(w.visits, 1);
    memset(&w, 0, sizeof w);
    w.stop_after = NWALK; /* false on the very last entry still counts as stopped */
    CHECK_ST(dm_for_each(m, walk_cb, &w), DM_STOPPED);
    CHECK_EQ(w.visits, NWALK);

    /* for_each_mut: stop early changes only the visited values. */
    memset(&w, 0, sizeof w);
    w.stop_after = 100;
    CHECK_ST(dm_for_each_mut(m, walk_mut_cb, &w), DM_STOPPED);
    CHECK_EQ(w.visits, 100);
    size_t changed = 0;
    char k[16];
    uint8_t buf[8];
    for (int i = 0; i < NWALK; i++) {
        int kn = snprintf(k, sizeof k, "w%d", i);
        size_t len = 0;
        dm_get_copy(m, (const uint8_t *)k, (size_t)kn, buf, sizeof buf, &len);
        changed += len == 4 && buf[0] == 'V';
    }
    CHECK_EQ(changed, 100);
    /* ...and a full pass changes all of them. */
    memset(&w, 0, sizeof w);
    CHECK_ST(dm_for_each_mut(m, walk_mut_cb, &w), DM_OK);
    CHECK_EQ(w.visits, NWALK);
    CHECK_EQ(count_exactly_once(&w), NWALK);
    changed = 0;
    for (int i = 0; i < NWALK; i++) {
        int kn = snprintf(k, sizeof k, "w%d", i);
        uint8_t want[4] = {'V', 'a', 'l', (uint8_t)('A' + i % 26)};
        changed += has_value(m, (const uint8_t *)k, (size_t)kn, want, 4);
    }
    CHECK_EQ(changed, NWALK);

    /* retain: keep the even ones. */
    memset(&w, 0, sizeof w);
    CHECK_ST(dm_retain_cb(m, keep_even_cb, &w), DM_OK);
    CHECK_EQ(w.visits, NWALK);
    CHECK_EQ(w.bad, 0);
    CHECK_EQ(dm_len(m), NWALK / 2);
    size_t right = 0;
    for (int i = 0; i < NWALK; i++) {
        int kn = snprintf(k, sizeof k, "w%d", i);
        right += dm_contains_key(m, (const uint8_t *)k, (size_t)kn) == (i % 2 == 0);
    }
    CHECK_EQ(right, NWALK);
    /* retain nothing: empty. */
    memset(&w, 0, sizeof w);
    CHECK_ST(dm_retain_cb(m, keep_none_cb, &w), DM_OK);
    CHECK_EQ(w.visits, NWALK / 2);
    CHECK_EQ(dm_len(m), 0);
    CHECK(dm_is_empty(m));
    dm_free(m);
}

/* ================================================================
 * Cursor
 * ================================================================ */

static void test_iter(void) {
    dm_map *m = MUST(dm_with_shards(8));
    const uint8_t *k, *v;
    size_t kl, vl;

    /* Empty map: at the end at once, and stays there. */
    dm_iter *it = dm_iter_new(m);
    CHECK(it != NULL);
    CHECK_ST(dm_iter_next(it, &k, &kl, &v, &vl), DM_NOT_FOUND);
    CHECK_ST(dm_iter_next(it, &k, &kl, &v, &vl), DM_NOT_FOUND);
    dm_iter_free(it);

    fill_walk(m);
    CHECK_ST(dm_insert(m, NULL, 0, NULL, 0), DM_OK); /* empty key, empty value */
    struct walk w;
    memset(&w, 0, sizeof w);
    int empty_seen = 0;
    it = dm_iter_new(m);
    CHECK(it != NULL);
    dm_status st;
    int guard = 0;
    while ((st = dm_iter_next(it, &k, &kl, &v, &vl)) == DM_OK && guard++ < 10 * NWALK) {
        if (kl == 0) {
            empty_seen++;
            CHECK_EQ(vl, 0);
            continue;
        }
        /* The map may be used freely while iterating. */
        uint8_t copy[8];
        size_t cl = 0;
        if (dm_get_copy(m, k, kl, copy, sizeof copy, &cl) != DM_OK || cl != vl || memcmp(copy, v, vl) != 0) w.bad++;
        walk_cb(k, kl, v, vl, &w);
    }
    CHECK_ST(st, DM_NOT_FOUND);
    CHECK_ST(dm_iter_next(it, &k, &kl, &v, &vl), DM_NOT_FOUND); /* stays at the end */
    CHECK_EQ(w.bad, 0);
    CHECK_EQ(w.visits, NWALK);
    CHECK_EQ(count_exactly_once(&w), NWALK);
    CHECK_EQ(empty_seen, 1);
    /* New entries after the end do not restart it. */
    CHECK_ST(dm_insert(m, S("late"), S("x")), DM_OK);
    CHECK_ST(dm_iter_next(it, &k, &kl, &v, &vl), DM_NOT_FOUND);
    dm_iter_free(it);

    /* Removing every entry while iterating: each original entry is returned
     * at most once, and the entries still present at the end are none. */
    it = dm_iter_new(m);
    CHECK(it != NULL);
    size_t got = 0, removed_ok = 0;
    while (dm_iter_next(it, &k, &kl, &v, &vl) == DM_OK) {
        got++;
        /* The key bytes stay valid until the next call, even after removal. */
        uint8_t kcopy[16];
        size_t kcl = kl < sizeof kcopy ? kl : sizeof kcopy;
        if (kcl > 0) memcpy(kcopy, k, kcl);
        removed_ok += dm_remove(m, k, kl, NULL, 0, NULL) == DM_OK;
        if (kcl > 0) CHECK(memcmp(kcopy, k, kcl) == 0);
    }
    CHECK_EQ(got, NWALK + 2);
    CHECK_EQ(removed_ok, NWALK + 2);
    CHECK_EQ(dm_len(m), 0);
    dm_iter_free(it);

    /* A cursor keeps the map alive after every user reference is gone. */
    fill_walk(m);
    it = dm_iter_new(m);
    CHECK(it != NULL);
    dm_map *second = dm_ref(m);
    dm_free(m);
    dm_free(second); /* no user reference left */
    memset(&w, 0, sizeof w);
    while (dm_iter_next(it, &k, &kl, &v, &vl) == DM_OK) walk_cb(k, kl, v, vl, &w);
    CHECK_EQ(w.visits, NWALK);
    CHECK_EQ(w.bad, 0);
    CHECK_EQ(count_exactly_once(&w), NWALK);
    CHECK_ST(dm_iter_next(it, &k, &kl, &v, &vl), DM_NOT_FOUND);
    dm_iter_free(it); /* frees the map (leak checkers verify) */

    /* Two cursors on one map are independent. */
    m = MUST(dm_with_shards(2));
    CHECK_ST(dm_insert(m, S("a"), S("1")), DM_OK);
    CHECK_ST(dm_insert(m, S("b"), S("2")), DM_OK);
    dm_iter *i1 = dm_iter_new(m), *i2 = dm_iter_new(m);
    CHECK(i1 != NULL && i2 != NULL && i1 != i2);
    int n1 = 0, n2 = 0;
    while (dm_iter_next(i1, &k, &kl, &v, &vl) == DM_OK) n1++;
    while (dm_iter_next(i2, &k, &kl, &v, &vl) == DM_OK) n2++;
    CHECK_EQ(n1, 2);
    CHECK_EQ(n2, 2);
    dm_iter_free(i1);
    dm_free(m); /* i2 still holds it */
    CHECK_ST(dm_iter_next(i2, &k, &kl, &v, &vl), DM_NOT_FOUND);
    dm_iter_free(i2);
}

int main(void) {
    for (int kind = 0; kind < K_COUNT; kind++) test_reentrancy((enum cb_kind)kind);
    test_reentrancy_empty_map();
    test_free_inside_callbacks();
    test_entry_api();
    test_walks();
    test_iter();
    return check_finish();
}
