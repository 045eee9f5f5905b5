/*
 * 11_connection_pool.c: named connections and a checkout/return pool.
 *
 * Seed section "Connection Pool Example". Two parts:
 *
 *  1. Named connections (the seed's get_or_create / list / remove_stale):
 *     name -> struct conn_info, created once with dm_get_or_insert, stale
 *     ones dropped with dm_retain_cb.
 *
 *  2. A cap on open connections: a map created with dm_options.max_entries
 *     refuses a new name with DM_ERR_FULL (and changes nothing) while it is
 *     full. Each connection also has an idle timeout (dm_try_insert_ttl,
 *     renewed with dm_touch on use); an idle one expires and, once swept
 *     with dm_purge_expired, frees its place. A manual clock
 *     (dm_options.manual_clock + dm_clock_set) makes the timeline exact.
 *
 *  3. A pool shared by worker threads: conn id -> one state byte, 'I' (idle)
 *     or 'B' (busy). Checkout is dm_compare_and_swap("I" -> "B"): of all
 *     threads racing for one connection exactly one wins. Return is the
 *     reverse swap, which must succeed. (Equivalent design: keep only idle
 *     ids in a map; checkout = dm_remove succeeding, return = dm_try_insert.)
 */
#include "example_util.h"

#include <stdatomic.h>

/* ---- 1. named connections ---------------------------------------------- */

/* Stored as raw bytes: fixed size, no pointers (the map copies values). */
struct conn_info {
    uint64_t id;
    int64_t created_ms;
};

struct named_pool {
    dm_map *connections; /* name -> struct conn_info */
    atomic_uint_fast64_t next_id;
};

/* Returns the existing connection for `name`, or creates it. */
static struct conn_info get_or_create(struct named_pool *p, const char *name,
                                      int64_t now_ms) {
    struct conn_info fresh = {.id = atomic_fetch_add(&p->next_id, 1),
                              .created_ms = now_ms};
    struct conn_info out;
    size_t len = 0;
    dm_status st = dm_get_or_insert(p->connections, STR(name),
                                    (const uint8_t *)&fresh, sizeof fresh,
                                    (uint8_t *)&out, sizeof out, &len);
    if (st == DM_OK) return fresh; /* ours was inserted */
    CHECK(st == DM_EXISTS && len == sizeof out, "get_or_insert: %s",
          dm_status_str(st));
    return out;
}

struct stale_sweep {
    int64_t now_ms, max_age_ms;
    int dropped;
};

static bool is_fresh(const uint8_t *k, size_t klen, const uint8_t *v,
                     size_t vlen, void *ctx) {
    (void)k, (void)klen;
    struct stale_sweep *s = ctx;
    struct conn_info c;
    CHECK(vlen == sizeof c, "conn_info record");
    memcpy(&c, v, sizeof c); /* values carry no alignment guarantee */
    bool keep = s->now_ms - c.created_ms <= s->max_age_ms;
    s->dropped += !keep;
    return keep;
}

/* ---- 2. at most MAX_OPEN connections, closed when idle ----------------- */

enum { MAX_OPEN = 2 };
static const uint64_t IDLE_TIMEOUT_MS = 30000;

/* Opens connection `name` unless it is open already (DM_EXISTS) or MAX_OPEN
 * are (DM_ERR_FULL). When full, idle connections that have timed out are
 * swept first: the bound counts entries still stored, and an insert only
 * sweeps the key's own shard. */
static dm_status open_conn(dm_map *open, const char *name, uint64_t id) {
    struct conn_info c = {.id = id, .created_ms = (int64_t)dm_clock_now(open)};
    dm_status st = dm_try_insert_ttl(open, STR(name), (const uint8_t *)&c,
                                     sizeof c, IDLE_TIMEOUT_MS);
    if (st == DM_ERR_FULL) {
        size_t swept = 0;
        EXPECT(dm_purge_expired(open, &swept), DM_OK);
        if (swept > 0)
            st = dm_try_insert_ttl(open, STR(name), (const uint8_t *)&c, sizeof c,
                                   IDLE_TIMEOUT_MS);
    }
    CHECK(st == DM_OK || st == DM_EXISTS || st == DM_ERR_FULL, "open %s: %s",
          name, dm_status_str(st));
    return st;
}

