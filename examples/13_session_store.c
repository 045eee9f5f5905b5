/*
 * 13_session_store.c: web sessions with a sliding idle timeout.
 *
 * Seed section "Session Store Example". session id -> struct session (a
 * fixed-size record copied in and out of the map). The map keeps the expiry
 * itself, so the record needs no last-seen field and nobody compares times:
 *   login       dm_try_insert_ttl under a fresh random id (retry on a
 *               collision); the session expires `timeout` from now
 *   request     dm_touch: push the expiry to `timeout` from now (sliding)
 *   expires in  dm_ttl_remaining, for display
 *   remember me dm_expire(..., 0): this session never expires
 *   get         dm_get_copy into a struct (an expired session is absent)
 *   set_theme   dm_entry_update: change one field in place (keeps the expiry)
 *   logout      dm_remove_if: remove only if the session is the caller's
 *   cleanup     dm_purge_expired: sweep expired sessions, with their count
 * A session expires exactly at its deadline: alive 1 ms before, gone at it.
 * The map runs on a manual clock (dm_options.manual_clock + dm_clock_set) so
 * the run is reproducible; a server would use the default monotonic clock.
 */
#include "example_util.h"

struct session {
    uint64_t user_id;
    uint64_t created_ms;
    char username[24];
    char theme[8]; /* the seed's `data: {"theme": ...}` */
};

struct session_store {
    dm_map *sessions;
    uint64_t timeout_ms; /* idle time after which a session expires */
};

