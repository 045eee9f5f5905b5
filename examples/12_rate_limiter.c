/*
 * 12_rate_limiter.c: fixed-window rate limiting per client, one call per
 * request.
 *
 * Seed section "Rate Limiter with DashMap". Each client maps to a request
 * counter that lives for one window:
 *
 *   dm_add_i64_ttl(map, client, 1, window_ms, &count);  allow iff count <= limit
 *
 * The first request of a window creates the counter (value 1) with a
 * deadline window_ms from now; later requests add to it and keep that
 * deadline. When the clock reaches the deadline the counter expires, so the
 * next request starts a new window at 1. Counting and deciding are one
 * atomic step, so a burst from many threads lets exactly `limit` requests
 * through per window (the seed counts and then re-reads, which can let extra
 * requests through). Denied requests are counted too: the counter is "requests
 * seen in this window", and everything above the limit is refused.
 *
 * Expired counters are invisible at once and removed when a write meets
 * them; dm_purge_expired sweeps the rest (a server would call it now and
 * then). The map uses a manual clock (dm_options.manual_clock, moved with
 * dm_clock_set), so the run is deterministic; a server would leave the
 * default monotonic clock and never set it.
 */
#include "example_util.h"

#include <stdatomic.h>

struct rate_limiter {
    dm_map *counts; /* client id -> int64 requests in the current window */
    int64_t limit;
    uint64_t window_ms;
};

/* The whole limiter: true when this request is allowed. */
static bool rl_check(struct rate_limiter *rl, const char *client) {
    int64_t count = 0;
    EXPECT(dm_add_i64_ttl(rl->counts, STR(client), 1, rl->window_ms, &count), DM_OK);
    return count <= rl->limit;
}

/* Requests the client may still make in its current window. */
static int64_t rl_remaining(const struct rate_limiter *rl, const char *client) {
    uint8_t b[8];
    size_t len = 0;
    dm_status st = dm_get_copy(rl->counts, STR(client), b, sizeof b, &len);
    if (st == DM_NOT_FOUND) return rl->limit; /* no window open (or it expired) */
    CHECK(st == DM_OK && len == 8, "counter: %s", dm_status_str(st));
    int64_t used = get_i64(b);
    return used >= rl->limit ? 0 : rl->limit - used;
}

/* Milliseconds until the client's window resets (0: no window open). */
static uint64_t rl_reset_in(const struct rate_limiter *rl, const char *client) {
    uint64_t ms = 0;
    dm_status st = dm_ttl_remaining(rl->counts, STR(client), &ms);
    if (st == DM_NOT_FOUND) return 0;
    CHECK(st == DM_OK && ms != DM_TTL_NONE, "ttl: %s", dm_status_str(st));
    return ms;
}

static void set_time(struct rate_limiter *rl, uint64_t now_ms) {
    EXPECT(dm_clock_set(rl->counts, now_ms), DM_OK);
}

/* ---- a burst from many threads against one client ---------------------- */

enum { THREADS = 4, BURST = 250, WINDOWS = 3 };

struct burst_run {
    struct rate_limiter *rl;
    struct start_gate gate;
    atomic_int allowed;
};

static void *burst(void *arg) {
    struct burst_run *run = arg;
    gate_wait(&run->gate);
    for (int i = 0; i < BURST; i++)
        if (rl_check(run->rl, "api_key_shared")) atomic_fetch_add(&run->allowed, 1);
    return NULL;
}

/* THREADS x BURST requests at once, all at the current time. */
static int run_burst(struct rate_limiter *rl) {
    struct burst_run run = {.rl = rl};
    CHECK(pthread_mutex_init(&run.gate.mu, NULL) == 0 &&
              pthread_cond_init(&run.gate.cv, NULL) == 0, "gate");
    atomic_init(&run.allowed, 0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) start_thread(&t[i], burst, &run);
    gate_open(&run.gate);
    for (int i = 0; i < THREADS; i++) join_thread(t[i]);
    pthread_cond_destroy(&run.gate.cv);
    pthread_mutex_destroy(&run.gate.mu);
    return atomic_load(&run.allowed);
}

