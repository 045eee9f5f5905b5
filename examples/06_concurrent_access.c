/*
 * 06_concurrent_access.c: writer and reader threads on one map, no outer lock.
 *
 * Seed section "Concurrent Access": 4 writers insert 1000 keys each while 2
 * readers look up thread 0's keys. Each thread owns a reference (dm_ref, the
 * Arc::clone of C) and releases it when done. Every dm_ call is thread-safe;
 * threads on different shards never wait for each other.
 */
#include "example_util.h"

enum { WRITERS = 4, READERS = 2, KEYS_PER_WRITER = 1000, READ_KEYS = 500 };

static struct start_gate start = START_GATE_INIT; /* begin together */

struct worker {
    dm_map *map; /* this thread's own reference */
    int id;
    /* reader results */
    int passes;
    long hits;
};

static void key_of(char *buf, size_t cap, int thread, int j) {
    snprintf(buf, cap, "thread_%d_key_%d", thread, j);
}

static void *writer(void *arg) {
    struct worker *w = arg;
    gate_wait(&start);
    char key[32];
    uint8_t val[8];
    for (int j = 0; j < KEYS_PER_WRITER; j++) {
        key_of(key, sizeof key, w->id, j);
        put_i64(val, (int64_t)w->id * 1000 + j);
        EXPECT(dm_insert(w->map, STR(key), val, sizeof val), DM_OK);
    }
    dm_free(w->map);
    return NULL;
}

/* Reads thread 0's keys while they are being written, pass after pass, until
 * one pass finds all of them. Any value it sees must be the right one:
 * a reader never observes a half-written value. */
static void *reader(void *arg) {
    struct worker *w = arg;
    gate_wait(&start);
    char key[32];
    uint8_t val[8];
    size_t len;
    int found;
    do {
        found = 0;
        for (int j = 0; j < READ_KEYS; j++) {
            key_of(key, sizeof key, 0, j);
            dm_status st = dm_get_copy(w->map, STR(key), val, sizeof val, &len);
            if (st == DM_NOT_FOUND) continue;
            CHECK(st == DM_OK && len == 8, "get: %s", dm_status_str(st));
            CHECK(get_i64(val) == j, "%s = %" PRId64, key, get_i64(val));
            found++;
        }
        w->passes++;
        w->hits += found;
    } while (found < READ_KEYS);
    dm_free(w->map);
    return NULL;
}

int main(void) {
    dm_map *map = dm_new();
    CHECK(map != NULL, "dm_new");

    pthread_t threads[WRITERS + READERS];
    struct worker workers[WRITERS + READERS];
    for (int i = 0; i < WRITERS + READERS; i++) {
        workers[i] = (struct worker){.map = dm_ref(map), .id = i};
        void *(*fn)(void *) = i < WRITERS ? writer : reader;
        start_thread(&threads[i], fn, &workers[i]);
    }
    gate_open(&start);
    for (int i = 0; i < WRITERS + READERS; i++) join_thread(threads[i]);

    for (int r = WRITERS; r < WRITERS + READERS; r++)
        printf("Reader %d: %d pass(es) until all %d keys were visible, "
               "%ld hits in total\n",
               r - WRITERS, workers[r].passes, READ_KEYS, workers[r].hits);

    size_t len = dm_len(map);
    printf("Final map size: %zu\n", len);
    CHECK(len == WRITERS * KEYS_PER_WRITER, "expected %d entries, got %zu",
          WRITERS * KEYS_PER_WRITER, len);

    /* Every write landed with its own value. */
    char key[32];
    uint8_t val[8];
    size_t vlen;
    for (int i = 0; i < WRITERS; i++)
        for (int j = 0; j < KEYS_PER_WRITER; j++) {
            key_of(key, sizeof key, i, j);
            EXPECT(dm_get_copy(map, STR(key), val, sizeof val, &vlen), DM_OK);
            CHECK(get_i64(val) == (int64_t)i * 1000 + j, "value of %s", key);
        }

    dm_free(map);
    printf("06_concurrent_access: OK\n");
    return 0;
}
