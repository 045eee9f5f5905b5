/*
 * test_ttl.c: time-to-live, the map clock and bounded maps:
 * dm_insert_ttl, dm_try_insert_ttl, dm_add_i64_ttl, dm_expire, dm_touch,
 * dm_ttl_remaining, dm_purge_expired, dm_clock_set, dm_clock_now,
 * dm_options.max_entries / DM_ERR_FULL and dm_options.manual_clock.
 * Almost everything runs on a manual clock, so it is exact and instant.
 * (Compiled only against a header that has the TTL API.)
 */
#include "check.h"

#ifndef DM_TTL_NONE

int main(void) {
    printf("dashmap.h has no TTL API (DM_TTL_NONE undefined): nothing to test\n");
    return check_finish();
}

#else

#include <time.h>

static bool has_value(const dm_map *m, const uint8_t *key, size_t key_len, const void *want, size_t want_len) {
    uint8_t buf[256];
    size_t len = 0;
    if (dm_get_copy(m, key, key_len, buf, sizeof buf, &len) != DM_OK) return false;
    return len == want_len && (want_len == 0 || memcmp(buf, want, want_len) == 0);
}

static uint64_t remaining(const dm_map *m, const uint8_t *key, size_t key_len) {
    uint64_t ms = 4242;
    dm_status st = dm_ttl_remaining(m, key, key_len, &ms);
    return st == DM_OK ? ms : st == DM_NOT_FOUND ? 0 : 4242;
}

static dm_map *manual_map(size_t shards, size_t max_entries) {
    dm_options o = dm_options_default();
    o.shards = shards;
    o.seed = 4711;
    o.manual_clock = true;
    o.max_entries = max_entries;
    dm_map *m = NULL;
    if (dm_new_with_options(&o, &m) != DM_OK || m == NULL) {
        fprintf(stderr, "could not create a manual-clock map\n");
        exit(EXIT_FAILURE);
    }
    return m;
}

static int64_t counter(const dm_map *m, const uint8_t *key, size_t key_len) {
    uint8_t b[8];
    size_t len = 0;
    if (dm_get_copy(m, key, key_len, b, sizeof b, &len) != DM_OK || len != 8) return INT64_MIN;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return (int64_t)v;
}

/* ------------------------------------------------------------ options, clock */

static void test_options_and_clock(void) {
    dm_options d = dm_options_default();
    CHECK_EQ(d.max_entries, 0);
    CHECK(!d.manual_clock);
    CHECK_EQ(dm_clock_now(NULL), 0);
    CHECK_ST(dm_clock_set(NULL, 5), DM_ERR_NULL);

    /* Manual clock: starts at 0, moves only by dm_clock_set, both ways. */
    dm_map *m = manual_map(4, 0);
    CHECK_EQ(dm_clock_now(m), 0);
    CHECK_ST(dm_clock_set(m, 1000), DM_OK);
    CHECK_EQ(dm_clock_now(m), 1000);
    CHECK_EQ(dm_clock_now(m), 1000);
    CHECK_ST(dm_clock_set(m, 10), DM_OK);
    CHECK_EQ(dm_clock_now(m), 10);
    CHECK_ST(dm_clock_set(m, UINT64_MAX - 1), DM_OK);
    CHECK_EQ(dm_clock_now(m), UINT64_MAX - 1);
    dm_free(m);

    /* Real time: dm_clock_set is refused, dm_clock_now never goes back. */
    m = MUST(dm_new());
    CHECK_ST(dm_clock_set(m, 5), DM_ERR_INVALID);
    uint64_t t0 = dm_clock_now(m);
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
    uint64_t t1 = dm_clock_now(m);
    CHECK(t1 >= t0 + 29);
    /* A short TTL on real time: live now, gone after it elapsed. */
    CHECK_ST(dm_insert_ttl(m, S("short"), S("v"), 40), DM_OK);
    CHECK_ST(dm_insert_ttl(m, S("long"), S("v"), 3600 * 1000), DM_OK);
    uint64_t left = remaining(m, S("long"));
    CHECK(left > 3590 * 1000 && left <= 3600 * 1000);
    ts.tv_nsec = 120 * 1000 * 1000;
    nanosleep(&ts, NULL);
    CHECK(!dm_contains_key(m, S("short")));
    CHECK(dm_contains_key(m, S("long")));
    size_t removed = 99;
    CHECK_ST(dm_purge_expired(m, &removed), DM_OK);
    CHECK_EQ(removed, 1);
    CHECK_EQ(dm_len(m), 1);
    dm_free(m);
}

