/*
 * 12_rate_limiter.c: fixed-window rate limiting per client.
 *
 * Seed section "Rate Limiter with DashMap". Each client maps to a small
 * record {window_start_ms, count}. check() runs as one dm_entry_update:
 * start or reset the window, count the request, decide; so the decision is
 * atomic even when many threads check the same client (the seed's version
 * counts and then re-reads, which can let extra requests through).
 * cleanup_expired() drops finished windows with dm_retain_cb.
 *
 * Time is passed in explicitly (milliseconds) so the run is deterministic;
 * a server would pass a monotonic clock reading.
 */
#include "example_util.h"

#include <stdatomic.h>

struct window {          /* the stored value: raw bytes, fixed size */
    int64_t start_ms;
    uint32_t count;
    uint32_t reserved;   /* explicit padding: every byte is initialised */
};

struct rate_limiter {
    dm_map *entries; /* client id -> struct window */
    uint32_t max_requests;
    int64_t window_ms;
};

struct check_ctx {
    const struct rate_limiter *rl;
    int64_t now_ms;
    bool allowed; /* out */
};

/* Runs under the client's shard write lock. */
static void count_request(dm_entry *e, void *ctx) {
    struct check_ctx *c = ctx;
    struct window w;
    size_t len = 0;
    const uint8_t *v = dm_entry_value(e, &len);
    if (v != NULL) {
        CHECK(len == sizeof w, "window record");
        memcpy(&w, v, sizeof w);
    }
    if (v == NULL || c->now_ms - w.start_ms >= c->rl->window_ms)
        w = (struct window){.start_ms = c->now_ms, .count = 0}; /* new window */
    w.count++;
    c->allowed = w.count <= c->rl->max_requests;
    EXPECT(dm_entry_set(e, (const uint8_t *)&w, sizeof w), DM_OK);
}

/* True when this request is allowed. */
static bool rl_check(struct rate_limiter *rl, const char *client, int64_t now_ms) {
    struct check_ctx c = {.rl = rl, .now_ms = now_ms};
    EXPECT(dm_entry_update(rl->entries, STR(client), count_request, &c), DM_OK);
    return c.allowed;
}

static uint32_t rl_remaining(const struct rate_limiter *rl, const char *client,
                             int64_t now_ms) {
    struct window w;
    size_t len = 0;
    dm_status st = dm_get_copy(rl->entries, STR(client), (uint8_t *)&w, sizeof w, &len);
    if (st == DM_NOT_FOUND) return rl->max_requests;
    CHECK(st == DM_OK && len == sizeof w, "window: %s", dm_status_str(st));
    if (now_ms - w.start_ms >= rl->window_ms) return rl->max_requests;
    return w.count >= rl->max_requests ? 0 : rl->max_requests - w.count;
}

struct sweep {
    const struct rate_limiter *rl;
    int64_t now_ms;
};

static bool window_open(const uint8_t *k, size_t klen, const uint8_t *v,
                        size_t vlen, void *ctx) {
    (void)k, (void)klen;
    const struct sweep *s = ctx;
    struct window w;
    CHECK(vlen == sizeof w, "window record");
    memcpy(&w, v, sizeof w);
    return s->now_ms - w.start_ms < s->rl->window_ms;
}

static void rl_cleanup_expired(struct rate_limiter *rl, int64_t now_ms) {
    struct sweep s = {rl, now_ms};
    EXPECT(dm_retain_cb(rl->entries, window_open, &s), DM_OK);
}

/* ---- a burst from many threads against one client ---------------------- */

enum { THREADS = 4, BURST = 250 };
static struct start_gate gate = START_GATE_INIT;
static atomic_int burst_allowed;

static void *burst(void *arg) {
    struct rate_limiter *rl = arg;
    gate_wait(&gate);
    for (int i = 0; i < BURST; i++)
        if (rl_check(rl, "api_key_shared", 120000)) atomic_fetch_add(&burst_allowed, 1);
    return NULL;
}

int main(void) {
    struct rate_limiter rl = {.entries = dm_new(), .max_requests = 5,
                              .window_ms = 60000};
    CHECK(rl.entries != NULL, "dm_new");

    /* The seed: 7 requests in one window, limit 5. */
    int allowed = 0;
    for (int i = 0; i < 7; i++) {
        bool ok = rl_check(&rl, "user_123", 1000 + i * 100);
        uint32_t left = rl_remaining(&rl, "user_123", 1000 + i * 100);
        printf("Request %d: allowed=%s, remaining=%u\n", i + 1,
               ok ? "true" : "false", left);
        CHECK(ok == (i < 5), "request %d", i + 1);
        CHECK(left == (i < 5 ? 4u - (uint32_t)i : 0u), "remaining");
        allowed += ok;
    }
    CHECK(allowed == 5, "5 of 7 allowed");

    /* A new window starts after 60 s. */
    CHECK(rl_remaining(&rl, "user_123", 61000) == 5, "window over: full quota");
    CHECK(rl_check(&rl, "user_123", 61000), "allowed again in the next window");
    printf("Next window (t=61 s): allowed again, remaining=%u\n",
           rl_remaining(&rl, "user_123", 61000));

    /* THREADS x BURST requests at once: exactly max_requests get through. */
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) start_thread(&t[i], burst, &rl);
    gate_open(&gate);
    for (int i = 0; i < THREADS; i++) join_thread(t[i]);
    printf("Burst of %d concurrent requests: %d allowed\n", THREADS * BURST,
           atomic_load(&burst_allowed));
    CHECK(atomic_load(&burst_allowed) == (int)rl.max_requests,
          "exactly %u allowed", rl.max_requests);

    /* Cleanup: at t=150 s, user_123's window (from 61 s) is over; the shared
     * key's (from 120 s) is not. */
    for (int c = 0; c < 10; c++) {
        char client[32];
        snprintf(client, sizeof client, "client_%d", c);
        rl_check(&rl, client, c < 6 ? 10000 : 100000); /* 6 old, 4 recent */
    }
    size_t before = dm_len(rl.entries);
    rl_cleanup_expired(&rl, 150000);
    printf("cleanup_expired at t=150 s: %zu -> %zu clients\n", before,
           dm_len(rl.entries));
    CHECK(before == 12 && dm_len(rl.entries) == 5, "7 expired windows dropped");
    CHECK(dm_contains_key(rl.entries, STR("api_key_shared")) &&
              !dm_contains_key(rl.entries, STR("user_123")),
          "the right windows dropped");

    dm_free(rl.entries);
    printf("12_rate_limiter: OK\n");
    return 0;
}
