/*
 * 17_shard_inspection.c: how entries spread over shards.
 *
 * Seed section "Shard Inspection". A map is split into dm_shard_count()
 * shards, each with its own lock; a key's hash picks its shard. dm_shard_len
 * counts one shard, dm_stats_get summarises the whole map (sizes, capacity,
 * emptiest and fullest shard, bytes stored). A good hash keeps shards
 * balanced, which is what keeps lock contention low.
 */
#include "example_util.h"

#include <math.h>

static void fill(dm_map *m, int n, size_t *key_bytes, size_t *val_bytes) {
    char key[32], val[32];
    *key_bytes = *val_bytes = 0;
    for (int i = 0; i < n; i++) {
        int kl = snprintf(key, sizeof key, "%d", i);
        int vl = snprintf(val, sizeof val, "value_%d", i);
        EXPECT(dm_insert(m, (const uint8_t *)key, (size_t)kl, (const uint8_t *)val,
                         (size_t)vl), DM_OK);
        *key_bytes += (size_t)kl;
        *val_bytes += (size_t)vl;
    }
}

/* Prints per-shard sizes and checks them against dm_len and dm_stats_get. */
static void inspect(const dm_map *m, size_t key_bytes, size_t val_bytes, bool bars) {
    size_t shards = dm_shard_count(m), total = 0, lo = SIZE_MAX, hi = 0;
    double sumsq = 0;
    for (size_t s = 0; s < shards; s++) {
        size_t len = 0;
        EXPECT(dm_shard_len(m, s, &len), DM_OK);
        if (bars) {
            printf("  shard %2zu: %4zu ", s, len);
            for (size_t i = 0; i < len / 2; i++) putchar('#');
            putchar('\n');
        }
        total += len;
        lo = len < lo ? len : lo;
        hi = len > hi ? len : hi;
        sumsq += (double)len * (double)len;
    }
    double mean = (double)total / (double)shards;
    double sd = sqrt(sumsq / (double)shards - mean * mean);
    printf("  %zu shards, total %zu entries, min %zu / mean %.1f / max %zu, "
           "std dev %.1f\n", shards, total, lo, mean, hi, sd);
    CHECK(total == dm_len(m), "shard sizes add up to dm_len");

    dm_stats st;
    EXPECT(dm_stats_get(m, &st), DM_OK);
    printf("  dm_stats_get: len %zu, capacity %zu, key bytes %zu, value bytes %zu\n",
           st.len, st.capacity, st.key_bytes, st.value_bytes);
    CHECK(st.len == total && st.shards == shards, "stats len/shards");
    CHECK(st.min_shard_len == lo && st.max_shard_len == hi, "stats min/max");
    CHECK(st.capacity >= st.len, "capacity holds every entry");
    CHECK(st.key_bytes == key_bytes && st.value_bytes == val_bytes, "bytes stored");
}

int main(void) {
    size_t kb, vb;

    /* The seed: 4 shards, 100 entries. */
    dm_map *small = dm_with_shards(4);
    CHECK(small != NULL, "dm_with_shards(4)");
    fill(small, 100, &kb, &vb);
    printf("Number of shards: %zu\n", dm_shard_count(small));
    CHECK(dm_shard_count(small) == 4, "4 shards");
    inspect(small, kb, vb, true);

    /* Asking for a shard that does not exist is an error, not a crash. */
    size_t len = 0;
    EXPECT(dm_shard_len(small, 4, &len), DM_ERR_INVALID);
    dm_free(small);

    /* A bigger map with a fixed seed, so the layout (and this check) is the
     * same in every run: 10000 keys over 64 shards should be close to even.
     * A badly distributing hash would put far more than twice the mean in
     * some shard. */
    dm_options opts = dm_options_default();
    opts.shards = 64;
    opts.hasher = DM_HASHER_FAST;
    opts.seed = 2024;
    dm_map *big = NULL;
    EXPECT(dm_new_with_options(&opts, &big), DM_OK);
    fill(big, 10000, &kb, &vb);
    printf("\n10000 entries, fast hasher with a fixed seed:\n");
    inspect(big, kb, vb, false);
    dm_stats st;
    EXPECT(dm_stats_get(big, &st), DM_OK);
    CHECK(st.max_shard_len < 2 * 10000 / 64 && st.min_shard_len > 10000 / 64 / 2,
          "shards within 2x of the mean: min %zu, max %zu", st.min_shard_len,
          st.max_shard_len);
    dm_free(big);

    printf("17_shard_inspection: OK\n");
    return 0;
}
