/*
 * 01_creating_maps.c: the ways to create a map, and what a bad request gives.
 *
 * Seed section "Creating a DashMap": DashMap::new, with_capacity, with_shards,
 * with_capacity_and_shards and with_hasher. In C every constructor returns a
 * handle that owns one reference, released with dm_free. dm_options also
 * bounds a map (max_entries: DM_ERR_FULL beyond it) and can give it a manual
 * clock for time-to-live entries (manual_clock, dm_clock_set).
 */
#include "example_util.h"

/* Inserts keys "key-0".."key-(n-1)" with an empty value. */
static void fill(dm_map *m, int n) {
    char key[32];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        EXPECT(dm_insert(m, STR(key), NULL, 0), DM_OK);
    }
}

int main(void) {
    /* The header and the library it is linked against must agree. */
    printf("libdashmap %s (header %s)\n", dm_version(), DM_VERSION_STRING);
    CHECK(dm_version_number() == DM_VERSION_NUMBER,
          "library %u != header %u", dm_version_number(), DM_VERSION_NUMBER);

    /* Default settings: SipHash with random keys, 4 x CPUs shards (at least 64). */
    dm_map *map = dm_new();
    CHECK(map != NULL, "dm_new");
    size_t shards = dm_shard_count(map);
    printf("dm_new:                          len %zu, %zu shards (the default)\n",
           dm_len(map), shards);
    CHECK(dm_len(map) == 0 && dm_is_empty(map), "a new map is empty");
    CHECK(shards >= 2 && (shards & (shards - 1)) == 0,
          "default shard count %zu is a power of two >= 2", shards);
    dm_free(map);

    /* Pre-sized: no table growth until 100 entries. */
    map = dm_with_capacity(100);
    CHECK(map != NULL, "dm_with_capacity");
    printf("dm_with_capacity(100):           len %zu, capacity %zu\n",
           dm_len(map), dm_capacity(map));
    CHECK(dm_len(map) == 0 && dm_capacity(map) >= 100, "capacity >= 100");
    dm_free(map);

    /* More shards = less lock contention, a little more memory. */
    map = dm_with_shards(16);
    CHECK(map != NULL, "dm_with_shards");
    printf("dm_with_shards(16):              %zu shards\n", dm_shard_count(map));
    CHECK(dm_shard_count(map) == 16, "16 shards");
    dm_free(map);

    map = dm_with_capacity_and_shards(1000, 32);
    CHECK(map != NULL, "dm_with_capacity_and_shards");
    printf("dm_with_capacity_and_shards:     %zu shards, capacity %zu\n",
           dm_shard_count(map), dm_capacity(map));
    CHECK(dm_shard_count(map) == 32 && dm_capacity(map) >= 1000,
          "32 shards, capacity >= 1000");
    dm_free(map);

    /* The full set of options ("with_hasher"): the fast hasher for trusted
     * keys, and a fixed seed so that shard placement is the same in every
     * run. Two maps built from the same options place every key in the same
     * shard, which makes layouts (and tests) reproducible. */
    dm_options opts = dm_options_default();
    opts.hasher = DM_HASHER_FAST;
    opts.seed = 0x5eed;
    opts.shards = 8;
    dm_map *a = NULL, *b = NULL;
    EXPECT(dm_new_with_options(&opts, &a), DM_OK);
    EXPECT(dm_new_with_options(&opts, &b), DM_OK);
    fill(a, 200);
    fill(b, 200);
    printf("dm_new_with_options(FAST, seed): shard sizes");
    for (size_t s = 0; s < dm_shard_count(a); s++) {
        size_t la = 0, lb = 0;
        EXPECT(dm_shard_len(a, s, &la), DM_OK);
        EXPECT(dm_shard_len(b, s, &lb), DM_OK);
        CHECK(la == lb, "same seed, same placement: shard %zu has %zu vs %zu",
              s, la, lb);
        printf(" %zu", la);
    }
    printf(" (identical in both maps)\n");
    dm_free(a);
    dm_free(b);

    /* A bounded map (dm_options.max_entries): a new key beyond the bound is
     * refused with DM_ERR_FULL and changes nothing; existing keys can still
     * be updated, and a removal makes room again. */
    opts = dm_options_default();
    opts.max_entries = 3;
    dm_map *bounded = NULL;
    EXPECT(dm_new_with_options(&opts, &bounded), DM_OK);
    fill(bounded, 3);
    EXPECT(dm_insert(bounded, STR("key-3"), NULL, 0), DM_ERR_FULL);
    EXPECT(dm_insert(bounded, STR("key-0"), STR("updated")), DM_REPLACED);
    printf("max_entries = 3:                 4th key: %s, len %zu\n",
           dm_status_str(DM_ERR_FULL), dm_len(bounded));
    CHECK(dm_len(bounded) == 3 && !dm_contains_key(bounded, STR("key-3")),
          "a full map is unchanged");
    EXPECT(dm_remove(bounded, STR("key-1"), NULL, 0, NULL), DM_OK);
    EXPECT(dm_insert(bounded, STR("key-3"), NULL, 0), DM_OK);
    dm_free(bounded);

    /* dm_options.manual_clock: entry deadlines (TTLs) follow a clock that
     * only dm_clock_set moves, starting at 0; a default map follows real
     * time and refuses to be set. */
    opts = dm_options_default();
    opts.manual_clock = true;
    dm_map *sim = NULL;
    EXPECT(dm_new_with_options(&opts, &sim), DM_OK);
    CHECK(dm_clock_now(sim) == 0, "a manual clock starts at 0");
    EXPECT(dm_clock_set(sim, 5000), DM_OK);
    printf("manual_clock = true:             clock %" PRIu64 " ms after dm_clock_set\n",
           dm_clock_now(sim));
    CHECK(dm_clock_now(sim) == 5000, "the clock moved");
    dm_free(sim);
    map = dm_new();
    CHECK(map != NULL, "dm_new");
    EXPECT(dm_clock_set(map, 5000), DM_ERR_INVALID);
    dm_free(map);

    /* Bad requests. The pointer-returning constructors answer NULL; the
     * options constructor says why and leaves *out as it was. */
    CHECK(dm_with_shards(12) == NULL, "12 is not a power of two");
    CHECK(dm_with_shards(1) == NULL, "a map needs at least 2 shards");
    CHECK(dm_with_shards(0) == NULL, "0 means 'default' only in dm_options");
    CHECK(dm_with_shards(2 * (size_t)DM_MAX_SHARDS) == NULL, "over DM_MAX_SHARDS");
    CHECK(dm_with_capacity_and_shards(10, 3) == NULL, "3 shards");

    dm_map *out = NULL;
    opts = dm_options_default();
    opts.shards = 12;
    dm_status st = dm_new_with_options(&opts, &out);
    printf("shards = 12:                     %s (%s)\n",
           st == DM_ERR_INVALID ? "DM_ERR_INVALID" : "?", dm_status_str(st));
    CHECK(st == DM_ERR_INVALID && out == NULL, "bad shard count rejected");

    opts = dm_options_default();
    opts.hasher = 99;
    EXPECT(dm_new_with_options(&opts, &out), DM_ERR_INVALID);
    EXPECT(dm_new_with_options(NULL, &out), DM_ERR_NULL);
    EXPECT(dm_new_with_options(&opts, NULL), DM_ERR_NULL);
    CHECK(out == NULL, "*out is written only on success");

    dm_free(NULL); /* a no-op, like free(NULL) */
    printf("01_creating_maps: OK\n");
    return 0;
}