static void bounded_pool(void) {
    dm_options opts = dm_options_default();
    opts.max_entries = MAX_OPEN;
    opts.manual_clock = true;
    dm_map *open = NULL;
    EXPECT(dm_new_with_options(&opts, &open), DM_OK);
    printf("At most %d open connections, closed after %" PRIu64 " s idle:\n",
           MAX_OPEN, IDLE_TIMEOUT_MS / 1000);

    /* t = 0: db1 and db2 fill the pool; db3 is refused, nothing changes. */
    EXPECT(open_conn(open, "db1", 1), DM_OK);
    EXPECT(open_conn(open, "db2", 2), DM_OK);
    EXPECT(open_conn(open, "db3", 3), DM_ERR_FULL);
    EXPECT(open_conn(open, "db1", 4), DM_EXISTS); /* already open: no new slot */
    printf("  t=0 s:  db1, db2 open; db3 refused (DM_ERR_FULL: %s)\n",
           dm_status_str(DM_ERR_FULL));
    CHECK(dm_len(open) == 2 && !dm_contains_key(open, STR("db3")), "db3 not added");

    /* t = 10 s: closing db2 makes room for db3; db4 is refused. */
    EXPECT(dm_clock_set(open, 10000), DM_OK);
    EXPECT(dm_remove(open, STR("db2"), NULL, 0, NULL), DM_OK);
    EXPECT(open_conn(open, "db3", 3), DM_OK);
    EXPECT(open_conn(open, "db4", 4), DM_ERR_FULL);
    printf("  t=10 s: db2 closed, db3 open; db4 refused\n");

    /* t = 20 s: db1 is used, so its idle timeout starts again (until 50 s);
     * db3, unused since 10 s, times out at 40 s. */
    EXPECT(dm_clock_set(open, 20000), DM_OK);
    EXPECT(dm_touch(open, STR("db1"), IDLE_TIMEOUT_MS), DM_OK);
    EXPECT(dm_clock_set(open, 40000), DM_OK);
    EXPECT(open_conn(open, "db4", 4), DM_OK);
    printf("  t=40 s: db3 timed out; db4 open\n");
    CHECK(dm_len(open) == 2 && dm_contains_key(open, STR("db1")) &&
              dm_contains_key(open, STR("db4")) && !dm_contains_key(open, STR("db3")),
          "db1 (used at 20 s) and db4 are open");
    dm_free(open);
}

/* ---- 3. checkout / return ---------------------------------------------- */

enum { POOL_SIZE = 3, WORKERS = 4, JOBS = 300 };

static atomic_int holder[POOL_SIZE]; /* who holds conn i: -1 nobody (check) */
static struct start_gate gate = START_GATE_INIT;

