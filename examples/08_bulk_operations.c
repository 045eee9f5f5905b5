/*
 * 08_bulk_operations.c: many keys per call.
 *
 * Seed section "Bulk Operations" (extend, retain, shrink_to_fit). Batch calls
 * take each shard's lock once for all the keys that live there, instead of
 * once per key:
 *   dm_extend        insert n pairs
 *   dm_get_many      look up n keys; values packed into one buffer, sized by
 *                    a first call (two-call size negotiation)
 *   dm_remove_many   remove n keys, counting the ones that were there
 */
#include "example_util.h"

enum { N = 1000 };

/* retain(|k, _| k < 3) on keys "1", "2", "3". */
static bool key_below_3(const uint8_t *k, size_t klen, const uint8_t *v,
                        size_t vlen, void *ctx) {
    (void)v, (void)vlen, (void)ctx;
    return klen == 1 && k[0] < '3';
}

static bool keep_all(const uint8_t *k, size_t klen, const uint8_t *v,
                     size_t vlen, void *ctx) {
    (void)k, (void)klen, (void)v, (void)vlen, (void)ctx;
    return true;
}

static dm_slice slice(const char *s) {
    return (dm_slice){(const uint8_t *)s, strlen(s)};
}

int main(void) {
    dm_map *map = dm_new();
    CHECK(map != NULL, "dm_new");

    /* extend([(1, "one"), (2, "two"), (3, "three")]) */
    dm_slice keys[3] = {slice("1"), slice("2"), slice("3")};
    dm_slice vals[3] = {slice("one"), slice("two"), slice("three")};
    EXPECT(dm_extend(map, keys, vals, 3), DM_OK);
    printf("After extend: %zu entries\n", dm_len(map));
    CHECK(dm_len(map) == 3, "3 entries");

    EXPECT(dm_retain_cb(map, key_below_3, NULL), DM_OK);
    printf("After retain(key < 3): %zu entries\n", dm_len(map));
    CHECK(dm_len(map) == 2 && !dm_contains_key(map, STR("3")), "'3' dropped");
    EXPECT(dm_retain_cb(map, keep_all, NULL), DM_OK);
    CHECK(dm_len(map) == 2, "retain(true) keeps all");
    EXPECT(dm_clear(map), DM_OK);

    /* A bigger batch: N items, built in arrays of slices. A key listed twice
     * ends with its last value. */
    static char kbuf[N + 1][16], vbuf[N + 1][24];
    dm_slice ks[N + 1], vs[N + 1];
    for (int i = 0; i < N; i++) {
        snprintf(kbuf[i], sizeof kbuf[i], "item:%04d", i);
        snprintf(vbuf[i], sizeof vbuf[i], "value of item %d", i);
        ks[i] = slice(kbuf[i]);
        vs[i] = slice(vbuf[i]);
    }
    ks[N] = slice("item:0007");
    vs[N] = slice("lucky seven");
    EXPECT(dm_extend(map, ks, vs, N + 1), DM_OK);
    printf("extend(%d pairs, one key twice): %zu entries\n", N + 1, dm_len(map));
    CHECK(dm_len(map) == N, "%d distinct keys", N);

    /* get_many with two-call size negotiation. The first call (no buffer)
     * reports the bytes needed; allocate and call again. Another thread may
     * grow a value in between, so loop until it fits. */
    dm_slice want[4] = {slice("item:0001"), slice("item:0007"),
                        slice("no-such-item"), slice("item:0999")};
    size_t lens[4], used = 0, cap = 0;
    uint8_t *buf = NULL;
    dm_status st;
    while ((st = dm_get_many(map, want, 4, buf, cap, lens, &used)) ==
           DM_BUFFER_TOO_SMALL) {
        cap = used;
        free(buf);
        buf = malloc(cap);
        CHECK(buf != NULL, "malloc");
    }
    EXPECT(st, DM_OK);
    printf("get_many: %zu bytes for 4 keys\n", used);
    /* Values are packed back to back in key order; SIZE_MAX marks a miss. */
    const char *expect[4] = {"value of item 1", "lucky seven", NULL,
                             "value of item 999"};
    size_t at = 0;
    for (int i = 0; i < 4; i++) {
        if (lens[i] == SIZE_MAX) {
            printf("  %.*s: (missing)\n", (int)want[i].len, (const char *)want[i].ptr);
            CHECK(expect[i] == NULL, "key %d should be present", i);
            continue;
        }
        printf("  %.*s: %.*s\n", (int)want[i].len, (const char *)want[i].ptr,
               (int)lens[i], (const char *)buf + at);
        CHECK(expect[i] != NULL && lens[i] == strlen(expect[i]) &&
                  memcmp(buf + at, expect[i], lens[i]) == 0,
              "value of key %d", i);
        at += lens[i];
    }
    CHECK(at == used, "lengths add up to the bytes used");
    free(buf);

    /* remove_many: every even item, plus two keys that are not there. */
    dm_slice doomed[N / 2 + 2];
    size_t nd = 0;
    for (int i = 0; i < N; i += 2) doomed[nd++] = ks[i];
    doomed[nd++] = slice("no-such-item");
    doomed[nd++] = slice("item:0000"); /* listed twice: removed once */
    size_t removed = 0;
    EXPECT(dm_remove_many(map, doomed, nd, &removed), DM_OK);
    printf("remove_many(%zu keys): %zu removed, %zu left\n", nd, removed, dm_len(map));
    CHECK(removed == N / 2 && dm_len(map) == N / 2, "exactly the even items");
    CHECK(!dm_contains_key(map, STR("item:0010")) &&
              dm_contains_key(map, STR("item:0011")),
          "evens gone, odds kept");

    /* Shrink to fit: give back the room the removed entries used. */
    size_t before = dm_capacity(map);
    EXPECT(dm_shrink_to_fit(map), DM_OK);
    printf("shrink_to_fit: capacity %zu -> %zu for %zu entries\n", before,
           dm_capacity(map), dm_len(map));
    CHECK(dm_capacity(map) >= dm_len(map) && dm_capacity(map) <= before,
          "capacity still holds every entry");

    dm_free(map);
    printf("08_bulk_operations: OK\n");
    return 0;
}
