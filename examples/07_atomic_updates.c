/*
 * 07_atomic_updates.c: read-modify-write without losing updates.
 *
 * Seed section "Atomic Updates" (counter increments, alter, a compare-and-
 * swap loop). Each call below is one atomic step under the key's shard lock,
 * and none needs a callback (so bindings in Go, Node or Zig get them cheaply):
 *   dm_add_i64            counter += delta, returns the new value
 *   dm_compare_and_swap   replace only if the value is still what you read
 *   dm_swap               store, and get the previous value back
 *   dm_try_insert         insert only if absent (first writer wins)
 *   dm_get_or_insert      existing value, or insert this one
 */
#include "example_util.h"

enum { THREADS = 4, INCREMENTS = 10000, DOUBLINGS = 5 };

static struct start_gate gate = START_GATE_INIT;

struct worker {
    dm_map *map;
    int id;
    long cas_retries;
    dm_status election;
};

/* Reads a counter (8-byte little-endian int64). */
static int64_t read_i64(const dm_map *m, const char *key) {
    uint8_t b[8];
    size_t len = 0;
    EXPECT(dm_get_copy(m, STR(key), b, sizeof b, &len), DM_OK);
    CHECK(len == 8, "8-byte counter");
    return get_i64(b);
}

/* alter(|v| v * 2) from several threads at once, as a CAS loop: read, compute,
 * and store only if nobody changed the value in between; else retry. */
static long cas_double(dm_map *m, const char *key) {
    long retries = 0;
    for (;;) {
        uint8_t cur[8], next[8];
        size_t len = 0;
        EXPECT(dm_get_copy(m, STR(key), cur, sizeof cur, &len), DM_OK);
        put_i64(next, get_i64(cur) * 2);
        dm_status st = dm_compare_and_swap(m, STR(key), cur, len, next, 8);
        if (st == DM_OK) return retries;
        CHECK(st == DM_MISMATCH, "CAS: %s", dm_status_str(st));
        retries++; /* someone else won this round */
    }
}

static void *work(void *arg) {
    struct worker *w = arg;
    char name[32];
    snprintf(name, sizeof name, "thread %d", w->id);
    gate_wait(&gate);

    /* A shared counter and a per-thread one. */
    for (int i = 0; i < INCREMENTS; i++) {
        EXPECT(dm_add_i64(w->map, STR("requests"), 1, NULL), DM_OK);
        EXPECT(dm_add_i64(w->map, STR(name), 1, NULL), DM_OK);
    }
    /* Doubling commutes, so the final value is exact whatever the order. */
    for (int i = 0; i < DOUBLINGS; i++) w->cas_retries += cas_double(w->map, "doubled");

    /* Leader election: exactly one try_insert succeeds. */
    w->election = dm_try_insert(w->map, STR("leader"), STR(name));
    return NULL;
}