int main(void) {
    dm_options opts = dm_options_default();
    opts.manual_clock = true; /* simulated time, starts at 0 */
    struct rate_limiter rl = {.limit = 5, .window_ms = 60000};
    EXPECT(dm_new_with_options(&opts, &rl.counts), DM_OK);

    /* The seed: 7 requests in one window, limit 5. The first one (t = 1 s)
     * opens the window, which therefore ends at t = 61 s. */
    int allowed = 0;
    for (int i = 0; i < 7; i++) {
        uint64_t now = 1000 + (uint64_t)i * 100;
        set_time(&rl, now);
        bool ok = rl_check(&rl, "user_123");
        int64_t left = rl_remaining(&rl, "user_123");
        uint64_t reset = rl_reset_in(&rl, "user_123");
        printf("t=%6" PRIu64 " ms  request %d: allowed=%s, remaining=%" PRId64
               ", window resets in %" PRIu64 " ms\n",
               now, i + 1, ok ? "true" : "false", left, reset);
        CHECK(ok == (i < 5), "request %d", i + 1);
        CHECK(left == (i < 5 ? 4 - i : 0), "remaining %" PRId64, left);
        CHECK(reset == 61000 - now, "the window ends at 61 s, not %" PRIu64, now + reset);
        allowed += ok;
    }
    CHECK(allowed == 5, "5 of 7 allowed");

    /* One millisecond before the deadline the window is still closed... */
    set_time(&rl, 60999);
    CHECK(rl_reset_in(&rl, "user_123") == 1, "1 ms left");
    CHECK(!rl_check(&rl, "user_123"), "denied at t = 60.999 s");
    printf("t= 60999 ms  request 8: denied (window resets in 1 ms)\n");
    /* ...and at the deadline a new one starts, with a full quota. */
    set_time(&rl, 61000);
    CHECK(rl_remaining(&rl, "user_123") == 5, "expired counter: full quota");
    CHECK(rl_check(&rl, "user_123"), "allowed at t = 61 s");
    CHECK(rl_remaining(&rl, "user_123") == 4, "1 used in the new window");
    CHECK(rl_reset_in(&rl, "user_123") == 60000, "the new window ends at 121 s");
    printf("t= 61000 ms  request 9: allowed, new window, remaining=%" PRId64
           ", resets in %" PRIu64 " ms\n",
           rl_remaining(&rl, "user_123"), rl_reset_in(&rl, "user_123"));

    /* THREADS x BURST concurrent requests per window: exactly `limit` pass,
     * and no request is lost (the counter ends at THREADS x BURST). Each
     * burst runs exactly at the previous window's deadline. */
    for (int w = 0; w < WINDOWS; w++) {
        uint64_t start = 120000 + (uint64_t)w * rl.window_ms;
        set_time(&rl, start);
        int ok = run_burst(&rl);
        uint8_t b[8];
        size_t len = 0;
        EXPECT(dm_get_copy(rl.counts, STR("api_key_shared"), b, sizeof b, &len), DM_OK);
        printf("t=%6" PRIu64 " ms  burst of %d concurrent requests: %d allowed "
               "(counter %" PRId64 ")\n", start, THREADS * BURST, ok, get_i64(b));
        CHECK(ok == (int)rl.limit, "exactly %" PRId64 " allowed, got %d", rl.limit, ok);
        CHECK(get_i64(b) == THREADS * BURST, "every request counted");
    }

    /* Ten more clients, one every 5 s from t = 250 s: their windows end at
     * 310 s, 315 s, ..., 355 s. */
    for (int c = 0; c < 10; c++) {
        char client[32];
        snprintf(client, sizeof client, "client_%d", c);
        set_time(&rl, 250000 + (uint64_t)c * 5000);
        CHECK(rl_check(&rl, client), "first request");
    }

    /* At t = 320 s: user_123 (ended 121 s), api_key_shared (300 s),
     * client_0 (310 s), client_1 (315 s) and client_2 (exactly 320 s) are
     * over. They are already invisible, but still stored until swept. */
    set_time(&rl, 320000);
    CHECK(!dm_contains_key(rl.counts, STR("user_123")) &&
              !dm_contains_key(rl.counts, STR("client_2")) &&
              dm_contains_key(rl.counts, STR("client_3")),
          "expired windows are invisible");
    size_t before = dm_len(rl.counts), swept = 0;
    EXPECT(dm_purge_expired(rl.counts, &swept), DM_OK);
    printf("t=320000 ms  dm_purge_expired: %zu stored, %zu swept, %zu left\n",
           before, swept, dm_len(rl.counts));
    CHECK(before == 12, "dm_len counts expired entries until swept, got %zu", before);
    CHECK(swept == 5 && dm_len(rl.counts) == 7, "5 finished windows swept");
    EXPECT(dm_purge_expired(rl.counts, &swept), DM_OK);
    CHECK(swept == 0, "nothing left to sweep");

    dm_free(rl.counts);
    printf("12_rate_limiter: OK\n");
    return 0;
}