static void pause_us(long us) {
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

static void conn_key(char *buf, size_t cap, int i) {
    snprintf(buf, cap, "conn-%d", i);
}

/* Tries every connection once; returns its index or -1 if all are busy. */
static int checkout(dm_map *pool) {
    char key[32];
    for (int i = 0; i < POOL_SIZE; i++) {
        conn_key(key, sizeof key, i);
        dm_status st = dm_compare_and_swap(pool, STR(key), STR("I"), STR("B"));
        if (st == DM_OK) return i;
        CHECK(st == DM_MISMATCH, "checkout: %s", dm_status_str(st));
    }
    return -1;
}

static void give_back(dm_map *pool, int i) {
    char key[32];
    conn_key(key, sizeof key, i);
    /* Only the holder may return it; anything but DM_OK is a pool bug. */
    EXPECT(dm_compare_and_swap(pool, STR(key), STR("B"), STR("I")), DM_OK);
}

struct worker {
    dm_map *pool, *uses;
    int id, jobs_done, waits;
};

static void *work(void *arg) {
    struct worker *w = arg;
    gate_wait(&gate);
    while (w->jobs_done < JOBS) {
        int c = checkout(w->pool);
        if (c < 0) { /* all busy: wait a moment and try again */
            w->waits++;
            pause_us(20);
            continue;
        }
        /* We own connection c now: nobody else may. */
        int prev = atomic_exchange(&holder[c], w->id);
        CHECK(prev == -1, "conn-%d handed to thread %d while %d held it", c,
              w->id, prev);
        char key[32];
        conn_key(key, sizeof key, c);
        EXPECT(dm_add_i64(w->uses, STR(key), 1, NULL), DM_OK);
        pause_us(50); /* "run a query" on it */
        atomic_store(&holder[c], -1);
        give_back(w->pool, c);
        w->jobs_done++;
    }
    return NULL;
}

int main(void) {
    /* Part 1: the seed's named connections, on a simulated clock (ms). */
    struct named_pool named = {.connections = dm_new()};
    CHECK(named.connections != NULL, "dm_new");
    atomic_init(&named.next_id, 1);
    struct conn_info db1 = get_or_create(&named, "db1", 0);
    struct conn_info db2 = get_or_create(&named, "db2", 5000);
    struct conn_info again = get_or_create(&named, "db1", 6000);
    printf("Connections: db1 -> id %" PRIu64 ", db2 -> id %" PRIu64
           ", db1 again -> id %" PRIu64 "\n", db1.id, db2.id, again.id);
    CHECK(again.id == db1.id && db1.id != db2.id, "db1 is created once");

    struct stale_sweep sweep = {.now_ms = 33000, .max_age_ms = 30000};
    EXPECT(dm_retain_cb(named.connections, is_fresh, &sweep), DM_OK);
    printf("remove_stale(max age 30 s, at t = 33 s): dropped %d, kept %zu\n",
           sweep.dropped, dm_len(named.connections));
    CHECK(sweep.dropped == 1 && !dm_contains_key(named.connections, STR("db1")) &&
              dm_contains_key(named.connections, STR("db2")),
          "db1 (33 s old) is stale, db2 (28 s old) is not");
    dm_free(named.connections);

    /* Part 2: a bounded set of connections with an idle timeout. */
    bounded_pool();

    /* Part 3: POOL_SIZE connections, WORKERS threads competing for them. */
    dm_map *pool = dm_new(), *uses = dm_new();
    CHECK(pool != NULL && uses != NULL, "dm_new");
    char key[32];
    for (int i = 0; i < POOL_SIZE; i++) {
        conn_key(key, sizeof key, i);
        EXPECT(dm_try_insert(pool, STR(key), STR("I")), DM_OK);
        atomic_init(&holder[i], -1);
    }
    pthread_t t[WORKERS];
    struct worker w[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        w[i] = (struct worker){.pool = pool, .uses = uses, .id = i};
        start_thread(&t[i], work, &w[i]);
    }
    gate_open(&gate);
    int waits = 0;
    for (int i = 0; i < WORKERS; i++) {
        join_thread(t[i]);
        waits += w[i].waits;
    }

    int64_t total = 0;
    printf("%d workers ran %d jobs on %d connections (%d waits for a free one):\n",
           WORKERS, WORKERS * JOBS, POOL_SIZE, waits);
    for (int i = 0; i < POOL_SIZE; i++) {
        conn_key(key, sizeof key, i);
        uint8_t b[8];
        size_t len = 0;
        int64_t n = 0;
        if (dm_get_copy(uses, STR(key), b, sizeof b, &len) == DM_OK) n = get_i64(b);
        char state[4];
        CHECK(get_str(pool, key, state, sizeof state), "%s exists", key);
        printf("  %s: %" PRId64 " uses, now %s\n", key, n,
               state[0] == 'I' ? "idle" : "busy");
        CHECK(strcmp(state, "I") == 0, "%s returned to the pool", key);
        total += n;
    }
    CHECK(total == WORKERS * JOBS, "every job used exactly one connection");

    dm_free(pool);
    dm_free(uses);
    printf("11_connection_pool: OK\n");
    return 0;
}