/* ------------------------------------------------------------ expiry */

static bool count_visit(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    (void)k, (void)kn, (void)v, (void)vn;
    ++*(int *)ctx;
    return true;
}

static void test_expiry(void) {
    dm_map *m = manual_map(4, 0);
    CHECK_ST(dm_clock_set(m, 1000), DM_OK);
    CHECK_ST(dm_insert_ttl(m, S("t"), S("temp"), 500), DM_OK); /* deadline 1500 */
    CHECK_ST(dm_insert_ttl(m, S("forever"), S("f"), 0), DM_OK); /* 0 = never */
    CHECK_ST(dm_insert(m, S("plain"), S("p")), DM_OK);
    CHECK_EQ(remaining(m, S("t")), 500);
    CHECK_EQ(remaining(m, S("forever")), DM_TTL_NONE);
    CHECK_EQ(remaining(m, S("plain")), DM_TTL_NONE);
    CHECK_EQ(remaining(m, S("absent")), 0); /* NOT_FOUND */

    CHECK_ST(dm_clock_set(m, 1499), DM_OK);
    CHECK_EQ(remaining(m, S("t")), 1);
    CHECK(has_value(m, S("t"), "temp", 4));

    /* At the deadline it is gone for every read. */
    CHECK_ST(dm_clock_set(m, 1500), DM_OK);
    uint8_t buf[16];
    size_t len = 4242;
    CHECK_ST(dm_get_copy(m, S("t"), buf, sizeof buf, &len), DM_NOT_FOUND);
    CHECK_EQ(len, 4242);
    CHECK(!dm_contains_key(m, S("t")));
    uint64_t ms = 4242;
    CHECK_ST(dm_ttl_remaining(m, S("t"), &ms), DM_NOT_FOUND);
    CHECK_EQ(ms, 4242);
    uint8_t *p = buf;
    CHECK_ST(dm_get_alloc(m, S("t"), &p, &len), DM_NOT_FOUND);
    CHECK(p == buf);
    int visits = 0;
    CHECK_ST(dm_for_each(m, count_visit, &visits), DM_OK);
    CHECK_EQ(visits, 2);
    dm_iter *it = dm_iter_new(m);
    const uint8_t *k, *v;
    size_t kl, vl;
    visits = 0;
    while (it != NULL && dm_iter_next(it, &k, &kl, &v, &vl) == DM_OK) visits++;
    dm_iter_free(it);
    CHECK_EQ(visits, 2);
    /* Stored until removed: dm_len counts it, dm_purge_expired sweeps it. */
    CHECK_EQ(dm_len(m), 3);
    /* The clock going back revives an entry not yet removed. */
    CHECK_ST(dm_clock_set(m, 1400), DM_OK);
    CHECK(has_value(m, S("t"), "temp", 4));
    CHECK_EQ(remaining(m, S("t")), 100);
    CHECK_ST(dm_clock_set(m, 5000), DM_OK);
    size_t removed = 4242;
    CHECK_ST(dm_purge_expired(m, &removed), DM_OK);
    CHECK_EQ(removed, 1);
    CHECK_EQ(dm_len(m), 2);
    CHECK_ST(dm_purge_expired(m, NULL), DM_OK); /* removed is optional */
    CHECK_ST(dm_purge_expired(m, &removed), DM_OK);
    CHECK_EQ(removed, 0);
    CHECK_ST(dm_clock_set(m, 1400), DM_OK); /* removed for good now */
    CHECK(!dm_contains_key(m, S("t")));
    /* The TTL writers do not bring an expired entry back. (Whether they
     * remove it at once is not specified: dm_len is checked after a purge.) */
    CHECK_ST(dm_insert_ttl(m, S("t2"), S("temp"), 100), DM_OK); /* deadline 1500 */
    CHECK_ST(dm_clock_set(m, 1500), DM_OK);
    CHECK_ST(dm_expire(m, S("t2"), 100), DM_NOT_FOUND);
    CHECK_ST(dm_expire(m, S("t2"), 0), DM_NOT_FOUND);
    CHECK_ST(dm_touch(m, S("t2"), 100), DM_NOT_FOUND);
    CHECK(!dm_contains_key(m, S("t2")));
    CHECK_ST(dm_purge_expired(m, NULL), DM_OK);
    CHECK_EQ(dm_len(m), 2);
    CHECK_ST(dm_clock_set(m, 1400), DM_OK);
    CHECK(!dm_contains_key(m, S("t2")));
    CHECK(has_value(m, S("forever"), "f", 1));
    CHECK(has_value(m, S("plain"), "p", 1));

    /* Many entries with staggered deadlines: purge removes exactly the due ones. */
    CHECK_ST(dm_clock_set(m, 0), DM_OK);
    char key[16];
    for (int i = 0; i < 300; i++) {
        int n = snprintf(key, sizeof key, "s%d", i);
        CHECK_ST(dm_insert_ttl(m, (const uint8_t *)key, (size_t)n, S("x"), (uint64_t)(i + 1) * 10), DM_OK);
    }
    CHECK_ST(dm_clock_set(m, 1000), DM_OK); /* deadlines 10..1000 are due: 100 entries */
    CHECK_EQ(dm_len(m), 302);
    CHECK_ST(dm_purge_expired(m, &removed), DM_OK);
    CHECK_EQ(removed, 100);
    CHECK_EQ(dm_len(m), 202);
    CHECK(!dm_contains_key(m, S("s99")));
    CHECK(dm_contains_key(m, S("s100")));
    CHECK_EQ(remaining(m, S("s100")), 10);
    dm_free(m);
}

