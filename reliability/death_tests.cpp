// death_tests.cpp: what happens when a callback does not return normally.
//
// The header says: "A callback must not unwind (C++ exception, longjmp) out of
// the library: an exception reaching the library aborts the process cleanly."
// Each case runs in a forked child with a deadline (a hang fails instead of
// blocking CI) and accepts exactly two outcomes:
//   - the child died of SIGABRT (the documented clean abort), or
//   - the library caught the exception and returned DM_ERR_PANIC, and the
//     map was still usable from another thread (no leaked lock).
// An exception that escapes through the library to the caller (a skipped
// unlock), any other signal or exit, or a timeout fails the test. Which of
// the two accepted outcomes happened is printed for every callback kind.
// A callback that calls abort() must kill the child with SIGABRT as well.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

#include "dashmap.h"

namespace {

constexpr int kTimeoutSeconds = 20;
// Child exit codes.
constexpr int kPanicAndUsable = 42;     // DM_ERR_PANIC, map still usable
constexpr int kEscaped = 43;            // the exception reached the caller
constexpr int kOtherStatus = 44;        // the call returned something else
constexpr int kLockLeaked = 45;         // DM_ERR_PANIC, but the map hung / failed

struct Outcome {
    enum Kind { kExited, kSignaled, kTimedOut } kind;
    int value;  // exit code or signal
    std::string describe() const {
        switch (kind) {
        case kExited: return "exit code " + std::to_string(value);
        case kSignaled: return std::string("signal ") + strsignal(value);
        default: return "timed out after " + std::to_string(value) + " s (hang)";
        }
    }
};

// Runs `body` in a child process; the child exits 0 when body returns.
Outcome run_in_child(const std::function<void()> &body, int timeout_s = kTimeoutSeconds) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        abort();
    }
    if (pid == 0) {
        alarm(timeout_s + 5);  // a backstop should the parent die
        body();
        _exit(0);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return {Outcome::kTimedOut, timeout_s};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (WIFSIGNALED(status)) return {Outcome::kSignaled, WTERMSIG(status)};
    return {Outcome::kExited, WEXITSTATUS(status)};
}

std::map<std::string, std::string> &report() {
    static std::map<std::string, std::string> r;
    return r;
}

const uint8_t *b(const char *s) { return reinterpret_cast<const uint8_t *>(s); }

// --- callbacks that throw -------------------------------------------------

void throw_entry(dm_entry *, void *) { throw std::runtime_error("thrown from a dm_entry_fn"); }
void throw_read(const uint8_t *, size_t, void *) { throw std::runtime_error("thrown from a dm_read_fn"); }
bool throw_visit(const uint8_t *, size_t, const uint8_t *, size_t, void *) {
    throw std::runtime_error("thrown from a dm_visit_fn");
}
bool throw_visit_mut(const uint8_t *, size_t, uint8_t *, size_t, void *) {
    throw std::runtime_error("thrown from a dm_visit_mut_fn");
}

// --- callbacks that abort ---------------------------------------------------

void abort_entry(dm_entry *, void *) { abort(); }
bool abort_visit(const uint8_t *, size_t, const uint8_t *, size_t, void *) { abort(); }

// After DM_ERR_PANIC: another thread must be able to write the same key (the
// shard's lock was released) and every shard (dm_clear takes each write lock).
int map_still_usable(dm_map *m) {
    bool ok = false;
    std::thread t([&] {
        ok = dm_insert(m, b("k"), 1, b("after"), 5) == DM_REPLACED && dm_clear(m) == DM_OK && dm_len(m) == 0;
    });
    t.join();  // the child's alarm() ends a hang
    return ok ? kPanicAndUsable : kLockLeaked;
}

// A child body: a map with a few entries, `call` runs the throwing callback.
std::function<void()> throwing_child(const std::function<dm_status(dm_map *)> &call) {
    return [call] {
        dm_map *m = dm_new();
        for (int i = 0; i < 16; i++) {
            char k[8];
            snprintf(k, sizeof k, "%d", i);
            dm_insert(m, b(k), strlen(k), b("v"), 1);
        }
        dm_insert(m, b("k"), 1, b("before"), 6);
        dm_status st;
        try {
            st = call(m);
        } catch (...) {
            _exit(kEscaped);
        }
        if (st != DM_ERR_PANIC) _exit(kOtherStatus);
        _exit(map_still_usable(m));
    };
}

