/*
 * 04_entry_api.c: or_insert, or_insert_with, and_modify, or_default, alter.
 *
 * Seed section "The Entry API". dm_entry_update(map, key, f, ctx) calls f
 * with the entry for `key` while holding that key's shard write lock; what f
 * does (dm_entry_set, dm_entry_remove, writes through dm_entry_value_mut) is
 * applied as one atomic step. Every Rust entry combinator is a few lines of
 * f. Values here are int64 counters in dm_add_i64's 8-byte format.
 */
#include "example_util.h"

/* Reads a counter; -1 when absent. */
static int64_t get(const dm_map *m, const char *key) {
    uint8_t b[8];
    size_t len = 0;
    dm_status st = dm_get_copy(m, STR(key), b, sizeof b, &len);
    if (st == DM_NOT_FOUND) return -1;
    CHECK(st == DM_OK && len == 8, "counter '%s': %s", key, dm_status_str(st));
    return get_i64(b);
}

/* Sets the entry to the counter value v. */
static void set_i64(dm_entry *e, int64_t v) {
    uint8_t b[8];
    put_i64(b, v);
    EXPECT(dm_entry_set(e, b, sizeof b), DM_OK);
}

/* match map.entry("count") { Occupied(e) => ..., Vacant(e) => e.insert(1) } */
static void match_entry(dm_entry *e, void *ctx) {
    (void)ctx;
    size_t len = 0;
    const uint8_t *v = dm_entry_value(e, &len);
    if (v != NULL) {
        printf("Already exists: %" PRId64 "\n", get_i64(v));
    } else {
        set_i64(e, 1);
        printf("Inserted new value\n");
    }
}

/* .or_insert(default) */
static void or_insert(dm_entry *e, void *ctx) {
    if (!dm_entry_occupied(e)) set_i64(e, *(const int64_t *)ctx);
}

/* .or_insert_with(f): f runs only when the key is vacant. It runs under the
 * shard's write lock, so concurrent callers never compute twice, but other
 * keys of that shard wait meanwhile: keep f short (09 shows the trade-off). */
struct lazy {
    int64_t (*make)(void);
    int calls;
};
static void or_insert_with(dm_entry *e, void *ctx) {
    struct lazy *l = ctx;
    if (!dm_entry_occupied(e)) {
        l->calls++;
        set_i64(e, l->make());
    }
}
static int64_t expensive_value(void) {
    printf("Computing expensive value...\n");
    return 42;
}

/* .and_modify(|v| *v += 1): in place, nothing happens when vacant. */
static void and_modify_inc(dm_entry *e, void *ctx) {
    (void)ctx;
    size_t len = 0;
    uint8_t *v = dm_entry_value_mut(e, &len);
    if (v != NULL && len == 8) put_i64(v, get_i64(v) + 1);
}

/* .and_modify(|v| *v += 1).or_insert(1): the classic counter. */
static void increment_or_one(dm_entry *e, void *ctx) {
    (void)ctx;
    size_t len = 0;
    uint8_t *v = dm_entry_value_mut(e, &len);
    if (v != NULL)
        put_i64(v, get_i64(v) + 1);
    else
        set_i64(e, 1);
}

/* .or_default(): the default of a byte string is the empty string; for our
 * counters the natural default is 0. */
static void or_default(dm_entry *e, void *ctx) {
    (void)ctx;
    if (!dm_entry_occupied(e)) set_i64(e, 0);
}

/* alter(key, |_, v| v * 2): replace with f(old) when present. */
static void alter_double(dm_entry *e, void *ctx) {
    size_t len = 0;
    const uint8_t *v = dm_entry_value(e, &len);
    if (v == NULL) return;
    *(int64_t *)ctx = get_i64(v); /* the old value, returned through ctx */
    set_i64(e, get_i64(v) * 2);
}

/* An entry can also remove itself: drop counters that are zero. */
static void remove_if_zero(dm_entry *e, void *ctx) {
    size_t len = 0;
    const uint8_t *v = dm_entry_value(e, &len);
    *(bool *)ctx = v != NULL && get_i64(v) == 0;
    if (*(bool *)ctx) EXPECT(dm_entry_remove(e), DM_OK);
}