/* ------------------------------------------------------------ which calls keep a TTL */

static void test_ttl_semantics(void) {
    dm_map *m = manual_map(4, 0);
    CHECK_ST(dm_clock_set(m, 100), DM_OK);

    /* dm_insert_ttl replaces value and TTL. */
    CHECK_ST(dm_insert_ttl(m, S("a"), S("1"), 50), DM_OK);
    CHECK_ST(dm_insert_ttl(m, S("a"), S("2"), 300), DM_REPLACED);
    CHECK_EQ(remaining(m, S("a")), 300);
    CHECK(has_value(m, S("a"), "2", 1));
    CHECK_ST(dm_insert_ttl(m, S("a"), S("3"), 0), DM_REPLACED);
    CHECK_EQ(remaining(m, S("a")), DM_TTL_NONE);

    /* dm_insert and dm_swap drop a TTL; dm_compare_and_swap keeps it. */
    CHECK_ST(dm_insert_ttl(m, S("b"), S("1"), 50), DM_OK);
    CHECK_ST(dm_insert(m, S("b"), S("2")), DM_REPLACED);
    CHECK_EQ(remaining(m, S("b")), DM_TTL_NONE);
    CHECK_ST(dm_expire(m, S("b"), 70), DM_OK);
    uint8_t old[8];
    size_t old_len = 0;
    CHECK_ST(dm_swap(m, S("b"), S("3"), old, sizeof old, &old_len), DM_REPLACED);
    CHECK_MEM(old, old_len, "2", 1);
    CHECK_EQ(remaining(m, S("b")), DM_TTL_NONE);
    CHECK_ST(dm_expire(m, S("b"), 70), DM_OK);
    CHECK_ST(dm_compare_and_swap(m, S("b"), S("3"), S("4")), DM_OK);
    CHECK_EQ(remaining(m, S("b")), 70);
    CHECK(has_value(m, S("b"), "4", 1));

    /* dm_try_insert_ttl: new -> TTL; live existing -> EXISTS, untouched. */
    CHECK_ST(dm_try_insert_ttl(m, S("c"), S("first"), 40), DM_OK);
    CHECK_EQ(remaining(m, S("c")), 40);
    CHECK_ST(dm_try_insert_ttl(m, S("c"), S("second"), 900), DM_EXISTS);
    CHECK_EQ(remaining(m, S("c")), 40);
    CHECK(has_value(m, S("c"), "first", 5));
    /* An expired entry counts as absent for both try-inserts. */
    CHECK_ST(dm_clock_set(m, 140), DM_OK);
    CHECK_ST(dm_try_insert_ttl(m, S("c"), S("third"), 10), DM_OK);
    CHECK(has_value(m, S("c"), "third", 5));
    CHECK_EQ(remaining(m, S("c")), 10);
    CHECK_ST(dm_clock_set(m, 150), DM_OK);
    CHECK_ST(dm_try_insert(m, S("c"), S("fourth")), DM_OK);
    CHECK(has_value(m, S("c"), "fourth", 6));
    CHECK_EQ(remaining(m, S("c")), DM_TTL_NONE);

    /* dm_expire: set, change, clear; dm_touch: push, never 0. */
    CHECK_ST(dm_expire(m, S("c"), 25), DM_OK);
    CHECK_EQ(remaining(m, S("c")), 25);
    CHECK_ST(dm_expire(m, S("c"), 0), DM_OK);
    CHECK_EQ(remaining(m, S("c")), DM_TTL_NONE);
    CHECK_ST(dm_expire(m, S("nope"), 25), DM_NOT_FOUND);
    CHECK_ST(dm_touch(m, S("c"), 0), DM_ERR_INVALID);
    CHECK_EQ(remaining(m, S("c")), DM_TTL_NONE);
    CHECK_ST(dm_touch(m, S("c"), 60), DM_OK); /* also gives a TTL-less entry one */
    CHECK_EQ(remaining(m, S("c")), 60);
    CHECK_ST(dm_clock_set(m, 200), DM_OK);
    CHECK_EQ(remaining(m, S("c")), 10);
    CHECK_ST(dm_touch(m, S("c"), 60), DM_OK); /* sliding */
    CHECK_EQ(remaining(m, S("c")), 60);
    CHECK_ST(dm_touch(m, S("nope"), 60), DM_NOT_FOUND);
    CHECK_ST(dm_touch(m, S("nope"), 0), DM_ERR_INVALID);

    /* dm_add_i64_ttl: a fixed-window counter. */
    int64_t r = 0;
    CHECK_ST(dm_clock_set(m, 1000), DM_OK);
    CHECK_ST(dm_add_i64_ttl(m, S("rate"), 1, 100, &r), DM_OK); /* window ends at 1100 */
    CHECK_I64(r, 1);
    CHECK_EQ(remaining(m, S("rate")), 100);
    CHECK_ST(dm_clock_set(m, 1050), DM_OK);
    CHECK_ST(dm_add_i64_ttl(m, S("rate"), 1, 100, &r), DM_OK); /* keeps the deadline */
    CHECK_I64(r, 2);
    CHECK_ST(dm_add_i64_ttl(m, S("rate"), 5, 0, NULL), DM_OK);
    CHECK_EQ(remaining(m, S("rate")), 50);
    CHECK_I64(counter(m, S("rate")), 7);
    CHECK_ST(dm_add_i64(m, S("rate"), 1, &r), DM_OK); /* plain add keeps it too */
    CHECK_I64(r, 8);
    CHECK_EQ(remaining(m, S("rate")), 50);
    CHECK_ST(dm_clock_set(m, 1100), DM_OK); /* window over: starts again */
    CHECK_ST(dm_add_i64_ttl(m, S("rate"), 1, 100, &r), DM_OK);
    CHECK_I64(r, 1);
    CHECK_EQ(remaining(m, S("rate")), 100);
    CHECK_ST(dm_add_i64_ttl(m, S("nottl"), 3, 0, &r), DM_OK);
    CHECK_EQ(remaining(m, S("nottl")), DM_TTL_NONE);
    CHECK_ST(dm_insert(m, S("str"), S("abc")), DM_OK);
    r = 4242;
    CHECK_ST(dm_add_i64_ttl(m, S("str"), 1, 100, &r), DM_ERR_INVALID);
    CHECK_I64(r, 4242);
    CHECK(has_value(m, S("str"), "abc", 3));
    CHECK_EQ(remaining(m, S("str")), DM_TTL_NONE);

    /* A huge TTL saturates instead of wrapping. */
    CHECK_ST(dm_insert_ttl(m, S("huge"), S("h"), UINT64_MAX), DM_OK);
    CHECK(dm_contains_key(m, S("huge")));
    CHECK(remaining(m, S("huge")) >= UINT64_MAX / 2);
    dm_free(m);
}

