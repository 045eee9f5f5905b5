/*
 * 16_dedupe.c: processing each message once per time window, whichever
 * producer sees it.
 *
 * Seed section "Dedupe Channel Example". A "seen" map of message id -> the
 * producer that processed it, where every id is remembered for one window:
 *
 *   dm_try_insert_ttl(seen, id, producer, window_ms)
 *       DM_OK      first sighting in the window: process it
 *       DM_EXISTS  a duplicate inside the window: skip it
 *
 * The check and the insert are one atomic step, so with concurrent producers
 * every id is processed exactly once per window (the seed's get-then-insert
 * would let two threads both process a new id). A duplicate does not extend
 * the window (try_insert leaves the existing entry alone); once the window
 * is over the id has expired and is accepted again. dm_purge_expired forgets
 * old ids. The map runs on a manual clock (dm_options.manual_clock +
 * dm_clock_set), so every run gives the same counts.
 */
#include "example_util.h"

#include <stdatomic.h>

enum { PRODUCERS = 4, MESSAGES = 3000, ID_SPACE = 6000 };

struct dedupe {
    dm_map *seen; /* message id -> 1 byte: the producer that processed it */
    uint64_t window_ms;
};

/* True if `id` has not been seen within the window (it is now). */
static bool dedupe_first(struct dedupe *d, const char *id, uint8_t producer) {
    dm_status st = dm_try_insert_ttl(d->seen, STR(id), &producer, 1, d->window_ms);
    CHECK(st == DM_OK || st == DM_EXISTS, "try_insert_ttl: %s", dm_status_str(st));
    return st == DM_OK;
}

static void set_time(struct dedupe *d, uint64_t now_ms) {
    EXPECT(dm_clock_set(d->seen, now_ms), DM_OK);
}

/* ---- concurrent producers ----------------------------------------------- */

static atomic_int processed_by[ID_SPACE]; /* how often each id was processed */

struct producer {
    struct dedupe *d;
    struct start_gate *gate;
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
    gate_wait(p->gate);
    for (int i = 0; i < MESSAGES; i++) {
        int m = message_id(p->id, i);
        snprintf(id, sizeof id, "msg-%d", m);
        if (dedupe_first(p->d, id, (uint8_t)p->id)) {
            atomic_fetch_add(&processed_by[m], 1); /* "process" it */
            p->processed++;
        } else {
            p->skipped++;
        }
    }
    return NULL;
}

/* All producers send their whole stream at once, at the map's current time.
 * Returns how many messages were processed. */
static int run_producers(struct dedupe *d, struct producer pr[PRODUCERS]) {
    struct start_gate gate = {.open = false};
    CHECK(pthread_mutex_init(&gate.mu, NULL) == 0 &&
              pthread_cond_init(&gate.cv, NULL) == 0, "gate");
    for (int m = 0; m < ID_SPACE; m++) atomic_store(&processed_by[m], 0);
    pthread_t t[PRODUCERS];
    for (int p = 0; p < PRODUCERS; p++) {
        pr[p] = (struct producer){.d = d, .gate = &gate, .id = p};
        start_thread(&t[p], produce, &pr[p]);
    }
    gate_open(&gate);
    int processed = 0, skipped = 0;
    for (int p = 0; p < PRODUCERS; p++) {
        join_thread(t[p]);
        processed += pr[p].processed;
        skipped += pr[p].skipped;
    }
    pthread_cond_destroy(&gate.cv);
    pthread_mutex_destroy(&gate.mu);
    printf("t=%6" PRIu64 " ms: %d producers sent %d messages: %d processed, "
           "%d duplicates skipped\n", dm_clock_now(d->seen), PRODUCERS,
           PRODUCERS * MESSAGES, processed, skipped);
    CHECK(processed + skipped == PRODUCERS * MESSAGES, "every message decided");
    return processed;
}

