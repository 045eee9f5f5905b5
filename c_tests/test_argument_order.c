/*
 * test_argument_order.c: the order in which argument errors are reported,
 * where it is easy to get wrong: NULL before DM_ERR_INVALID across every
 * argument (also inside slice arrays), and argument errors before
 * DM_ERR_REENTRANT. (These cases once failed; they guard the fix.)
 */
#include "check.h"

/* Header, "Conventions": "NULL errors are reported before DM_ERR_INVALID". */

/* 1. dm_extend must not check all of `keys` before `vals`: an INVALID length in
 *    keys hides a NULL pointer in vals. */
static void extend_null_after_invalid(void) {
    dm_map *m = MUST(dm_new());
    const uint8_t k[] = "k";
    dm_slice keys[1] = {{k, (size_t)PTRDIFF_MAX + 1}}; /* DM_ERR_INVALID */
    dm_slice vals[1] = {{NULL, 1}};                    /* DM_ERR_NULL */
    CHECK_ST(dm_extend(m, keys, vals, 1), DM_ERR_NULL);
    CHECK_EQ(dm_len(m), 0);
    dm_free(m);
}

/* 2. dm_get_many must not check buf/buf_cap before the key slices: an INVALID
 *    buf_cap hides a NULL key pointer. */
static void get_many_null_after_invalid(void) {
    dm_map *m = MUST(dm_new());
    dm_slice keys[1] = {{NULL, 1}}; /* DM_ERR_NULL */
    uint8_t buf[8];
    size_t lens[1], used;
    CHECK_ST(dm_get_many(m, keys, 1, buf, (size_t)PTRDIFF_MAX + 1, lens, &used), DM_ERR_NULL);
    dm_free(m);
}

/* Header: "NULL errors are reported before DM_ERR_INVALID, and both before
 * DM_ERR_REENTRANT"; dm_shard_len: "DM_ERR_INVALID when shard >=
 * dm_shard_count(map)" (a lock-free check, like dm_shard_count).
 * 3. Inside a callback, an out-of-range shard index gives DM_ERR_INVALID. */
static void shard_len_cb(dm_entry *e, void *ctx) {
    (void)e;
    size_t len = 4242;
    CHECK_ST(dm_shard_len((const dm_map *)ctx, 1000000, &len), DM_ERR_INVALID);
    CHECK_EQ(len, 4242);
}

static void shard_len_invalid_before_reentrant(void) {
    dm_map *m = MUST(dm_with_shards(4));
    CHECK_ST(dm_entry_update(m, S("k"), shard_len_cb, m), DM_OK);
    dm_free(m);
}

int main(void) {
    extend_null_after_invalid();
    get_many_null_after_invalid();
    shard_len_invalid_before_reentrant();
    return check_finish();
}