/* ------------------------------------------------------------ errors */

static bool ttl_visit(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    (void)k, (void)kn, (void)v, (void)vn;
    dm_map *m = ctx;
    uint64_t ms = 4242;
    int64_t r = 4242;
    size_t removed = 4242;
    /* Reentrant calls are refused... */
    CHECK_ST(dm_insert_ttl(m, S("x"), S("y"), 10), DM_ERR_REENTRANT);
    CHECK_ST(dm_try_insert_ttl(m, S("x"), S("y"), 10), DM_ERR_REENTRANT);
    CHECK_ST(dm_add_i64_ttl(m, S("n"), 1, 10, &r), DM_ERR_REENTRANT);
    CHECK_ST(dm_expire(m, S("k"), 10), DM_ERR_REENTRANT);
    CHECK_ST(dm_touch(m, S("k"), 10), DM_ERR_REENTRANT);
    CHECK_ST(dm_ttl_remaining(m, S("k"), &ms), DM_ERR_REENTRANT);
    CHECK_ST(dm_purge_expired(m, &removed), DM_ERR_REENTRANT);
    CHECK_EQ(ms, 4242);
    CHECK_I64(r, 4242);
    CHECK_EQ(removed, 4242);
    /* ...after argument errors... */
    CHECK_ST(dm_insert_ttl(m, NULL, 1, S("y"), 10), DM_ERR_NULL);
    CHECK_ST(dm_ttl_remaining(m, S("k"), NULL), DM_ERR_NULL);
    CHECK_ST(dm_touch(m, S("k"), 0), DM_ERR_INVALID);
    /* ...and the clock takes no lock, so it works inside callbacks. */
    CHECK_ST(dm_clock_set(m, 77), DM_OK);
    CHECK_EQ(dm_clock_now(m), 77);
    return true;
}