int main(void) {
    dm_map *map = dm_new();
    CHECK(map != NULL, "dm_new");

    /* Seed: entry().and_modify(+1).or_insert(1) ten times == dm_add_i64. */
    int64_t v = 0;
    for (int i = 0; i < 10; i++) EXPECT(dm_add_i64(map, STR("counter"), 1, &v), DM_OK);
    printf("Counter: %" PRId64 "\n", v);
    CHECK(v == 10, "counter == 10");

    /* Seed: compare-and-swap "if current == 20 { set 100 }". */
    uint8_t twenty[8], hundred[8];
    put_i64(twenty, 20);
    put_i64(hundred, 100);
    EXPECT(dm_compare_and_swap(map, STR("counter"), twenty, 8, hundred, 8), DM_MISMATCH);
    cas_double(map, "counter"); /* alter(|v| v * 2): 10 -> 20 */
    EXPECT(dm_compare_and_swap(map, STR("counter"), twenty, 8, hundred, 8), DM_OK);
    EXPECT(dm_compare_and_swap(map, STR("absent"), twenty, 8, hundred, 8), DM_NOT_FOUND);
    printf("After CAS: %" PRId64 "\n", read_i64(map, "counter"));
    CHECK(read_i64(map, "counter") == 100, "counter == 100");

    /* Concurrent part: counters, CAS loops and an election. */
    uint8_t one[8];
    put_i64(one, 1);
    EXPECT(dm_insert(map, STR("doubled"), one, 8), DM_OK);
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.map = map, .id = i};
        start_thread(&t[i], work, &w[i]);
    }
    gate_open(&gate);
    long retries = 0;
    int winners = 0, winner = -1;
    for (int i = 0; i < THREADS; i++) {
        join_thread(t[i]);
        retries += w[i].cas_retries;
        if (w[i].election == DM_OK) winners++, winner = i;
        else CHECK(w[i].election == DM_EXISTS, "try_insert: %s",
                   dm_status_str(w[i].election));
    }

    int64_t requests = read_i64(map, "requests");
    printf("%d threads x %d increments: requests = %" PRId64 "\n", THREADS,
           INCREMENTS, requests);
    CHECK(requests == (int64_t)THREADS * INCREMENTS, "no increment lost");
    for (int i = 0; i < THREADS; i++) {
        char name[32];
        snprintf(name, sizeof name, "thread %d", i);
        CHECK(read_i64(map, name) == INCREMENTS, "%s's own counter", name);
    }

    int64_t doubled = read_i64(map, "doubled");
    printf("%d x %d CAS doublings: 2^%d = %" PRId64 " (%ld retries)\n", THREADS,
           DOUBLINGS, THREADS * DOUBLINGS, doubled, retries);
    CHECK(doubled == (int64_t)1 << (THREADS * DOUBLINGS), "no doubling lost");

    char leader[32];
    CHECK(get_str(map, "leader", leader, sizeof leader), "a leader exists");
    printf("Leader election: %d winner (%s)\n", winners, leader);
    CHECK(winners == 1, "exactly one try_insert won, not %d", winners);
    char expect[32];
    snprintf(expect, sizeof expect, "thread %d", winner);
    CHECK(strcmp(leader, expect) == 0, "the winner's value is stored");

    /* dm_swap: hand over leadership and learn who had it. */
    char old[32];
    size_t old_len = 0;
    EXPECT(dm_swap(map, STR("leader"), STR("operator"), (uint8_t *)old,
                   sizeof old, &old_len), DM_REPLACED);
    printf("Swapped leader: %.*s -> operator\n", (int)old_len, old);
    CHECK(old_len == strlen(leader) && memcmp(old, leader, old_len) == 0,
          "old value returned");
    /* Too small a buffer: nothing changes, the needed size comes back. */
    EXPECT(dm_swap(map, STR("leader"), STR("x"), (uint8_t *)old, 2, &old_len),
           DM_BUFFER_TOO_SMALL);
    CHECK(old_len == strlen("operator"), "needed %zu bytes", old_len);
    CHECK(get_str(map, "leader", old, sizeof old) && strcmp(old, "operator") == 0,
          "unchanged after BUFFER_TOO_SMALL");
    EXPECT(dm_swap(map, STR("new-key"), STR("v"), NULL, 0, &old_len), DM_OK);

    /* dm_get_or_insert: one call for "the existing value, or this one". */
    char got[32];
    size_t got_len = 0;
    EXPECT(dm_get_or_insert(map, STR("region"), STR("eu-west"), (uint8_t *)got,
                            sizeof got, &got_len), DM_OK);
    EXPECT(dm_get_or_insert(map, STR("region"), STR("us-east"), (uint8_t *)got,
                            sizeof got, &got_len), DM_EXISTS);
    printf("Region (get_or_insert twice): %.*s\n", (int)got_len, got);
    CHECK(got_len == 7 && memcmp(got, "eu-west", 7) == 0, "first value kept");

    /* A counter must be exactly 8 bytes. */
    EXPECT(dm_add_i64(map, STR("region"), 1, NULL), DM_ERR_INVALID);

    dm_free(map);
    printf("07_atomic_updates: OK\n");
    return 0;
}