int main(void) {
    dm_map *map = dm_new();
    CHECK(map != NULL, "dm_new");

    /* Occupied / Vacant. */
    EXPECT(dm_entry_update(map, STR("count"), match_entry, NULL), DM_OK);
    EXPECT(dm_entry_update(map, STR("count"), match_entry, NULL), DM_OK);
    CHECK(get(map, "count") == 1, "count == 1");

    /* or_insert(0); a second or_insert(7) keeps the existing 0. */
    int64_t zero = 0, seven = 7;
    EXPECT(dm_entry_update(map, STR("counter"), or_insert, &zero), DM_OK);
    EXPECT(dm_entry_update(map, STR("counter"), or_insert, &seven), DM_OK);
    printf("Counter: %" PRId64 "\n", get(map, "counter"));
    CHECK(get(map, "counter") == 0, "or_insert keeps the first value");
    /* Without a callback: dm_get_or_insert is or_insert in one call. */
    uint8_t b[8], existing[8];
    size_t out_len = 0;
    put_i64(b, 7);
    EXPECT(dm_get_or_insert(map, STR("counter"), b, 8, existing, 8, &out_len),
           DM_EXISTS);
    CHECK(out_len == 8 && get_i64(existing) == 0, "existing value returned");

    /* or_insert_with: computed once, then found. */
    struct lazy lazy = {.make = expensive_value, .calls = 0};
    EXPECT(dm_entry_update(map, STR("lazy"), or_insert_with, &lazy), DM_OK);
    EXPECT(dm_entry_update(map, STR("lazy"), or_insert_with, &lazy), DM_OK);
    printf("Lazy: %" PRId64 " (computed %d time)\n", get(map, "lazy"), lazy.calls);
    CHECK(get(map, "lazy") == 42 && lazy.calls == 1, "computed exactly once");

    /* and_modify on a present and on an absent key. */
    EXPECT(dm_entry_update(map, STR("counter"), and_modify_inc, NULL), DM_OK);
    EXPECT(dm_entry_update(map, STR("nobody"), and_modify_inc, NULL), DM_OK);
    printf("Counter after modify: %" PRId64 "\n", get(map, "counter"));
    CHECK(get(map, "counter") == 1, "counter == 1");
    CHECK(get(map, "nobody") == -1, "and_modify does not insert");

    /* or_default. */
    EXPECT(dm_entry_update(map, STR("default"), or_default, NULL), DM_OK);
    printf("Default: %" PRId64 "\n", get(map, "default"));
    CHECK(get(map, "default") == 0, "default == 0");

    /* and_modify(+1).or_insert(1), ten times. */
    for (int i = 0; i < 10; i++)
        EXPECT(dm_entry_update(map, STR("hits"), increment_or_one, NULL), DM_OK);
    printf("Hits: %" PRId64 "\n", get(map, "hits"));
    CHECK(get(map, "hits") == 10, "hits == 10");

    /* alter: double it, getting the old value back. */
    int64_t old = -1;
    EXPECT(dm_entry_update(map, STR("hits"), alter_double, &old), DM_OK);
    printf("After alter: %" PRId64 " (was %" PRId64 ")\n", get(map, "hits"), old);
    CHECK(old == 10 && get(map, "hits") == 20, "hits doubled to 20");

    /* Removing through the entry. */
    bool removed = false;
    EXPECT(dm_entry_update(map, STR("default"), remove_if_zero, &removed), DM_OK);
    CHECK(removed && get(map, "default") == -1, "zero counter removed");
    EXPECT(dm_entry_update(map, STR("hits"), remove_if_zero, &removed), DM_OK);
    CHECK(!removed && get(map, "hits") == 20, "non-zero counter kept");

    /* The same counters work with dm_add_i64 (same 8-byte format). */
    int64_t now = 0;
    EXPECT(dm_add_i64(map, STR("hits"), 5, &now), DM_OK);
    CHECK(now == 25, "20 + 5 == 25, got %" PRId64, now);

    printf("Entries: %zu\n", dm_len(map));
    CHECK(dm_len(map) == 4, "count, counter, lazy, hits");
    dm_free(map);
    printf("04_entry_api: OK\n");
    return 0;
}
