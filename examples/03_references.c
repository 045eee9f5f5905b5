/*
 * 03_references.c: sharing a map, reading without copying, changing a value
 * in place.
 *
 * Seed section "Working with References". Rust hands out guards (Ref/RefMut)
 * that hold a shard lock while they live. In C the lock is held only while
 * one of your callbacks runs:
 *   - dm_ref / dm_free share one map between components (Arc::clone / drop);
 *   - dm_get_with reads a value in place, zero-copy (map.get);
 *   - dm_entry_update + dm_entry_value_mut change it in place (map.get_mut).
 */
#include "example_util.h"

/* ---- 1. Sharing: each component owns its own reference ---------------- */

/* A component that outlives whoever created the map: it got its own
 * reference and releases it when done. */
struct reporter {
    dm_map *map; /* owned reference */
    size_t seen;
};

static void *reporter_run(void *arg) {
    struct reporter *r = arg;
    char buf[32];
    for (int i = 1; i <= 2; i++) {
        char key[8];
        snprintf(key, sizeof key, "%d", i);
        if (get_str(r->map, key, buf, sizeof buf)) r->seen++;
    }
    dm_free(r->map); /* our reference; the map lives while others hold one */
    r->map = NULL;
    return NULL;
}

/* ---- 2. Zero-copy read ------------------------------------------------- */

struct word_stats {
    size_t len;
    size_t vowels;
    int reentrant_len_was_max; /* what dm_len said from inside the callback */
    const dm_map *map;
};

/* Runs under the shard's read lock: look, compute, return quickly. `val` is
 * valid only during this call, so copy whatever you need to keep. */
static void count_vowels(const uint8_t *val, size_t len, void *ctx) {
    struct word_stats *ws = ctx;
    ws->len = len;
    for (size_t i = 0; i < len; i++)
        if (val[i] != '\0' && strchr("aeiou", val[i]) != NULL) ws->vowels++;
    /* Calling the same map here would need the lock we are under; the
     * library refuses (dm_len: SIZE_MAX, others: DM_ERR_REENTRANT) rather
     * than deadlock. */
    ws->reentrant_len_was_max = dm_len(ws->map) == SIZE_MAX;
}

/* ---- 3. In-place mutation (get_mut) ------------------------------------ */

/* Same length: modify the stored bytes directly. */
static void capitalize(dm_entry *e, void *ctx) {
    (void)ctx;
    size_t len = 0;
    uint8_t *v = dm_entry_value_mut(e, &len); /* NULL when the key is absent */
    if (v != NULL && len > 0 && v[0] >= 'a' && v[0] <= 'z') v[0] -= 'a' - 'A';
}

/* New length (push_str): build the new value and dm_entry_set it. Still one
 * atomic step: nobody sees the value between read and write. */
static void append_bang(dm_entry *e, void *ctx) {
    dm_status *result = ctx;
    size_t len = 0;
    const uint8_t *v = dm_entry_value(e, &len);
    if (v == NULL) {
        *result = DM_NOT_FOUND;
        return;
    }
    uint8_t tmp[64];
    CHECK(len + 1 <= sizeof tmp, "value fits");
    memcpy(tmp, v, len);
    tmp[len] = '!';
    *result = dm_entry_set(e, tmp, len + 1);
}

int main(void) {
    dm_map *map = dm_new();
    CHECK(map != NULL, "dm_new");
    EXPECT(dm_insert(map, STR("1"), STR("hello")), DM_OK);
    EXPECT(dm_insert(map, STR("2"), STR("world")), DM_OK);

    /* 1. Hand a reference to a reporter thread, then drop ours early: the
     * map stays alive until the last reference is released. To keep using
     * the map here we take one more reference for ourselves first. */
    dm_map *mine = dm_ref(map);
    CHECK(mine == map, "dm_ref returns the same handle");
    struct reporter rep = {.map = dm_ref(map), .seen = 0};
    pthread_t t;
    start_thread(&t, reporter_run, &rep);
    dm_free(map); /* the creator is done; `mine` and the reporter remain */
    map = NULL;
    join_thread(t);
    printf("Reporter saw %zu entries and released its reference\n", rep.seen);
    CHECK(rep.seen == 2, "reporter saw both entries");

    /* 2. Zero-copy read with dm_get_with. */
    struct word_stats ws = {.map = mine};
    EXPECT(dm_get_with(mine, STR("1"), count_vowels, &ws), DM_OK);
    printf("Key: 1, value length %zu, %zu vowels (read in place)\n", ws.len,
           ws.vowels);
    CHECK(ws.len == 5 && ws.vowels == 2, "'hello' has 5 letters, 2 vowels");
    CHECK(ws.reentrant_len_was_max, "dm_len inside a callback is SIZE_MAX");
    /* The callback is not called for a missing key. */
    EXPECT(dm_get_with(mine, STR("3"), count_vowels, &ws), DM_NOT_FOUND);

    /* 3. get_mut: modify the value under the write lock. */
    EXPECT(dm_entry_update(mine, STR("2"), capitalize, NULL), DM_OK);
    dm_status appended = DM_ERR_PANIC;
    EXPECT(dm_entry_update(mine, STR("2"), append_bang, &appended), DM_OK);
    CHECK(appended == DM_OK, "dm_entry_set: %s", dm_status_str(appended));

    char buf[32];
    CHECK(get_str(mine, "2", buf, sizeof buf), "'2' present");
    printf("Modified: %s\n", buf);
    CHECK(strcmp(buf, "World!") == 0, "expected 'World!', got '%s'", buf);

    /* Mutating a missing key does nothing (and inserts nothing). */
    EXPECT(dm_entry_update(mine, STR("missing"), capitalize, NULL), DM_OK);
    CHECK(!dm_contains_key(mine, STR("missing")), "no entry was created");

    dm_free(mine); /* the last reference: frees the map and its entries */
    printf("03_references: OK\n");
    return 0;
}
