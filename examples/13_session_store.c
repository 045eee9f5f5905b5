/*
 * 13_session_store.c: web sessions with last-seen timestamps and expiry.
 *
 * Seed section "Session Store Example". session id -> struct session (a
 * fixed-size record copied in and out of the map):
 *   create   dm_try_insert under a fresh random id (retry on a collision)
 *   get      dm_get_copy into a struct
 *   touch    dm_entry_update: update last_seen in place (get_mut)
 *   set_data dm_entry_update: change one field in place
 *   logout   dm_remove_if: remove only if the session is the caller's
 *   destroy  dm_remove
 *   cleanup  dm_retain_cb: drop sessions idle for longer than the timeout
 * Time is an explicit millisecond clock so the run is reproducible.
 */
#include "example_util.h"

struct session {
    uint64_t user_id;
    int64_t created_ms;
    int64_t last_seen_ms;
    char username[24];
    char theme[8]; /* the seed's `data: {"theme": ...}` */
};

struct session_store {
    dm_map *sessions;
    int64_t timeout_ms;
};

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* Writes the new session's id (a C string) into id[SESSION_ID_LEN]. */
enum { SESSION_ID_LEN = 24 };
static void create_session(struct session_store *st, uint64_t *rng,
                           uint64_t user_id, const char *username,
                           int64_t now_ms, char id[SESSION_ID_LEN]) {
    struct session s;
    memset(&s, 0, sizeof s); /* no stray bytes in the stored record */
    s.user_id = user_id;
    s.created_ms = s.last_seen_ms = now_ms;
    snprintf(s.username, sizeof s.username, "%s", username);
    snprintf(s.theme, sizeof s.theme, "light");
    dm_status rc;
    do { /* a new id until it is unused: try_insert never overwrites */
        snprintf(id, SESSION_ID_LEN, "sess-%016" PRIx64, splitmix64(rng));
        rc = dm_try_insert(st->sessions, STR(id), (const uint8_t *)&s, sizeof s);
    } while (rc == DM_EXISTS);
    EXPECT(rc, DM_OK);
}

static bool get_session(const struct session_store *st, const char *id,
                        struct session *out) {
    size_t len = 0;
    dm_status rc = dm_get_copy(st->sessions, STR(id), (uint8_t *)out, sizeof *out, &len);
    if (rc == DM_NOT_FOUND) return false;
    CHECK(rc == DM_OK && len == sizeof *out, "get_session: %s", dm_status_str(rc));
    return true;
}

struct touch {
    int64_t now_ms;
    const char *theme; /* NULL: only touch */
    bool found;
};

/* In place: copy the record out, change it, copy it back into the same bytes
 * (the stored bytes may not be aligned for struct session). */
static void touch_cb(dm_entry *e, void *ctx) {
    struct touch *t = ctx;
    size_t len = 0;
    uint8_t *v = dm_entry_value_mut(e, &len);
    t->found = v != NULL;
    if (!t->found) return;
    struct session s;
    CHECK(len == sizeof s, "session record");
    memcpy(&s, v, sizeof s);
    s.last_seen_ms = t->now_ms;
    if (t->theme) {
        memset(s.theme, 0, sizeof s.theme);
        snprintf(s.theme, sizeof s.theme, "%s", t->theme);
    }
    memcpy(v, &s, sizeof s);
}

static bool touch_session(struct session_store *st, const char *id, int64_t now_ms) {
    struct touch t = {.now_ms = now_ms};
    EXPECT(dm_entry_update(st->sessions, STR(id), touch_cb, &t), DM_OK);
    return t.found;
}

static bool set_theme(struct session_store *st, const char *id, const char *theme,
                      int64_t now_ms) {
    struct touch t = {.now_ms = now_ms, .theme = theme};
    EXPECT(dm_entry_update(st->sessions, STR(id), touch_cb, &t), DM_OK);
    return t.found;
}

static void destroy_session(struct session_store *st, const char *id) {
    dm_status rc = dm_remove(st->sessions, STR(id), NULL, 0, NULL);
    CHECK(rc == DM_OK || rc == DM_NOT_FOUND, "destroy: %s", dm_status_str(rc));
}

/* logout: remove the session only if it belongs to `user_id`; the check and
 * the removal are one atomic step (dm_remove_if runs the predicate under the
 * shard's write lock). */
static bool owned_by(const uint8_t *k, size_t klen, const uint8_t *v,
                     size_t vlen, void *ctx) {
    (void)k, (void)klen;
    struct session s;
    CHECK(vlen == sizeof s, "session record");
    memcpy(&s, v, sizeof s);
    return s.user_id == *(const uint64_t *)ctx;
}

static dm_status logout(struct session_store *st, const char *id, uint64_t user_id) {
    return dm_remove_if(st->sessions, STR(id), owned_by, &user_id);
}