static void test_ttl_errors(void) {
    dm_map *m = manual_map(4, 0);
    CHECK_ST(dm_insert_ttl(m, S("k"), S("v"), 1000), DM_OK);
    uint64_t ms = 4242;
    int64_t r = 4242;
    const uint8_t *K = (const uint8_t *)"k";

    CHECK_ST(dm_insert_ttl(NULL, S("k"), S("v"), 10), DM_ERR_NULL);
    CHECK_ST(dm_insert_ttl(m, NULL, 1, S("v"), 10), DM_ERR_NULL);
    CHECK_ST(dm_insert_ttl(m, S("k"), NULL, 1, 10), DM_ERR_NULL);
    CHECK_ST(dm_insert_ttl(m, K, TOO_LONG, S("v"), 10), DM_ERR_INVALID);
    CHECK_ST(dm_insert_ttl(m, S("k"), K, TOO_LONG, 10), DM_ERR_INVALID);
    CHECK_ST(dm_insert_ttl(m, K, TOO_LONG, NULL, 1, 10), DM_ERR_NULL);
    CHECK_ST(dm_try_insert_ttl(NULL, S("k"), S("v"), 10), DM_ERR_NULL);
    CHECK_ST(dm_try_insert_ttl(m, NULL, 1, S("v"), 10), DM_ERR_NULL);
    CHECK_ST(dm_try_insert_ttl(m, S("k"), NULL, 1, 10), DM_ERR_NULL);
    CHECK_ST(dm_try_insert_ttl(m, K, TOO_LONG, S("v"), 10), DM_ERR_INVALID);
    CHECK_ST(dm_try_insert_ttl(m, S("k"), K, TOO_LONG, 10), DM_ERR_INVALID);
    CHECK_ST(dm_add_i64_ttl(NULL, S("n"), 1, 10, &r), DM_ERR_NULL);
    CHECK_ST(dm_add_i64_ttl(m, NULL, 1, 1, 10, &r), DM_ERR_NULL);
    CHECK_ST(dm_add_i64_ttl(m, K, TOO_LONG, 1, 10, &r), DM_ERR_INVALID);
    CHECK_I64(r, 4242);
    CHECK_ST(dm_expire(NULL, S("k"), 10), DM_ERR_NULL);
    CHECK_ST(dm_expire(m, NULL, 1, 10), DM_ERR_NULL);
    CHECK_ST(dm_expire(m, K, TOO_LONG, 10), DM_ERR_INVALID);
    CHECK_ST(dm_touch(NULL, S("k"), 10), DM_ERR_NULL);
    CHECK_ST(dm_touch(m, NULL, 1, 10), DM_ERR_NULL);
    CHECK_ST(dm_touch(m, K, TOO_LONG, 10), DM_ERR_INVALID);
    CHECK_ST(dm_touch(m, NULL, 1, 0), DM_ERR_NULL); /* NULL before INVALID */
    CHECK_ST(dm_touch(NULL, S("k"), 0), DM_ERR_NULL);
    CHECK_ST(dm_ttl_remaining(NULL, S("k"), &ms), DM_ERR_NULL);
    CHECK_ST(dm_ttl_remaining(m, NULL, 1, &ms), DM_ERR_NULL);
    CHECK_ST(dm_ttl_remaining(m, S("k"), NULL), DM_ERR_NULL);
    CHECK_ST(dm_ttl_remaining(m, K, TOO_LONG, &ms), DM_ERR_INVALID);
    CHECK_ST(dm_ttl_remaining(m, K, TOO_LONG, NULL), DM_ERR_NULL);
    CHECK_EQ(ms, 4242);
    CHECK_ST(dm_purge_expired(NULL, NULL), DM_ERR_NULL);
    /* Nothing changed. */
    CHECK_EQ(dm_len(m), 1);
    CHECK(has_value(m, S("k"), "v", 1));
    CHECK_EQ(remaining(m, S("k")), 1000);

    CHECK_ST(dm_for_each(m, ttl_visit, m), DM_OK);
    CHECK_EQ(dm_clock_now(m), 77);
    CHECK_EQ(dm_len(m), 1);
    dm_free(m);
}