void expect_clean_abort_or_panic(const std::string &name, const std::function<dm_status(dm_map *)> &call) {
    Outcome o = run_in_child(throwing_child(call));
    bool aborted = o.kind == Outcome::kSignaled && o.value == SIGABRT;
    bool panicked = o.kind == Outcome::kExited && o.value == kPanicAndUsable;
    std::string what = aborted    ? "process aborted cleanly (SIGABRT)"
                       : panicked ? "caught: DM_ERR_PANIC, map still usable"
                                  : "FAILED: " + o.describe();
    if (o.kind == Outcome::kExited && o.value == kEscaped) what += " (the exception escaped through the library)";
    if (o.kind == Outcome::kExited && o.value == kLockLeaked) what += " (DM_ERR_PANIC but the map was unusable)";
    if (o.kind == Outcome::kExited && o.value == kOtherStatus) what += " (returned a status other than DM_ERR_PANIC)";
    report()[name] = what;
    printf("[ outcome  ] C++ exception from %s: %s\n", name.c_str(), what.c_str());
    EXPECT_TRUE(aborted || panicked) << name << ": " << what;
}

TEST(CppException, FromEntryUpdate) {
    expect_clean_abort_or_panic("dm_entry_update callback",
                                [](dm_map *m) { return dm_entry_update(m, b("k"), 1, throw_entry, nullptr); });
}

TEST(CppException, FromForEach) {
    expect_clean_abort_or_panic("dm_for_each callback",
                                [](dm_map *m) { return dm_for_each(m, throw_visit, nullptr); });
}

TEST(CppException, FromGetWith) {
    expect_clean_abort_or_panic("dm_get_with callback",
                                [](dm_map *m) { return dm_get_with(m, b("k"), 1, throw_read, nullptr); });
}

TEST(CppException, FromRemoveIf) {
    expect_clean_abort_or_panic("dm_remove_if predicate",
                                [](dm_map *m) { return dm_remove_if(m, b("k"), 1, throw_visit, nullptr); });
}

TEST(CppException, FromForEachMut) {
    expect_clean_abort_or_panic("dm_for_each_mut callback",
                                [](dm_map *m) { return dm_for_each_mut(m, throw_visit_mut, nullptr); });
}

TEST(CppException, FromRetainCb) {
    expect_clean_abort_or_panic("dm_retain_cb predicate",
                                [](dm_map *m) { return dm_retain_cb(m, throw_visit, nullptr); });
}

// An exception thrown on one thread while others keep using the map: the
// process must still end by SIGABRT (or the map keep working), never hang.
TEST(CppException, WhileOtherThreadsWork) {
    Outcome o = run_in_child([] {
        dm_map *m = dm_new();
        dm_insert(m, b("k"), 1, b("v"), 1);
        std::atomic<bool> go{true};
        std::thread worker([&] {
            while (go) dm_add_i64(m, b("n"), 1, 1, nullptr);
        });
        dm_status st;
        try {
            st = dm_entry_update(m, b("k"), 1, throw_entry, nullptr);
        } catch (...) {
            _exit(kEscaped);
        }
        go = false;
        worker.join();
        _exit(st == DM_ERR_PANIC ? map_still_usable(m) : kOtherStatus);
    });
    bool ok = (o.kind == Outcome::kSignaled && o.value == SIGABRT) ||
              (o.kind == Outcome::kExited && o.value == kPanicAndUsable);
    EXPECT_TRUE(ok) << o.describe();
}

TEST(CallbackAbort, InEntryUpdate) {
    Outcome o = run_in_child([] {
        dm_map *m = dm_new();
        dm_entry_update(m, b("k"), 1, abort_entry, nullptr);
        _exit(kOtherStatus);
    });
    EXPECT_TRUE(o.kind == Outcome::kSignaled && o.value == SIGABRT) << o.describe();
}

TEST(CallbackAbort, InForEach) {
    Outcome o = run_in_child([] {
        dm_map *m = dm_new();
        dm_insert(m, b("k"), 1, b("v"), 1);
        dm_for_each(m, abort_visit, nullptr);
        _exit(kOtherStatus);
    });
    EXPECT_TRUE(o.kind == Outcome::kSignaled && o.value == SIGABRT) << o.describe();
}

// The watchdog itself: a child that hangs inside a callback (it blocks on a
// pipe nobody writes) is reported as a timeout, not waited for forever.
TEST(Watchdog, HangInCallbackIsReported) {
    Outcome o = run_in_child([] {
        dm_map *m = dm_new();
        dm_insert(m, b("k"), 1, b("v"), 1);
        dm_get_with(
            m, b("k"), 1,
            [](const uint8_t *, size_t, void *) {
                int fds[2];
                if (pipe(fds) == 0) {
                    char c;
                    while (read(fds[0], &c, 1) != 0) {
                    }
                }
            },
            nullptr);
        _exit(0);
    }, 2);
    // Either our deadline (SIGKILL) or the child's own alarm backstop fired.
    EXPECT_TRUE(o.kind == Outcome::kTimedOut || (o.kind == Outcome::kSignaled && o.value == SIGALRM))
        << o.describe();
}

class Summary : public ::testing::Environment {
  public:
    void TearDown() override {
        printf("death tests: C++ exceptions from callbacks:\n");
        for (auto &kv : report()) printf("  %-26s -> %s\n", kv.first.c_str(), kv.second.c_str());
    }
};

const auto *const summary = ::testing::AddGlobalTestEnvironment(new Summary);

}  // namespace