enum { SESSION_ID_LEN = 24 };
static const uint64_t MINUTE = 60000;

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* login: writes the new session's id (a C string) into id[SESSION_ID_LEN]. */
static void create_session(struct session_store *st, uint64_t *rng,
                           uint64_t user_id, const char *username,
                           char id[SESSION_ID_LEN]) {
    struct session s;
    memset(&s, 0, sizeof s); /* no stray bytes in the stored record */
    s.user_id = user_id;
    s.created_ms = dm_clock_now(st->sessions);
    snprintf(s.username, sizeof s.username, "%s", username);
    snprintf(s.theme, sizeof s.theme, "light");
    dm_status rc;
    do { /* a new id until it is unused: try_insert never overwrites */
        snprintf(id, SESSION_ID_LEN, "sess-%016" PRIx64, splitmix64(rng));
        rc = dm_try_insert_ttl(st->sessions, STR(id), (const uint8_t *)&s,
                               sizeof s, st->timeout_ms);
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

/* A request on the session: its idle timeout starts again. False when the
 * session does not exist (any more): the user must log in again. */
static bool on_request(struct session_store *st, const char *id) {
    dm_status rc = dm_touch(st->sessions, STR(id), st->timeout_ms);
    CHECK(rc == DM_OK || rc == DM_NOT_FOUND, "touch: %s", dm_status_str(rc));
    return rc == DM_OK;
}

/* "Remember me": the session no longer expires. */
static void remember_me(struct session_store *st, const char *id) {
    EXPECT(dm_expire(st->sessions, STR(id), 0), DM_OK);
}

/* Milliseconds until the session expires, DM_TTL_NONE for never, 0 when it
 * is gone. */
static uint64_t expires_in(const struct session_store *st, const char *id) {
    uint64_t ms = 0;
    dm_status rc = dm_ttl_remaining(st->sessions, STR(id), &ms);
    if (rc == DM_NOT_FOUND) return 0;
    CHECK(rc == DM_OK, "ttl_remaining: %s", dm_status_str(rc));
    return ms;
}

/* In place: copy the record out, change it, copy it back into the same bytes
 * (the stored bytes may not be aligned for struct session). An in-place
 * update keeps the entry's expiry. */
struct theme_edit {
    const char *theme;
    bool found;
};

static void set_theme_cb(dm_entry *e, void *ctx) {
    struct theme_edit *t = ctx;
    size_t len = 0;
    uint8_t *v = dm_entry_value_mut(e, &len);
    t->found = v != NULL;
    if (!t->found) return;
    struct session s;
    CHECK(len == sizeof s, "session record");
    memcpy(&s, v, sizeof s);
    memset(s.theme, 0, sizeof s.theme);
    snprintf(s.theme, sizeof s.theme, "%s", t->theme);
    memcpy(v, &s, sizeof s);
}

static bool set_theme(struct session_store *st, const char *id, const char *theme) {
    struct theme_edit t = {.theme = theme};
    EXPECT(dm_entry_update(st->sessions, STR(id), set_theme_cb, &t), DM_OK);
    return t.found;
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

/* Sweeps expired sessions; returns how many. */
static size_t cleanup_expired(struct session_store *st) {
    size_t removed = 0;
    EXPECT(dm_purge_expired(st->sessions, &removed), DM_OK);
    return removed;
}

static void set_time(struct session_store *st, uint64_t now_ms) {
    EXPECT(dm_clock_set(st->sessions, now_ms), DM_OK);
}

/* ---- many users at once ------------------------------------------------ */

enum { THREADS = 4, USERS_PER_THREAD = 50, USERS = THREADS * USERS_PER_THREAD };

struct worker {
    struct session_store *store;
    struct start_gate *gate;
    int id;
    char ids[USERS_PER_THREAD][SESSION_ID_LEN];
};

/* Every worker logs in its users... */
static void *login_all(void *arg) {
    struct worker *w = arg;
    uint64_t rng = 0x5e55 + (uint64_t)w->id;
    char name[24];
    gate_wait(w->gate);
    for (int u = 0; u < USERS_PER_THREAD; u++) {
        snprintf(name, sizeof name, "user%d_%d", w->id, u);
        create_session(w->store, &rng, (uint64_t)(w->id * 1000 + u), name, w->ids[u]);
    }
    return NULL;
}

/* ...and later sees every other one again; the rest stay idle. */
static void *activity(void *arg) {
    struct worker *w = arg;
    gate_wait(w->gate);
    for (int u = 0; u < USERS_PER_THREAD; u += 2)
        CHECK(on_request(w->store, w->ids[u]), "user%d_%d's session is live", w->id, u);
    return NULL;
}

/* Runs fn on every worker at once, at the map's current time. */
static void run_workers(struct worker w[], void *(*fn)(void *)) {
    struct start_gate gate = {.open = false};
    CHECK(pthread_mutex_init(&gate.mu, NULL) == 0 &&
              pthread_cond_init(&gate.cv, NULL) == 0, "gate");
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i].gate = &gate;
        start_thread(&t[i], fn, &w[i]);
    }
    gate_open(&gate);
    for (int i = 0; i < THREADS; i++) join_thread(t[i]);
    pthread_cond_destroy(&gate.cv);
    pthread_mutex_destroy(&gate.mu);
}

int main(void) {
    dm_options opts = dm_options_default();
    opts.manual_clock = true; /* simulated time, starts at 0 */
    struct session_store store = {.timeout_ms = 60 * MINUTE};
    EXPECT(dm_new_with_options(&opts, &store.sessions), DM_OK);
    uint64_t rng = 42;
    struct session s;

    /* t = 0: alice logs in; her session expires after 60 idle minutes. */
    char alice[SESSION_ID_LEN];
    create_session(&store, &rng, 42, "alice", alice);
    CHECK(expires_in(&store, alice) == 60 * MINUTE, "a fresh session");

    /* t = 1 s: a request that changes her theme. The in-place edit keeps
     * the expiry; the request itself (dm_touch) restarts the timeout. */
    set_time(&store, 1000);
    CHECK(set_theme(&store, alice, "dark"), "alice exists");
    CHECK(expires_in(&store, alice) == 60 * MINUTE - 1000, "edit keeps the expiry");
    CHECK(on_request(&store, alice), "alice's request");
    CHECK(expires_in(&store, alice) == 60 * MINUTE, "touch restarts the timeout");
    CHECK(get_session(&store, alice, &s), "alice's session");
    printf("Session %s: user %s (id %" PRIu64 "), theme %s, created at %" PRIu64
           " ms, expires in %" PRIu64 " ms\n",
           alice, s.username, s.user_id, s.theme, s.created_ms,
           expires_in(&store, alice));
    CHECK(s.user_id == 42 && strcmp(s.username, "alice") == 0 &&
              strcmp(s.theme, "dark") == 0 && s.created_ms == 0,
          "alice's record");

    /* bob ticks "remember me": his session never expires. */
    char bob[SESSION_ID_LEN];
    create_session(&store, &rng, 7, "bob", bob);
    remember_me(&store, bob);
    CHECK(expires_in(&store, bob) == DM_TTL_NONE, "bob never expires");
    printf("Session %s: bob, remember me: expires never (DM_TTL_NONE)\n", bob);

    /* Someone else cannot log carol out; carol can. */
    char carol[SESSION_ID_LEN];
    create_session(&store, &rng, 99, "carol", carol);
    EXPECT(logout(&store, carol, 666), DM_MISMATCH);
    EXPECT(logout(&store, carol, 99), DM_OK);
    EXPECT(logout(&store, carol, 99), DM_NOT_FOUND);
    CHECK(!get_session(&store, carol, &s) && !on_request(&store, carol),
          "carol's session is gone");
    printf("carol logged out (user 666 could not do it for her)\n");

    /* t = 2 s: USERS log in concurrently (they expire at 60 min + 2 s)... */
    static struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) w[i] = (struct worker){.store = &store, .id = i};
    set_time(&store, 2000);
    run_workers(w, login_all);
    printf("t=2 s: %zu sessions\n", dm_len(store.sessions));
    CHECK(dm_len(store.sessions) == 2 + USERS, "alice, bob and every user");

    /* ...and at t = 30 min half of them are active again (now expiring at
     * 90 min); the other half stay idle. */
    set_time(&store, 30 * MINUTE);
    run_workers(w, activity);
    CHECK(expires_in(&store, w[0].ids[0]) == 60 * MINUTE, "active: 60 min left");
    CHECK(expires_in(&store, w[0].ids[1]) == 30 * MINUTE + 2000, "idle: 30 min 2 s left");

    /* alice's deadline is 60 min + 1 s: alive 1 ms before it, gone at it. */
    set_time(&store, 60 * MINUTE + 999);
    CHECK(get_session(&store, alice, &s) && expires_in(&store, alice) == 1,
          "alice has 1 ms left");
    set_time(&store, 60 * MINUTE + 1000);
    CHECK(!get_session(&store, alice, &s) && expires_in(&store, alice) == 0,
          "alice expired exactly at her deadline");
    printf("t=60 min 0.999 s: alice's session has 1 ms left; at 60 min 1 s it is gone\n");
    /* Expired sessions are invisible at once but still stored; a write that
     * meets one (here alice's next request) removes it, and cannot revive it. */
    CHECK(dm_len(store.sessions) == 2 + USERS, "expired alice still stored");
    CHECK(!on_request(&store, alice), "an expired session cannot be touched");
    CHECK(dm_len(store.sessions) == 1 + USERS, "the touch removed it");
    CHECK(get_session(&store, w[0].ids[1], &s) &&
              expires_in(&store, w[0].ids[1]) == 1000,
          "idle sessions have 1 s left");

    /* t = 75 min: the idle half expired at 60 min 2 s; the active half
     * (until 90 min) and bob remain. The sweep counts exactly the idle half. */
    set_time(&store, 75 * MINUTE);
    size_t stored = dm_len(store.sessions);
    size_t expired = cleanup_expired(&store);
    printf("cleanup at t=75 min: %zu stored, %zu expired, %zu active\n", stored,
           expired, dm_len(store.sessions));
    CHECK(expired == USERS / 2, "the idle half expired, got %zu", expired);
    CHECK(dm_len(store.sessions) == USERS / 2 + 1, "active half + bob remain");
    for (int i = 0; i < THREADS; i++)
        for (int u = 0; u < USERS_PER_THREAD; u++)
            CHECK(get_session(&store, w[i].ids[u], &s) == (u % 2 == 0),
                  "session of user%d_%d", i, u);

    /* t = 30 days: everyone has expired but bob, who asked to be remembered. */
    set_time(&store, 30 * 24 * 60 * MINUTE);
    expired = cleanup_expired(&store);
    printf("cleanup at t=30 days: %zu expired, %zu left (bob)\n", expired,
           dm_len(store.sessions));
    CHECK(expired == USERS / 2 && dm_len(store.sessions) == 1, "only bob is left");
    CHECK(get_session(&store, bob, &s) && strcmp(s.username, "bob") == 0, "bob");

    dm_free(store.sessions);
    printf("13_session_store: OK\n");
    return 0;
}