/* ------------------------------------------------------------ bounded maps */

static void test_max_entries(void) {
    dm_map *m = manual_map(2, 3);
    CHECK_ST(dm_insert(m, S("a"), S("1")), DM_OK);
    CHECK_ST(dm_insert(m, S("b"), S("2")), DM_OK);
    CHECK_ST(dm_insert(m, S("c"), S("3")), DM_OK);
    uint8_t buf[8];
    size_t out = 4242;
    int64_t r = 4242;
    /* Every call that would add a key: DM_ERR_FULL, nothing changed. */
    CHECK_ST(dm_insert(m, S("d"), S("4")), DM_ERR_FULL);
    CHECK_ST(dm_try_insert(m, S("d"), S("4")), DM_ERR_FULL);
    CHECK_ST(dm_get_or_insert(m, S("d"), S("4"), buf, sizeof buf, &out), DM_ERR_FULL);
    CHECK_EQ(out, 4242);
    CHECK_ST(dm_swap(m, S("d"), S("4"), buf, sizeof buf, &out), DM_ERR_FULL);
    CHECK_EQ(out, 4242);
    CHECK_ST(dm_add_i64(m, S("d"), 1, &r), DM_ERR_FULL);
    CHECK_I64(r, 4242);
    CHECK_ST(dm_insert_ttl(m, S("d"), S("4"), 10), DM_ERR_FULL);
    CHECK_ST(dm_try_insert_ttl(m, S("d"), S("4"), 10), DM_ERR_FULL);
    CHECK_ST(dm_add_i64_ttl(m, S("d"), 1, 10, &r), DM_ERR_FULL);
    CHECK_I64(r, 4242);
    CHECK_ST(dm_insert(m, NULL, 0, NULL, 0), DM_ERR_FULL);
    CHECK_EQ(dm_len(m), 3);
    CHECK(!dm_contains_key(m, S("d")));
    /* Updates of existing keys always work. */
    CHECK_ST(dm_insert(m, S("a"), S("one")), DM_REPLACED);
    CHECK_ST(dm_swap(m, S("b"), S("two"), buf, sizeof buf, &out), DM_REPLACED);
    CHECK_ST(dm_compare_and_swap(m, S("c"), S("3"), S("three")), DM_OK);
    CHECK_ST(dm_try_insert(m, S("a"), S("x")), DM_EXISTS);
    out = 0;
    CHECK_ST(dm_get_or_insert(m, S("a"), S("x"), buf, sizeof buf, &out), DM_EXISTS);
    CHECK_MEM(buf, out, "one", 3);
    CHECK_ST(dm_insert_ttl(m, S("a"), S("uno"), 100), DM_REPLACED);
    CHECK_ST(dm_expire(m, S("a"), 0), DM_OK);
    /* Room again after a removal. */
    CHECK_ST(dm_remove(m, S("b"), NULL, 0, NULL), DM_OK);
    CHECK_ST(dm_insert(m, S("d"), S("4")), DM_OK);
    CHECK_ST(dm_insert(m, S("e"), S("5")), DM_ERR_FULL);
    CHECK_ST(dm_clear(m), DM_OK);
    CHECK_ST(dm_insert(m, S("e"), S("5")), DM_OK);
    CHECK_ST(dm_insert(m, S("f"), S("6")), DM_OK);
    CHECK_ST(dm_insert(m, S("g"), S("7")), DM_OK);
    CHECK_ST(dm_insert(m, S("h"), S("8")), DM_ERR_FULL);
    CHECK_EQ(dm_len(m), 3);
    /* Expired entries make room once purged. */
    CHECK_ST(dm_clock_set(m, 0), DM_OK);
    CHECK_ST(dm_expire(m, S("e"), 10), DM_OK);
    CHECK_ST(dm_expire(m, S("f"), 10), DM_OK);
    CHECK_ST(dm_expire(m, S("g"), 10), DM_OK);
    CHECK_ST(dm_clock_set(m, 10), DM_OK);
    size_t removed = 0;
    CHECK_ST(dm_purge_expired(m, &removed), DM_OK);
    CHECK_EQ(removed, 3);
    CHECK_ST(dm_insert(m, S("h"), S("8")), DM_OK);
    CHECK_EQ(dm_len(m), 1);
    dm_free(m);

    /* Without a purge: expired entries in the new key's own shard are swept
     * first. Find four keys that share shard 0 by asking a twin map (same
     * seed and shard count, so the same placement). */
    dm_map *twin = manual_map(2, 0);
    char keys[8][8];
    size_t nk = 0;
    for (int i = 0; nk < 4 && i < 1000; i++) {
        char k[8];
        int n = snprintf(k, sizeof k, "q%d", i);
        dm_insert(twin, (const uint8_t *)k, (size_t)n, NULL, 0);
        size_t l0 = 0;
        dm_shard_len(twin, 0, &l0);
        if (l0 == nk + 1) { /* it went to shard 0 */
            memcpy(keys[nk++], k, sizeof k);
        } else {
            dm_remove(twin, (const uint8_t *)k, (size_t)n, NULL, 0, NULL);
        }
    }
    dm_free(twin);
    CHECK_EQ(nk, 4);
    m = manual_map(2, 3);
    for (size_t i = 0; i < 3; i++)
        CHECK_ST(dm_insert_ttl(m, (const uint8_t *)keys[i], strlen(keys[i]), S("v"), 5), DM_OK);
    size_t s0 = 0;
    CHECK_ST(dm_shard_len(m, 0, &s0), DM_OK);
    CHECK_EQ(s0, 3); /* the same placement as in the twin */
    CHECK_ST(dm_insert(m, (const uint8_t *)keys[3], strlen(keys[3]), S("v")), DM_ERR_FULL);
    CHECK_ST(dm_clock_set(m, 5), DM_OK); /* all three expire; none purged */
    CHECK_ST(dm_insert(m, (const uint8_t *)keys[3], strlen(keys[3]), S("v")), DM_OK);
    CHECK_EQ(dm_len(m), 1);
    dm_free(m);
}

