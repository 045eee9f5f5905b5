/*
 * 10_web_server_counter.c: hit counters shared by request-handling threads.
 *
 * Seed section "Web Server Counter Example". An AppState holds one map of
 * path -> hits; every worker thread increments it with dm_add_i64, which
 * never loses an update. Each worker also tallies what it did locally, so
 * the program can check the map's totals exactly.
 */
#include "example_util.h"

enum { WORKERS = 8, REQUESTS = 500 };

static const char *const PATHS[] = {"/", "/api/users", "/api/orders",
                                    "/static/app.js", "/health"};
enum { NPATHS = sizeof PATHS / sizeof PATHS[0] };

/* ---- the application state --------------------------------------------- */

struct app_state {
    dm_map *counters; /* path -> int64 hits */
};

/* increment(path) -> new count */
static int64_t app_increment(struct app_state *s, const char *path) {
    int64_t hits = 0;
    EXPECT(dm_add_i64(s->counters, STR(path), 1, &hits), DM_OK);
    return hits;
}

/* get(path) -> count, 0 for a path never requested */
static int64_t app_get(const struct app_state *s, const char *path) {
    uint8_t b[8];
    size_t len = 0;
    dm_status st = dm_get_copy(s->counters, STR(path), b, sizeof b, &len);
    if (st == DM_NOT_FOUND) return 0;
    CHECK(st == DM_OK && len == 8, "get %s: %s", path, dm_status_str(st));
    return get_i64(b);
}

/* get_all(): the iterator copies one shard at a time, so request threads can
 * keep counting while a report is built. */
static void app_print_all(const struct app_state *s) {
    dm_iter *it = dm_iter_new(s->counters);
    CHECK(it != NULL, "dm_iter_new");
    const uint8_t *k, *v;
    size_t klen, vlen;
    while (dm_iter_next(it, &k, &klen, &v, &vlen) == DM_OK)
        printf("  %-16.*s %6" PRId64 "\n", (int)klen, (const char *)k, get_i64(v));
    dm_iter_free(it);
}

/* ---- the simulated server ---------------------------------------------- */

static struct start_gate gate = START_GATE_INIT;

struct worker {
    struct app_state *state;
    uint32_t rng;
    int64_t served[NPATHS]; /* local tally, for checking */
};

static uint32_t xorshift(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void *handle_requests(void *arg) {
    struct worker *w = arg;
    gate_wait(&gate);
    for (int r = 0; r < REQUESTS; r++) {
        int p = (int)(xorshift(&w->rng) % NPATHS);
        int64_t now = app_increment(w->state, PATHS[p]);
        CHECK(now >= 1, "a counter only grows");
        w->served[p]++;
    }
    return NULL;
}

int main(void) {
    struct app_state state = {.counters = dm_new()};
    CHECK(state.counters != NULL, "dm_new");

    pthread_t t[WORKERS];
    static struct worker w[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        w[i] = (struct worker){.state = &state, .rng = 2463534242u + (uint32_t)i * 7919u};
        start_thread(&t[i], handle_requests, &w[i]);
    }
    gate_open(&gate);
    for (int i = 0; i < WORKERS; i++) join_thread(t[i]);

    printf("%d workers served %d requests. Final counters:\n", WORKERS,
           WORKERS * REQUESTS);
    app_print_all(&state);

    int64_t total = 0;
    for (int p = 0; p < NPATHS; p++) {
        int64_t expect = 0;
        for (int i = 0; i < WORKERS; i++) expect += w[i].served[p];
        CHECK(app_get(&state, PATHS[p]) == expect, "%s: map %" PRId64
              " != served %" PRId64, PATHS[p], app_get(&state, PATHS[p]), expect);
        total += expect;
    }
    CHECK(total == WORKERS * REQUESTS, "every request counted");
    CHECK(app_get(&state, "/missing") == 0, "unknown path counts 0");
    printf("All %" PRId64 " hits accounted for.\n", total);

    dm_free(state.counters);
    printf("10_web_server_counter: OK\n");
    return 0;
}