struct expiry {
    int64_t now_ms, timeout_ms;
    size_t expired;
};

static bool still_active(const uint8_t *k, size_t klen, const uint8_t *v,
                         size_t vlen, void *ctx) {
    (void)k, (void)klen;
    struct expiry *x = ctx;
    struct session s;
    CHECK(vlen == sizeof s, "session record");
    memcpy(&s, v, sizeof s);
    bool keep = x->now_ms - s.last_seen_ms < x->timeout_ms;
    x->expired += !keep;
    return keep;
}

static size_t cleanup_expired(struct session_store *st, int64_t now_ms) {
    struct expiry x = {.now_ms = now_ms, .timeout_ms = st->timeout_ms};
    EXPECT(dm_retain_cb(st->sessions, still_active, &x), DM_OK);
    return x.expired;
}

/* ---- many users logging in at once ------------------------------------- */

enum { THREADS = 4, USERS_PER_THREAD = 50 };
static struct start_gate gate = START_GATE_INIT;

struct worker {
    struct session_store *store;
    int id;
    char ids[USERS_PER_THREAD][SESSION_ID_LEN];
};

/* Each worker logs in its users at t=0 and sees every other one again at
 * t=30 min; the rest go idle. */
static void *traffic(void *arg) {
    struct worker *w = arg;
    uint64_t rng = 0x5e55 + (uint64_t)w->id;
    char name[24];
    gate_wait(&gate);
    for (int u = 0; u < USERS_PER_THREAD; u++) {
        snprintf(name, sizeof name, "user%d_%d", w->id, u);
        create_session(w->store, &rng, (uint64_t)(w->id * 1000 + u), name, 0, w->ids[u]);
    }
    for (int u = 0; u < USERS_PER_THREAD; u += 2)
        CHECK(touch_session(w->store, w->ids[u], 30 * 60000), "touch");
    return NULL;
}

int main(void) {
    struct session_store store = {.sessions = dm_new(), .timeout_ms = 3600 * 1000};
    CHECK(store.sessions != NULL, "dm_new");
    uint64_t rng = 42;

    /* The seed: alice with theme "dark". */
    char alice[SESSION_ID_LEN];
    create_session(&store, &rng, 42, "alice", 0, alice);
    CHECK(set_theme(&store, alice, "dark", 1000), "alice exists");
    struct session s;
    CHECK(get_session(&store, alice, &s), "alice's session");
    printf("Session %s: user %s (id %" PRIu64 "), theme %s, last seen %" PRId64 " ms\n",
           alice, s.username, s.user_id, s.theme, s.last_seen_ms);
    CHECK(s.user_id == 42 && strcmp(s.username, "alice") == 0 &&
              strcmp(s.theme, "dark") == 0 && s.last_seen_ms == 1000,
          "alice's record");

    /* Concurrent logins and activity. */
    pthread_t t[THREADS];
    static struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.store = &store, .id = i};
        start_thread(&t[i], traffic, &w[i]);
    }
    gate_open(&gate);
    for (int i = 0; i < THREADS; i++) join_thread(t[i]);
    printf("Active sessions: %zu\n", dm_len(store.sessions));
    CHECK(dm_len(store.sessions) == 1 + THREADS * USERS_PER_THREAD, "all created");

    /* Someone else cannot log alice out; alice can. */
    EXPECT(logout(&store, alice, 666), DM_MISMATCH);
    EXPECT(logout(&store, alice, 42), DM_OK);
    EXPECT(logout(&store, alice, 42), DM_NOT_FOUND);
    printf("alice logged out (user 666 could not do it for her)\n");
    CHECK(!get_session(&store, alice, &s), "alice's session is gone");
    destroy_session(&store, alice); /* unconditional removal: already gone */
    CHECK(!touch_session(&store, alice, 2000), "touching it finds nothing");

    /* At t=75 min: sessions last seen at t=0 expired (timeout 60 min),
     * those seen at t=30 min are still active. */
    size_t expired = cleanup_expired(&store, 75 * 60000);
    printf("cleanup at t=75 min: %zu expired, %zu active\n", expired,
           dm_len(store.sessions));
    CHECK(expired == THREADS * USERS_PER_THREAD / 2, "the idle half expired");
    CHECK(dm_len(store.sessions) == THREADS * USERS_PER_THREAD / 2, "half remain");
    for (int i = 0; i < THREADS; i++)
        for (int u = 0; u < USERS_PER_THREAD; u++)
            CHECK(get_session(&store, w[i].ids[u], &s) == (u % 2 == 0),
                  "session of user%d_%d", i, u);

    dm_free(store.sessions);
    printf("13_session_store: OK\n");
    return 0;
}
