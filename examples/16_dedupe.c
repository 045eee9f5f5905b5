/*
 * 16_dedupe.c: processing each message once, whichever producer sees it.
 *
 * Seed section "Dedupe Channel Example". A "seen" map of message id -> time
 * first seen. dm_try_insert is the whole check: DM_OK means this call was
 * the first to see the id (process it), DM_EXISTS means a duplicate. The
 * check and the insert are one atomic step, so with concurrent producers
 * every id is processed exactly once (the seed's get-then-insert would let
 * two threads both process a new id).
 *
 * With a TTL an id may come back after it expires: that check is a small
 * dm_entry_update, and old ids are swept with dm_retain_cb.
 */
#include "example_util.h"

#include <stdatomic.h>

enum { PRODUCERS = 4, MESSAGES = 3000, ID_SPACE = 6000 };

struct dedupe {
    dm_map *seen; /* message id -> int64 first-seen time (ms) */
    int64_t ttl_ms;
};

/* No TTL: true if `id` is new. */
static bool dedupe_first(struct dedupe *d, const char *id, int64_t now_ms) {
    uint8_t t[8];
    put_i64(t, now_ms);
    dm_status st = dm_try_insert(d->seen, STR(id), t, 8);
    CHECK(st == DM_OK || st == DM_EXISTS, "try_insert: %s", dm_status_str(st));
    return st == DM_OK;
}

/* With TTL: new if never seen or seen longer than ttl ago (then re-armed). */
struct ttl_check {
    int64_t now_ms, ttl_ms;
    bool fresh; /* out */
};

static void check_ttl(dm_entry *e, void *ctx) {
    struct ttl_check *c = ctx;
    size_t len = 0;
    const uint8_t *v = dm_entry_value(e, &len);
    c->fresh = v == NULL || c->now_ms - get_i64(v) >= c->ttl_ms;
    if (c->fresh) {
        uint8_t t[8];
        put_i64(t, c->now_ms);
        EXPECT(dm_entry_set(e, t, 8), DM_OK);
    }
}

static bool dedupe_check_ttl(struct dedupe *d, const char *id, int64_t now_ms) {
    struct ttl_check c = {.now_ms = now_ms, .ttl_ms = d->ttl_ms};
    EXPECT(dm_entry_update(d->seen, STR(id), check_ttl, &c), DM_OK);
    return c.fresh;
}

struct sweep {
    int64_t now_ms, ttl_ms;
};

static bool not_expired(const uint8_t *k, size_t klen, const uint8_t *v,
                        size_t vlen, void *ctx) {
    (void)k, (void)klen, (void)vlen;
    const struct sweep *s = ctx;
    return s->now_ms - get_i64(v) < s->ttl_ms;
}

/* ---- concurrent producers ----------------------------------------------- */

static struct start_gate gate = START_GATE_INIT;
static atomic_int processed_by[ID_SPACE]; /* how often each id was processed */

struct producer {
    struct dedupe *d;
    int id;
    int processed, skipped;
};

/* Message ids of producer p: scattered, overlapping sequences, so a given
 * id typically arrives from two producers at about the same time. */
static int message_id(int p, int i) {
    return (i * 7 + p * 611) % ID_SPACE;
}

static void *produce(void *arg) {
    struct producer *p = arg;
    char id[32];
    gate_wait(&gate);
    for (int i = 0; i < MESSAGES; i++) {
        int m = message_id(p->id, i);
        snprintf(id, sizeof id, "msg-%d", m);
        if (dedupe_first(p->d, id, i)) {
            atomic_fetch_add(&processed_by[m], 1); /* "process" it */
            p->processed++;
        } else {
            p->skipped++;
        }
    }
    return NULL;
}

int main(void) {
    struct dedupe d = {.seen = dm_new(), .ttl_ms = 60000};
    CHECK(d.seen != NULL, "dm_new");

    /* The seed's sequence. */
    const char *const msgs[] = {"msg1", "msg2", "msg1", "msg3", "msg2", "msg4"};
    int processed = 0;
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        bool fresh = dedupe_check_ttl(&d, msgs[i], (int64_t)i * 1000);
        printf("%s: %s\n", fresh ? "Processing" : "Skipping duplicate", msgs[i]);
        processed += fresh;
    }
    CHECK(processed == 4, "4 distinct messages");

    /* After the TTL, msg1 is new again; a sweep forgets expired ids. */
    CHECK(dedupe_check_ttl(&d, "msg1", 61000), "msg1 expired at 61 s");
    CHECK(!dedupe_check_ttl(&d, "msg4", 61000), "msg4 (seen at 5 s) has not");
    struct sweep s = {.now_ms = 64500, .ttl_ms = d.ttl_ms};
    EXPECT(dm_retain_cb(d.seen, not_expired, &s), DM_OK);
    printf("Sweep at 64.5 s: %zu ids remembered (msg1, msg4)\n", dm_len(d.seen));
    CHECK(dm_len(d.seen) == 2 && dm_contains_key(d.seen, STR("msg1")) &&
              dm_contains_key(d.seen, STR("msg4")),
          "msg2 and msg3 forgotten");
    EXPECT(dm_clear(d.seen), DM_OK);

    /* Concurrent producers. The expected number of distinct ids is computed
     * up front, single-threaded. */
    static bool expected[ID_SPACE];
    int unique = 0;
    for (int p = 0; p < PRODUCERS; p++)
        for (int i = 0; i < MESSAGES; i++) {
            int m = message_id(p, i);
            if (!expected[m]) expected[m] = true, unique++;
        }

    pthread_t t[PRODUCERS];
    struct producer pr[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++) {
        pr[p] = (struct producer){.d = &d, .id = p};
        start_thread(&t[p], produce, &pr[p]);
    }
    gate_open(&gate);
    int total_processed = 0, total_skipped = 0;
    for (int p = 0; p < PRODUCERS; p++) {
        join_thread(t[p]);
        total_processed += pr[p].processed;
        total_skipped += pr[p].skipped;
    }
    printf("%d producers sent %d messages: %d processed, %d duplicates skipped\n",
           PRODUCERS, PRODUCERS * MESSAGES, total_processed, total_skipped);
    CHECK(total_processed == unique, "processed %d, expected %d unique",
          total_processed, unique);
    CHECK(dm_len(d.seen) == (size_t)unique, "seen holds every unique id");
    for (int m = 0; m < ID_SPACE; m++)
        CHECK(atomic_load(&processed_by[m]) == (expected[m] ? 1 : 0),
              "msg-%d processed %d times", m, atomic_load(&processed_by[m]));

    dm_free(d.seen);
    printf("16_dedupe: OK\n");
    return 0;
}
