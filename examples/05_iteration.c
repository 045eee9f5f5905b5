/*
 * 05_iteration.c: visiting every entry.
 *
 * Seed section "Iteration" (iter, iter_mut, keys, values) plus retain.
 *   dm_for_each      callback per entry, under each shard's read lock
 *   dm_for_each_mut  the same under the write lock; values writable in place
 *   dm_iter_*        a cursor that holds no lock between calls, so the loop
 *                    body may do anything, including calling the map
 *   dm_retain_cb     keep only the entries a predicate accepts
 * Order is unspecified (it follows the hash); sort if you need an order.
 */
#include "example_util.h"

#include <ctype.h>

static bool print_entry(const uint8_t *k, size_t klen, const uint8_t *v,
                        size_t vlen, void *ctx) {
    printf("  %.*s -> %.*s\n", (int)klen, (const char *)k, (int)vlen,
           (const char *)v);
    (*(size_t *)ctx)++;
    return true; /* keep going */
}

static bool stop_after_first(const uint8_t *k, size_t klen, const uint8_t *v,
                             size_t vlen, void *ctx) {
    (void)k, (void)klen, (void)v, (void)vlen;
    (*(size_t *)ctx)++;
    return false; /* stop: dm_for_each returns DM_STOPPED */
}

static bool uppercase(const uint8_t *k, size_t klen, uint8_t *v, size_t vlen,
                      void *ctx) {
    (void)ctx;
    for (size_t i = 0; i < vlen; i++) v[i] = (uint8_t)toupper(v[i]);
    printf("  %.*s -> %.*s\n", (int)klen, (const char *)k, (int)vlen,
           (const char *)v);
    return true;
}

/* retain(|k, _| k < limit) */
static bool key_below(const uint8_t *k, size_t klen, const uint8_t *v,
                      size_t vlen, void *ctx) {
    (void)v, (void)vlen;
    char key[16] = {0};
    memcpy(key, k, klen < sizeof key - 1 ? klen : sizeof key - 1);
    return atoi(key) < *(const int *)ctx;
}

/* An entry copied out of the cursor (its pointers die at the next step). */
struct pair {
    int key;
    char value[16];
};

static int by_key(const void *a, const void *b) {
    const struct pair *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

int main(void) {
    dm_map *map = dm_new();
    CHECK(map != NULL, "dm_new");
    EXPECT(dm_insert(map, STR("1"), STR("one")), DM_OK);
    EXPECT(dm_insert(map, STR("2"), STR("two")), DM_OK);
    EXPECT(dm_insert(map, STR("3"), STR("three")), DM_OK);

    size_t visited = 0;
    printf("Iterating:\n");
    EXPECT(dm_for_each(map, print_entry, &visited), DM_OK);
    CHECK(visited == 3, "visited %zu", visited);

    visited = 0;
    EXPECT(dm_for_each(map, stop_after_first, &visited), DM_STOPPED);
    CHECK(visited == 1, "stopped after one entry");

    printf("\nUppercase:\n");
    EXPECT(dm_for_each_mut(map, uppercase, NULL), DM_OK);
    char buf[16];
    CHECK(get_str(map, "3", buf, sizeof buf) && strcmp(buf, "THREE") == 0,
          "'3' -> '%s'", buf);

    /* The cursor: keys and values, sorted by key for stable output. While
     * it runs we may call the map (here: dm_contains_key), which a callback
     * could not. */
    struct pair pairs[8];
    size_t n = 0;
    dm_iter *it = dm_iter_new(map);
    CHECK(it != NULL, "dm_iter_new");
    const uint8_t *k, *v;
    size_t klen, vlen;
    dm_status st;
    while ((st = dm_iter_next(it, &k, &klen, &v, &vlen)) == DM_OK) {
        CHECK(n < 8 && klen < 16 && vlen < 16, "small entries");
        CHECK(dm_contains_key(map, k, klen), "the map is usable meanwhile");
        char key[16] = {0};
        memcpy(key, k, klen);
        pairs[n].key = atoi(key);
        memcpy(pairs[n].value, v, vlen);
        pairs[n].value[vlen] = '\0';
        n++;
    }
    CHECK(st == DM_NOT_FOUND, "the cursor ends with DM_NOT_FOUND: %s",
          dm_status_str(st));
    dm_iter_free(it);
    qsort(pairs, n, sizeof pairs[0], by_key);

    printf("\nKeys: [");
    for (size_t i = 0; i < n; i++) printf("%s%d", i ? ", " : "", pairs[i].key);
    printf("]\nValues: [");
    for (size_t i = 0; i < n; i++)
        printf("%s\"%s\"", i ? ", " : "", pairs[i].value);
    printf("]\n");
    CHECK(n == 3 && pairs[0].key == 1 && pairs[2].key == 3, "keys 1, 2, 3");
    CHECK(strcmp(pairs[0].value, "ONE") == 0 && strcmp(pairs[1].value, "TWO") == 0,
          "values uppercased");

    /* retain(|k, _| *k < 3) */
    int limit = 3;
    EXPECT(dm_retain_cb(map, key_below, &limit), DM_OK);
    printf("After retain(key < 3): %zu entries\n", dm_len(map));
    CHECK(dm_len(map) == 2 && !dm_contains_key(map, STR("3")), "3 removed");

    dm_free(map);
    printf("05_iteration: OK\n");
    return 0;
}