int main(void) {
    dm_options opts = dm_options_default();
    opts.manual_clock = true; /* simulated time, starts at 0 */
    struct dedupe d = {.window_ms = 60000};
    EXPECT(dm_new_with_options(&opts, &d.seen), DM_OK);

    /* The seed's sequence, one message a second. */
    const char *const msgs[] = {"msg1", "msg2", "msg1", "msg3", "msg2", "msg4"};
    int processed = 0;
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        set_time(&d, i * 1000);
        bool fresh = dedupe_first(&d, msgs[i], 0);
        printf("t=%zu s: %s %s\n", i, fresh ? "Processing" : "Skipping duplicate", msgs[i]);
        CHECK(fresh == (i != 2 && i != 4), "%s at %zu s", msgs[i], i);
        processed += fresh;
    }
    CHECK(processed == 4, "4 distinct messages");

    /* msg1 was first seen at t = 0: a duplicate until 60 s, new again at
     * 60 s. msg4 (seen at 5 s) is still a duplicate then. */
    set_time(&d, 59999);
    CHECK(!dedupe_first(&d, "msg1", 0), "msg1 at 59.999 s: still a duplicate");
    set_time(&d, 60000);
    CHECK(dedupe_first(&d, "msg1", 0), "msg1 at 60 s: accepted again");
    CHECK(!dedupe_first(&d, "msg4", 0), "msg4 (seen at 5 s): a duplicate");
    printf("t=59.999 s: msg1 is a duplicate; t=60 s: msg1 is processed again, "
           "msg4 is not\n");

    /* A sweep at 64.5 s forgets msg2 (window over at 61 s; its duplicate at
     * 4 s did not extend it) and msg3 (63 s); msg1 (120 s) and msg4 (65 s)
     * are remembered. */
    set_time(&d, 64500);
    size_t swept = 0;
    EXPECT(dm_purge_expired(d.seen, &swept), DM_OK);
    printf("t=64.5 s: swept %zu ids, %zu remembered (msg1, msg4)\n", swept,
           dm_len(d.seen));
    CHECK(swept == 2 && dm_len(d.seen) == 2 && dm_contains_key(d.seen, STR("msg1")) &&
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

    /* Round 1, at t = 100 s: every distinct id processed exactly once, by
     * the producer recorded in the map. */
    struct producer pr[PRODUCERS];
    set_time(&d, 100000);
    CHECK(run_producers(&d, pr) == unique, "round 1: %d unique", unique);
    CHECK(dm_len(d.seen) == (size_t)unique, "seen holds every unique id");
    int owned[PRODUCERS] = {0};
    for (int m = 0; m < ID_SPACE; m++) {
        CHECK(atomic_load(&processed_by[m]) == (expected[m] ? 1 : 0),
              "msg-%d processed %d times", m, atomic_load(&processed_by[m]));
        if (!expected[m]) continue;
        char id[32];
        uint8_t who = 0xff;
        size_t len = 0;
        snprintf(id, sizeof id, "msg-%d", m);
        EXPECT(dm_get_copy(d.seen, STR(id), &who, 1, &len), DM_OK);
        CHECK(len == 1 && who < PRODUCERS, "msg-%d owner", m);
        owned[who]++;
    }
    for (int p = 0; p < PRODUCERS; p++)
        CHECK(owned[p] == pr[p].processed, "producer %d processed %d, owns %d",
              p, pr[p].processed, owned[p]);

    /* Round 2, the same streams 1 ms before the window ends: all duplicates. */
    set_time(&d, 100000 + d.window_ms - 1);
    CHECK(run_producers(&d, pr) == 0, "round 2: nothing new inside the window");

    /* Round 3, exactly at the end of the window: every id is new again, and
     * again processed exactly once. */
    set_time(&d, 100000 + d.window_ms);
    CHECK(run_producers(&d, pr) == unique, "round 3: %d unique again", unique);
    for (int m = 0; m < ID_SPACE; m++)
        CHECK(atomic_load(&processed_by[m]) == (expected[m] ? 1 : 0),
              "msg-%d processed %d times in round 3", m, atomic_load(&processed_by[m]));
    /* Each expired id was replaced by its new sighting, so nothing is left
     * over; one window later every id has expired and the sweep takes all. */
    CHECK(dm_len(d.seen) == (size_t)unique, "one entry per id");
    set_time(&d, 100000 + 2 * d.window_ms);
    EXPECT(dm_purge_expired(d.seen, &swept), DM_OK);
    printf("t=%6" PRIu64 " ms: swept %zu ids, %zu remembered\n", dm_clock_now(d.seen),
           swept, dm_len(d.seen));
    CHECK(swept == (size_t)unique && dm_is_empty(d.seen), "all ids forgotten");

    dm_free(d.seen);
    printf("16_dedupe: OK\n");
    return 0;
}
