/*
 * 15_metrics.c: counters and gauges updated from many threads.
 *
 * Seed section "Metrics Collection". One map holds every metric as an 8-byte
 * int64 under "counter:<name>" or "gauge:<name>":
 *   counters  dm_add_i64(+n): concurrent increments never get lost
 *   gauges    dm_insert to set; dm_add_i64(+1/-1) for up/down values;
 *             a dm_compare_and_swap loop for "max seen"
 * The final report walks the map with a dm_iter cursor and sorts by name.
 */
#include "example_util.h"

enum { THREADS = 4, REQUESTS = 1000, MAX_METRICS = 16 };

struct metrics {
    dm_map *map;
};

static void metric_key(char *buf, size_t cap, const char *kind, const char *name) {
    snprintf(buf, cap, "%s:%s", kind, name);
}

static int64_t counter_add(struct metrics *m, const char *name, int64_t n) {
    char key[64];
    int64_t now = 0;
    metric_key(key, sizeof key, "counter", name);
    EXPECT(dm_add_i64(m->map, STR(key), n, &now), DM_OK);
    return now;
}

static void gauge_set(struct metrics *m, const char *name, int64_t v) {
    char key[64];
    uint8_t b[8];
    metric_key(key, sizeof key, "gauge", name);
    put_i64(b, v);
    dm_status st = dm_insert(m->map, STR(key), b, 8);
    CHECK(st == DM_OK || st == DM_REPLACED, "gauge_set: %s", dm_status_str(st));
}

static int64_t gauge_add(struct metrics *m, const char *name, int64_t d) {
    char key[64];
    int64_t now = 0;
    metric_key(key, sizeof key, "gauge", name);
    EXPECT(dm_add_i64(m->map, STR(key), d, &now), DM_OK);
    return now;
}

/* gauge = max(gauge, v), lock-free style: retry if another thread moved it. */
static void gauge_max(struct metrics *m, const char *name, int64_t v) {
    char key[64];
    metric_key(key, sizeof key, "gauge", name);
    uint8_t cur[8], next[8];
    put_i64(next, v);
    for (;;) {
        size_t len = 0;
        dm_status st = dm_get_copy(m->map, STR(key), cur, 8, &len);
        if (st == DM_NOT_FOUND) {
            if (dm_try_insert(m->map, STR(key), next, 8) == DM_OK) return;
            continue; /* someone created it first: compare with theirs */
        }
        CHECK(st == DM_OK && len == 8, "gauge_max: %s", dm_status_str(st));
        if (get_i64(cur) >= v) return;
        if (dm_compare_and_swap(m->map, STR(key), cur, 8, next, 8) == DM_OK) return;
    }
}

/* ---- simulated request handlers ----------------------------------------- */

static struct start_gate gate = START_GATE_INIT;

struct worker {
    struct metrics *m;
    int id;
    int64_t bytes; /* local tally, for checking */
};

static void *handle(void *arg) {
    struct worker *w = arg;
    gate_wait(&gate);
    for (int i = 0; i < REQUESTS; i++) {
        int64_t in_flight = gauge_add(w->m, "in_flight", +1);
        gauge_max(w->m, "peak_in_flight", in_flight);
        counter_add(w->m, "requests_total", 1);
        int64_t size = 100 + (i * 7 + w->id) % 50;
        counter_add(w->m, "bytes_sent", size);
        w->bytes += size;
        if (i % 10 == 0) counter_add(w->m, "errors_total", 1);
        gauge_set(w->m, "last_worker", w->id);
        gauge_add(w->m, "in_flight", -1);
    }
    return NULL;
}

/* ---- the report ---------------------------------------------------------- */

struct row {
    char name[64];
    int64_t value;
};

static int by_name(const void *a, const void *b) {
    return strcmp(((const struct row *)a)->name, ((const struct row *)b)->name);
}

/* Snapshot of all metrics, sorted; returns the number of rows. */
static size_t snapshot(const struct metrics *m, struct row *rows) {
    size_t n = 0;
    dm_iter *it = dm_iter_new(m->map);
    CHECK(it != NULL, "dm_iter_new");
    const uint8_t *k, *v;
    size_t klen, vlen;
    dm_status st;
    while ((st = dm_iter_next(it, &k, &klen, &v, &vlen)) == DM_OK) {
        CHECK(n < MAX_METRICS && klen < sizeof rows[n].name && vlen == 8, "metric");
        memcpy(rows[n].name, k, klen); /* k and v die at the next step: copy */
        rows[n].name[klen] = '\0';
        rows[n].value = get_i64(v);
        n++;
    }
    EXPECT(st, DM_NOT_FOUND);
    dm_iter_free(it);
    qsort(rows, n, sizeof rows[0], by_name);
    return n;
}

static int64_t value_of(const struct row *rows, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].name, name) == 0) return rows[i].value;
    CHECK(0, "metric %s missing", name);
    return 0;
}

int main(void) {
    struct metrics m = {.map = dm_new()};
    CHECK(m.map != NULL, "dm_new");

    /* The seed: 100 increments and one gauge. */
    for (int i = 0; i < 100; i++) counter_add(&m, "seed_requests_total", 1);
    gauge_set(&m, "active_connections", 42);

    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.m = &m, .id = i};
        start_thread(&t[i], handle, &w[i]);
    }
    gate_open(&gate);
    int64_t bytes = 0;
    for (int i = 0; i < THREADS; i++) {
        join_thread(t[i]);
        bytes += w[i].bytes;
    }

    struct row rows[MAX_METRICS];
    size_t n = snapshot(&m, rows);
    printf("Metrics:\n");
    for (size_t i = 0; i < n; i++) printf("  %-30s %8" PRId64 "\n", rows[i].name, rows[i].value);

    CHECK(n == 8, "8 metrics, got %zu", n);
    CHECK(value_of(rows, n, "counter:seed_requests_total") == 100, "seed counter");
    CHECK(value_of(rows, n, "gauge:active_connections") == 42, "seed gauge");
    CHECK(value_of(rows, n, "counter:requests_total") == THREADS * REQUESTS, "requests");
    CHECK(value_of(rows, n, "counter:errors_total") == THREADS * REQUESTS / 10, "errors");
    CHECK(value_of(rows, n, "counter:bytes_sent") == bytes, "bytes_sent");
    CHECK(value_of(rows, n, "gauge:in_flight") == 0, "every +1 had its -1");
    int64_t peak = value_of(rows, n, "gauge:peak_in_flight");
    CHECK(peak >= 1 && peak <= THREADS, "peak in flight %" PRId64, peak);
    int64_t last = value_of(rows, n, "gauge:last_worker");
    CHECK(last >= 0 && last < THREADS, "last worker %" PRId64, last);

    dm_free(m.map);
    printf("15_metrics: OK\n");
    return 0;
}