/* The entry count behind max_entries stays exact through every way of
 * adding and removing keys: after each removal exactly one new key fits. */
enum { CAP = 10 };

static dm_map *acc_map;
static int acc_next; /* next fresh key number */

static bool acc_insert_new(void) {
    char k[16];
    int n = snprintf(k, sizeof k, "n%d", acc_next++);
    return dm_insert(acc_map, (const uint8_t *)k, (size_t)n, S("v")) == DM_OK;
}

/* True when the map is full: one more new key gives DM_ERR_FULL. */
static bool acc_full(void) {
    char k[16];
    int n = snprintf(k, sizeof k, "n%d", acc_next);
    return dm_insert(acc_map, (const uint8_t *)k, (size_t)n, S("v")) == DM_ERR_FULL && dm_len(acc_map) == CAP;
}

static bool drop_one_cb(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    (void)v, (void)vn;
    return !(kn == 2 && memcmp(k, ctx, 2) == 0); /* keep all but ctx */
}
static bool yes_cb(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, void *ctx) {
    (void)k, (void)kn, (void)v, (void)vn, (void)ctx;
    return true;
}
static void entry_remove_cb(dm_entry *e, void *ctx) {
    (void)ctx;
    dm_entry_remove(e);
}
static void entry_set_cb(dm_entry *e, void *ctx) {
    *(dm_status *)ctx = dm_entry_set(e, S("v"));
}

static void test_bounded_accounting(void) {
    acc_map = manual_map(4, CAP);
    dm_map *m = acc_map;
    /* Fill through every inserting call: 10 keys k0..k9. */
    dm_slice ks[3] = {{(const uint8_t *)"k0", 2}, {(const uint8_t *)"k1", 2}, {(const uint8_t *)"k0", 2}};
    dm_slice vs[3] = {{(const uint8_t *)"a", 1}, {(const uint8_t *)"b", 1}, {(const uint8_t *)"c", 1}};
    CHECK_ST(dm_extend(m, ks, vs, 3), DM_OK); /* k0, k1 (k0 twice) */
    dm_status est = DM_ERR_PANIC;
    CHECK_ST(dm_entry_update(m, S("k2"), entry_set_cb, &est), DM_OK);
    CHECK_ST(est, DM_OK);
    uint8_t buf[8];
    size_t out;
    CHECK_ST(dm_get_or_insert(m, S("k3"), S("v"), buf, sizeof buf, &out), DM_OK);
    CHECK_ST(dm_swap(m, S("k4"), S("v"), buf, sizeof buf, &out), DM_OK);
    CHECK_ST(dm_add_i64(m, S("k5"), 1, NULL), DM_OK);
    CHECK_ST(dm_try_insert(m, S("k6"), S("v")), DM_OK);
    CHECK_ST(dm_insert_ttl(m, S("k7"), S("v"), 0), DM_OK);
    CHECK_ST(dm_try_insert_ttl(m, S("k8"), S("v"), 0), DM_OK);
    CHECK_ST(dm_add_i64_ttl(m, S("k9"), 1, 0, NULL), DM_OK);
    CHECK(acc_full());
    /* Calls that would add a key through the other paths are refused too. */
    dm_slice nk[1] = {{(const uint8_t *)"zz", 2}};
    CHECK_ST(dm_extend(m, nk, vs, 1), DM_ERR_FULL);
    est = DM_ERR_PANIC;
    CHECK_ST(dm_entry_update(m, S("zz"), entry_set_cb, &est), DM_OK);
    CHECK_ST(est, DM_ERR_FULL);
    CHECK(!dm_contains_key(m, S("zz")));
    CHECK(acc_full());

    /* Each removal path frees exactly one place. */
    CHECK_ST(dm_remove(m, S("k0"), NULL, 0, NULL), DM_OK);
    CHECK(acc_insert_new());
    CHECK(acc_full());
    size_t len = 0;
    CHECK_ST(dm_remove(m, S("k1"), buf, sizeof buf, &len), DM_OK);
    CHECK(acc_insert_new());
    CHECK(acc_full());
    CHECK_ST(dm_remove_if(m, S("k2"), yes_cb, NULL), DM_OK);
    CHECK(acc_insert_new());
    CHECK(acc_full());
    CHECK_ST(dm_compare_and_remove(m, S("k3"), S("v")), DM_OK);
    CHECK(acc_insert_new());
    CHECK(acc_full());
    dm_slice rk[2] = {{(const uint8_t *)"k4", 2}, {(const uint8_t *)"k4", 2}};
    size_t removed = 0;
    CHECK_ST(dm_remove_many(m, rk, 2, &removed), DM_OK);
    CHECK_EQ(removed, 1);
    CHECK(acc_insert_new());
    CHECK(acc_full());
    CHECK_ST(dm_retain_cb(m, drop_one_cb, "k5"), DM_OK);
    CHECK(acc_insert_new());
    CHECK(acc_full());
    CHECK_ST(dm_entry_update(m, S("k6"), entry_remove_cb, NULL), DM_OK);
    CHECK(acc_insert_new());
    CHECK(acc_full());
    /* Expiry: purged, or swept by the insert itself. */
    CHECK_ST(dm_clock_set(m, 100), DM_OK);
    CHECK_ST(dm_expire(m, S("k7"), 1), DM_OK);
    CHECK_ST(dm_clock_set(m, 101), DM_OK);
    CHECK_ST(dm_purge_expired(m, &removed), DM_OK);
    CHECK_EQ(removed, 1);
    CHECK(acc_insert_new());
    CHECK(acc_full());
    /* Replacing an expired key with a write keeps the count. */
    CHECK_ST(dm_expire(m, S("k8"), 1), DM_OK);
    CHECK_ST(dm_clock_set(m, 102), DM_OK);
    CHECK_ST(dm_insert(m, S("k8"), S("again")), DM_OK); /* expired = absent: a new key */
    CHECK(acc_full());
    /* Updates never change the count. */
    CHECK_ST(dm_insert(m, S("k9"), S("v")), DM_REPLACED);
    CHECK_ST(dm_swap(m, S("k9"), S("w"), buf, sizeof buf, &out), DM_REPLACED);
    CHECK(acc_full());
    /* dm_clear frees every place. */
    CHECK_ST(dm_clear(m), DM_OK);
    int fitted = 0;
    while (fitted < 2 * CAP && acc_insert_new()) fitted++;
    CHECK_EQ(fitted, CAP);
    CHECK_EQ(dm_len(m), CAP);
    dm_free(m);
}

int main(void) {
    test_options_and_clock();
    test_expiry();
    test_ttl_semantics();
    test_ttl_errors();
    test_max_entries();
    test_bounded_accounting();
    return check_finish();
}

#endif /* DM_TTL_NONE */
