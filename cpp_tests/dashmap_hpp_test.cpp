// GoogleTest suite for include/dashmap.hpp (the header-only C++17 wrapper).
// Every public member is exercised; callbacks that throw, reentrant calls,
// sharing copies between threads and move semantics get their own tests.
#include <dashmap.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

using dashmap::Entry;
using dashmap::Error;
using dashmap::Map;
using namespace std::string_literals;
using namespace std::chrono_literals;

namespace {

// A custom exception type: the wrapper must rethrow it unchanged.
struct Boom : std::runtime_error {
    explicit Boom(int n) : std::runtime_error("boom"), n(n) {}
    int n;
};

template <class F>
dm_status status_of(F &&f) {
    try {
        f();
    } catch (const Error &e) {
        return e.status();
    }
    return DM_OK;
}

// True when every shard can be write-locked, i.e. no lock was leaked. A leak
// would deadlock here; ctest's timeout turns that into a failure.
void expect_unlocked(Map &m) {
    Map probe = m;
    std::size_t n = probe.size();
    probe.shrink_to_fit();  // write-locks every shard
    EXPECT_EQ(probe.size(), n);
}

std::string big(std::size_t n, char c = 'x') { return std::string(n, c); }

void append_bang(Entry &e) { e.set(std::string(e.value().value_or("")) + "!"); }
bool key_is_short(std::string_view k, std::string_view) { return k.size() < 3; }

}  // namespace

static_assert(!std::is_convertible_v<std::size_t, Map>, "Map(size_t) must be explicit");
static_assert(std::is_nothrow_move_constructible_v<Map>);
static_assert(std::is_nothrow_move_assignable_v<Map>);
static_assert(std::is_nothrow_copy_constructible_v<Map>);
static_assert(std::is_same_v<std::iterator_traits<dashmap::Iterator>::iterator_category, std::input_iterator_tag>);
static_assert(!std::is_copy_constructible_v<Entry>);

// ---------------------------------------------------------------- basics

TEST(Version, MatchesHeader) {
    EXPECT_EQ(dashmap::version(), DM_VERSION_STRING);
    EXPECT_EQ(dm_version_number(), static_cast<std::uint32_t>(DM_VERSION_NUMBER));
}

TEST(Error, CarriesStatusAndMessage) {
    Error e(DM_ERR_INVALID, "dm_something");
    EXPECT_EQ(e.status(), DM_ERR_INVALID);
    EXPECT_EQ(std::string(e.what()), "dm_something: "s + dm_status_str(DM_ERR_INVALID));
    Error plain(DM_ERR_NO_MEMORY);
    EXPECT_EQ(plain.status(), DM_ERR_NO_MEMORY);
    EXPECT_STREQ(plain.what(), dm_status_str(DM_ERR_NO_MEMORY));
    const std::runtime_error &base = e;  // is-a runtime_error
    EXPECT_NE(std::string(base.what()).find("dm_something"), std::string::npos);
}

TEST(Construct, Default) {
    Map m;
    EXPECT_TRUE(static_cast<bool>(m));
    EXPECT_NE(m.native_handle(), nullptr);
    EXPECT_TRUE(m.empty());
    EXPECT_EQ(m.size(), 0u);
    EXPECT_GE(m.shard_count(), 2u);
}

TEST(Construct, Capacity) {
    Map m(1000);
    EXPECT_GE(m.capacity(), 1000u);
    EXPECT_TRUE(m.empty());
}

TEST(Construct, Options) {
    dashmap::Options o;
    EXPECT_EQ(o.capacity, 0u);
    EXPECT_EQ(o.shards, 0u);
    EXPECT_EQ(o.hasher, dashmap::Hasher::SipHash);
    EXPECT_EQ(o.seed, 0u);
    o.capacity = 64;
    o.shards = 8;
    o.hasher = dashmap::Hasher::Fast;
    o.seed = 42;
    dm_options c = o.to_c();
    EXPECT_EQ(c.capacity, 64u);
    EXPECT_EQ(c.shards, 8u);
    EXPECT_EQ(c.hasher, DM_HASHER_FAST);
    EXPECT_EQ(c.seed, 42u);

    Map m(o);
    EXPECT_EQ(m.shard_count(), 8u);
    EXPECT_GE(m.capacity(), 64u);
    m.insert("k", "v");
    EXPECT_EQ(m.get("k"), "v");

    // The same seed places keys in the same shards.
    Map twin(o);
    for (int i = 0; i < 200; i++) {
        m.insert(std::to_string(i), "");
        twin.insert(std::to_string(i), "");
    }
    twin.insert("k", "v");
    for (std::size_t s = 0; s < 8; s++) EXPECT_EQ(m.shard_len(s), twin.shard_len(s));
}

TEST(Construct, InvalidOptionsThrow) {
    dashmap::Options o;
    o.shards = 3;
    EXPECT_EQ(status_of([&] { Map m(o); }), DM_ERR_INVALID);
    o.shards = 0;
    o.hasher = static_cast<dashmap::Hasher>(77);
    EXPECT_EQ(status_of([&] { Map m(o); }), DM_ERR_INVALID);
}

TEST(Construct, WithShards) {
    Map m = Map::with_shards(16);
    EXPECT_EQ(m.shard_count(), 16u);
    EXPECT_EQ(status_of([] { Map::with_shards(3); }), DM_ERR_INVALID);
    EXPECT_EQ(status_of([] { Map::with_shards(0); }), DM_ERR_INVALID);
    EXPECT_EQ(status_of([] { Map::with_shards(1); }), DM_ERR_INVALID);
    EXPECT_EQ(status_of([] { Map::with_shards(DM_MAX_SHARDS * 2); }), DM_ERR_INVALID);
}

TEST(Construct, WithCapacityAndShards) {
    Map m = Map::with_capacity_and_shards(500, 4);
    EXPECT_EQ(m.shard_count(), 4u);
    EXPECT_GE(m.capacity(), 500u);
    EXPECT_EQ(status_of([] { Map::with_capacity_and_shards(10, 6); }), DM_ERR_INVALID);
    EXPECT_EQ(status_of([] { Map::with_capacity_and_shards(10, 0); }), DM_ERR_INVALID);
}

TEST(Construct, AdoptAndFromHandle) {
    dm_map *raw = dm_new();
    ASSERT_NE(raw, nullptr);
    {
        Map shared = Map::from_handle(raw);  // takes its own reference
        EXPECT_EQ(shared.native_handle(), raw);
        shared.insert("a", "1");
    }
    EXPECT_TRUE(dm_contains_key(raw, reinterpret_cast<const std::uint8_t *>("a"), 1));  // still alive
    Map owner = Map::adopt(raw);  // takes over our reference
    EXPECT_EQ(owner.get("a"), "1");
    EXPECT_EQ(status_of([] { Map::adopt(nullptr); }), DM_ERR_NULL);
    EXPECT_EQ(status_of([] { Map::from_handle(nullptr); }), DM_ERR_NULL);
}

// ---------------------------------------------------------- single keys

TEST(Basic, InsertGetContainsRemove) {
    Map m;
    EXPECT_FALSE(m.insert("k", "v1"));  // new
    EXPECT_TRUE(m.insert("k", "v2"));   // replaced
    EXPECT_EQ(m.get("k"), "v2");
    EXPECT_EQ(m.get("missing"), std::nullopt);
    EXPECT_TRUE(m.contains("k"));
    EXPECT_FALSE(m.contains("missing"));
    EXPECT_EQ(m.size(), 1u);
    EXPECT_FALSE(m.empty());
    EXPECT_EQ(m.remove("k"), "v2");
    EXPECT_EQ(m.remove("k"), std::nullopt);
    EXPECT_TRUE(m.empty());
}

TEST(Basic, BinaryAndEmptyStrings) {
    Map m;
    const std::string key("a\0b", 3), val("\0\xff\0", 3);
    m.insert(key, val);
    EXPECT_EQ(m.get(key), val);
    EXPECT_FALSE(m.contains("a"));
    EXPECT_FALSE(m.insert("", ""));
    EXPECT_TRUE(m.contains(""));
    EXPECT_EQ(m.get(""), ""s);
    EXPECT_TRUE(m.contains(std::string_view()));
    EXPECT_EQ(m.remove(""), ""s);
    EXPECT_FALSE(m.contains(""));
    m.insert("empty-value", std::string_view());
    EXPECT_TRUE(m.contains("empty-value"));
    EXPECT_EQ(m.get("empty-value"), ""s);
}

TEST(Basic, LargeValuesTakeTheSlowPath) {
    Map m;
    for (std::size_t n : {255u, 256u, 257u, 4096u, 1u << 20}) {
        std::string v = big(n, static_cast<char>('a' + n % 26));
        m.insert("k", v);
        EXPECT_EQ(m.get("k"), v) << n;
        EXPECT_TRUE(m.contains("k"));
        EXPECT_EQ(m.remove("k"), v) << n;
        EXPECT_FALSE(m.contains("k"));
    }
}

TEST(Basic, Erase) {
    Map m;
    m.insert("k", big(1000));
    EXPECT_TRUE(m.erase("k"));
    EXPECT_FALSE(m.erase("k"));
    EXPECT_TRUE(m.empty());
}

TEST(Basic, ClearCapacityShrink) {
    Map m;
    for (int i = 0; i < 1000; i++) m.insert("key" + std::to_string(i), "v");
    EXPECT_EQ(m.size(), 1000u);
    std::size_t cap = m.capacity();
    EXPECT_GE(cap, 1000u);
    m.clear();
    EXPECT_TRUE(m.empty());
    EXPECT_EQ(m.capacity(), cap);  // clear keeps capacity
    m.shrink_to_fit();
    EXPECT_LT(m.capacity(), cap);
    m.insert("again", "ok");
    EXPECT_EQ(m.get("again"), "ok");
}

TEST(Atomics, TryInsert) {
    Map m;
    EXPECT_TRUE(m.try_insert("k", "first"));
    EXPECT_FALSE(m.try_insert("k", "second"));
    EXPECT_EQ(m.get("k"), "first");
}

TEST(Atomics, CompareAndSwap) {
    Map m;
    EXPECT_FALSE(m.compare_and_swap("k", "a", "b"));  // missing
    EXPECT_FALSE(m.contains("k"));
    m.insert("k", "a");
    EXPECT_FALSE(m.compare_and_swap("k", "x", "b"));  // mismatch
    EXPECT_EQ(m.get("k"), "a");
    EXPECT_TRUE(m.compare_and_swap("k", "a", "b"));
    EXPECT_EQ(m.get("k"), "b");
    EXPECT_TRUE(m.compare_and_swap("k", "b", big(5000)));
    EXPECT_EQ(m.get("k"), big(5000));
}

TEST(Atomics, CompareAndRemove) {
    Map m;
    EXPECT_FALSE(m.compare_and_remove("k", "a"));
    m.insert("k", "a");
    EXPECT_FALSE(m.compare_and_remove("k", "b"));
    EXPECT_TRUE(m.contains("k"));
    EXPECT_TRUE(m.compare_and_remove("k", "a"));
    EXPECT_FALSE(m.contains("k"));
}

TEST(Atomics, Swap) {
    Map m;
    EXPECT_EQ(m.swap("k", "one"), std::nullopt);
    EXPECT_EQ(m.swap("k", "two"), "one");
    EXPECT_EQ(m.swap("k", big(3000)), "two");
    EXPECT_EQ(m.swap("k", "three"), big(3000));  // old value larger than the stack buffer
    EXPECT_EQ(m.get("k"), "three");
}

TEST(Atomics, GetOrInsert) {
    Map m;
    auto [v1, inserted1] = m.get_or_insert("k", "default");
    EXPECT_EQ(v1, "default");
    EXPECT_TRUE(inserted1);
    auto [v2, inserted2] = m.get_or_insert("k", "other");
    EXPECT_EQ(v2, "default");
    EXPECT_FALSE(inserted2);
    m.insert("big", big(10000, 'q'));
    auto [v3, inserted3] = m.get_or_insert("big", "small");
    EXPECT_EQ(v3, big(10000, 'q'));
    EXPECT_FALSE(inserted3);
}

TEST(Atomics, RemoveIf) {
    Map m;
    m.insert("k", "42");
    EXPECT_FALSE(m.remove_if("k", [](std::string_view, std::string_view v) { return v == "7"; }));
    EXPECT_TRUE(m.contains("k"));
    std::string seen_key;
    EXPECT_TRUE(m.remove_if("k", [&](std::string_view k, std::string_view v) {
        seen_key = std::string(k);
        return v == "42";
    }));
    EXPECT_EQ(seen_key, "k");
    EXPECT_FALSE(m.contains("k"));
    EXPECT_FALSE(m.remove_if("k", [](std::string_view, std::string_view) { return true; }));  // absent
}

TEST(Atomics, RemoveIfThrowingKeepsTheEntry) {
    Map m;
    m.insert("k", "v");
    EXPECT_THROW(m.remove_if("k", [](std::string_view, std::string_view) -> bool { throw Boom(1); }), Boom);
    EXPECT_EQ(m.get("k"), "v");
    EXPECT_FALSE(m.insert("k2", "v2"));
    expect_unlocked(m);
}

TEST(Counter, Add) {
    Map m;
    EXPECT_EQ(m.add("n", 5), 5);
    EXPECT_EQ(m.add("n", -7), -2);
    EXPECT_EQ(m.add("n", 0), -2);
    auto raw = m.get("n");
    ASSERT_TRUE(raw);
    EXPECT_EQ(raw->size(), 8u);
    m.insert("max", std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8));  // INT64_MAX, little-endian
    EXPECT_EQ(m.add("max", 1), INT64_MIN);                                   // wraps
    m.insert("text", "not a counter");
    EXPECT_EQ(status_of([&] { m.add("text", 1); }), DM_ERR_INVALID);
    EXPECT_EQ(m.get("text"), "not a counter");
}

// -------------------------------------------------- TTL and size bound

namespace {
Map manual_clock_map() {
    dashmap::Options o;
    o.manual_clock = true;
    return Map(o);
}
}  // namespace

TEST(Ttl, OptionsMirrorTheCStruct) {
    dashmap::Options o;
    EXPECT_EQ(o.max_entries, 0u);
    EXPECT_FALSE(o.manual_clock);
    o.max_entries = 9;
    o.manual_clock = true;
    dm_options c = o.to_c();
    EXPECT_EQ(c.max_entries, 9u);
    EXPECT_TRUE(c.manual_clock);
}

TEST(Ttl, InsertExpiresOnTheManualClock) {
    Map m = manual_clock_map();
    EXPECT_EQ(m.clock_now(), 0ms);
    EXPECT_FALSE(m.insert_ttl("a", "1", 100ms));
    EXPECT_TRUE(m.insert_ttl("a", "2", 100ms));  // replaced
    EXPECT_EQ(m.ttl_remaining("a"), 100ms);
    m.clock_set(99ms);
    EXPECT_EQ(m.clock_now(), 99ms);
    EXPECT_EQ(m.get("a"), "2");
    EXPECT_EQ(m.ttl_remaining("a"), 1ms);
    m.clock_set(100ms);  // deadline reached: absent for every read
    EXPECT_EQ(m.get("a"), std::nullopt);
    EXPECT_FALSE(m.contains("a"));
    EXPECT_EQ(m.ttl_remaining("a"), std::nullopt);
    std::size_t walked = 0;
    m.for_each([&](std::string_view, std::string_view) { walked++; });
    EXPECT_EQ(walked, 0u);
    EXPECT_EQ(m.begin(), m.end());
    EXPECT_EQ(m.size(), 1u);  // still stored until purged
    EXPECT_EQ(m.purge_expired(), 1u);
    EXPECT_EQ(m.size(), 0u);
    EXPECT_EQ(m.purge_expired(), 0u);
}

TEST(Ttl, NeverAndDroppingTheTtl) {
    Map m = manual_clock_map();
    m.insert("plain", "v");
    EXPECT_EQ(m.ttl_remaining("plain"), Map::never);
    EXPECT_EQ(m.ttl_remaining("missing"), std::nullopt);
    m.insert_ttl("k", "v", 0ms);  // 0 = never
    EXPECT_EQ(m.ttl_remaining("k"), Map::never);
    m.insert_ttl("k", "v", 10ms);
    m.insert("k", "w");  // a whole-entry write drops the TTL
    EXPECT_EQ(m.ttl_remaining("k"), Map::never);
    m.insert_ttl("s", "v", std::chrono::seconds(2));  // any lossless duration converts
    EXPECT_EQ(m.ttl_remaining("s"), 2000ms);
}

TEST(Ttl, TryInsertTtl) {
    Map m = manual_clock_map();
    EXPECT_TRUE(m.try_insert_ttl("k", "first", 50ms));
    EXPECT_FALSE(m.try_insert_ttl("k", "second", 50ms));
    EXPECT_EQ(m.get("k"), "first");
    m.clock_set(50ms);
    EXPECT_TRUE(m.try_insert_ttl("k", "third", 0ms));  // the expired entry counts as absent
    EXPECT_EQ(m.get("k"), "third");
    EXPECT_EQ(m.ttl_remaining("k"), Map::never);
}

TEST(Ttl, AddTtlIsAFixedWindowRateLimiter) {
    Map m = manual_clock_map();
    EXPECT_EQ(m.add_ttl("rl", 1, 1000ms), 1);
    EXPECT_EQ(m.add_ttl("rl", 1, 1000ms), 2);
    m.clock_set(999ms);
    EXPECT_EQ(m.add_ttl("rl", 1, 1000ms), 3);  // later adds keep the deadline
    EXPECT_EQ(m.ttl_remaining("rl"), 1ms);
    m.clock_set(1000ms);
    EXPECT_EQ(m.add_ttl("rl", 1, 1000ms), 1);  // a new window
    EXPECT_EQ(m.ttl_remaining("rl"), 1000ms);
}

TEST(Ttl, ExpireAndTouch) {
    Map m = manual_clock_map();
    EXPECT_FALSE(m.expire("k", 10ms));
    EXPECT_FALSE(m.touch("k", 10ms));
    m.insert("k", "v");
    EXPECT_TRUE(m.expire("k", 10ms));
    EXPECT_EQ(m.ttl_remaining("k"), 10ms);
    m.clock_set(5ms);
    EXPECT_TRUE(m.touch("k", 10ms));  // sliding: 10 ms from now
    EXPECT_EQ(m.ttl_remaining("k"), 10ms);
    EXPECT_TRUE(m.expire("k", 0ms));  // clears the TTL
    EXPECT_EQ(m.ttl_remaining("k"), Map::never);
    EXPECT_EQ(status_of([&] { m.touch("k", 0ms); }), DM_ERR_INVALID);
    m.expire("k", 1ms);
    m.clock_set(6ms);
    EXPECT_FALSE(m.touch("k", 10ms));  // already expired
}

TEST(Ttl, InvalidDurationsAndRealTimeClock) {
    Map manual = manual_clock_map();
    EXPECT_EQ(status_of([&] { manual.insert_ttl("k", "v", -1ms); }), DM_ERR_INVALID);
    EXPECT_EQ(status_of([&] { manual.clock_set(-5ms); }), DM_ERR_INVALID);
    EXPECT_FALSE(manual.contains("k"));
    Map real;
    EXPECT_EQ(status_of([&] { real.clock_set(10ms); }), DM_ERR_INVALID);
    auto t0 = real.clock_now();
    EXPECT_GE(real.clock_now(), t0);  // monotonic
    real.insert_ttl("k", "v", std::chrono::hours(1));
    auto left = real.ttl_remaining("k");
    ASSERT_TRUE(left);
    EXPECT_GT(*left, 59min);
    EXPECT_LE(*left, 60min);
}

TEST(Ttl, MaxEntriesThrowsFull) {
    dashmap::Options o;
    o.max_entries = 3;
    o.manual_clock = true;
    Map m(o);
    m.extend({{"a", "1"}, {"b", "2"}});
    m.insert_ttl("c", "3", 10ms);
    dm_status full = DM_OK;
    std::string what;
    try {
        m.insert("d", "4");
    } catch (const Error &e) {
        full = e.status();
        what = e.what();
    }
    EXPECT_EQ(full, DM_ERR_FULL);
    EXPECT_NE(what.find(dm_status_str(DM_ERR_FULL)), std::string::npos);
    EXPECT_EQ(status_of([&] { m.try_insert("d", "4"); }), DM_ERR_FULL);
    EXPECT_EQ(status_of([&] { m.add("d", 1); }), DM_ERR_FULL);
    EXPECT_FALSE(m.contains("d"));
    EXPECT_TRUE(m.insert("a", "updated"));  // existing keys can always be updated
    m.clock_set(10ms);  // "c" expires (swept lazily only in the new key's shard)
    EXPECT_EQ(m.purge_expired(), 1u);  // so purge: room for one more
    EXPECT_FALSE(m.insert("d", "4"));
    EXPECT_EQ(m.get("d"), "4");
}

// --------------------------------------------------------------- update

TEST(Update, InsertWhenVacant) {
    Map m;
    bool was_occupied = true;
    m.update("k", [&](Entry &e) {
        was_occupied = e.occupied();
        EXPECT_EQ(e.key(), "k");
        EXPECT_EQ(e.value(), std::nullopt);
        e.set("new");
        EXPECT_TRUE(e.occupied());
        EXPECT_EQ(e.value(), "new");
    });
    EXPECT_FALSE(was_occupied);
    EXPECT_EQ(m.get("k"), "new");
}

TEST(Update, ModifyAndRemove) {
    Map m;
    m.insert("k", "abc");
    m.update("k", [](Entry &e) {
        ASSERT_TRUE(e.value());
        e.set(std::string(*e.value()) + "def");
    });
    EXPECT_EQ(m.get("k"), "abcdef");
    m.update("k", [](Entry &e) { EXPECT_TRUE(e.remove()); });
    EXPECT_FALSE(m.contains("k"));
    m.update("k", [](Entry &e) { EXPECT_FALSE(e.remove()); });  // vacant stays vacant
    EXPECT_FALSE(m.contains("k"));
    m.update("k", [](Entry &) {});  // doing nothing inserts nothing
    EXPECT_FALSE(m.contains("k"));
}

TEST(Update, StagedOperationsCombine) {
    Map m;
    m.insert("a", "1");
    m.update("a", [](Entry &e) {
        e.set("2");
        EXPECT_TRUE(e.remove());
        EXPECT_FALSE(e.occupied());
    });
    EXPECT_FALSE(m.contains("a"));  // set then remove = removed

    m.insert("b", "1");
    m.update("b", [](Entry &e) {
        e.remove();
        e.set("3");
        e.set(*e.value());  // set from its own staged value
    });
    EXPECT_EQ(m.get("b"), "3");  // remove then set = set

    m.update("c", [](Entry &e) {
        e.set("x");
        EXPECT_TRUE(e.remove());
    });
    EXPECT_FALSE(m.contains("c"));  // vacant: set then remove = nothing
}

TEST(Update, CounterFromLambda) {
    Map m;
    auto bump = [](Entry &e) {
        int n = e.value() ? std::stoi(std::string(*e.value())) : 0;
        e.set(std::to_string(n + 1));
    };
    for (int i = 0; i < 10; i++) m.update("n", bump);  // lvalue functor
    const auto cbump = bump;
    m.update("n", cbump);  // const functor
    EXPECT_EQ(m.get("n"), "11");
}

TEST(Update, LargeValues) {
    Map m;
    m.update("k", [](Entry &e) { e.set(big(100000, 'z')); });
    m.update("k", [](Entry &e) { EXPECT_EQ(e.value()->size(), 100000u); });
    EXPECT_EQ(m.get("k"), big(100000, 'z'));
}

TEST(Update, ExceptionLeavesOccupiedEntryUnchanged) {
    Map m;
    m.insert("k", "original");
    try {
        m.update("k", [](Entry &e) {
            e.set("changed");
            throw Boom(7);
        });
        FAIL() << "no exception";
    } catch (const Boom &b) {
        EXPECT_EQ(b.n, 7);  // the very exception object type and payload
    }
    EXPECT_EQ(m.get("k"), "original");
    EXPECT_THROW(m.update("k",
                          [](Entry &e) {
                              e.remove();
                              throw std::logic_error("nope");
                          }),
                 std::logic_error);
    EXPECT_EQ(m.get("k"), "original");
    EXPECT_TRUE(m.insert("k", "after"));  // no lock leaked on this key
    EXPECT_EQ(m.get("k"), "after");
    expect_unlocked(m);
}

TEST(Update, ExceptionLeavesVacantEntryVacant) {
    Map m;
    EXPECT_THROW(m.update("k",
                          [](Entry &e) {
                              e.set("v");
                              throw 42;  // not even a std::exception
                          }),
                 int);
    EXPECT_FALSE(m.contains("k"));
    EXPECT_FALSE(m.insert("k", "v"));
    EXPECT_EQ(m.size(), 1u);
}

TEST(Update, ReentrantCallThrows) {
    Map m;
    m.insert("k", "v");
    dm_status inner = DM_OK;
    EXPECT_EQ(status_of([&] {
                  m.update("k", [&](Entry &) {
                      inner = status_of([&] { (void)m.get("other"); });
                      (void)m.size();  // escapes the lambda
                  });
              }),
              DM_ERR_REENTRANT);
    EXPECT_EQ(inner, DM_ERR_REENTRANT);
    EXPECT_EQ(m.get("k"), "v");
    m.insert("k", "w");
    expect_unlocked(m);
}

TEST(Update, OtherMapsAndShardCountInsideCallback) {
    Map m, other;
    m.update("k", [&](Entry &e) {
        other.insert("seen", e.key());
        EXPECT_GE(m.shard_count(), 2u);  // takes no lock: allowed
        Map copy = m;                    // dm_ref: allowed
        e.set("v");
    });
    EXPECT_EQ(other.get("seen"), "k");
    EXPECT_EQ(m.get("k"), "v");
}

TEST(Update, PlainFunctionsAndFunctionObjects) {
    Map m;
    m.update("k", append_bang);
    m.update("k", &append_bang);
    std::function<void(Entry &)> fn = append_bang;
    m.update("k", fn);
    EXPECT_EQ(m.get("k"), "!!!");
}

// ------------------------------------------------------- whole-map walks

TEST(Walks, PlainFunctions) {
    Map m;
    m.extend({{"a", "1"}, {"bb", "2"}, {"ccc", "3"}, {"dddd", "4"}});
    EXPECT_FALSE(m.remove_if("ccc", key_is_short));
    EXPECT_TRUE(m.remove_if("a", key_is_short));
    std::size_t n = 0;
    EXPECT_TRUE(m.for_each([&n](std::string_view, std::string_view) { n++; }));
    EXPECT_EQ(n, 3u);
    EXPECT_FALSE(m.for_each(key_is_short));  // stops at the first long key
    m.retain(&key_is_short);
    EXPECT_EQ(m.size(), 1u);
    EXPECT_TRUE(m.contains("bb"));
}

TEST(ForEach, VisitsEverything) {
    Map m;
    std::map<std::string, std::string> expected;
    for (int i = 0; i < 300; i++) {
        expected["k" + std::to_string(i)] = "v" + std::to_string(i);
        m.insert("k" + std::to_string(i), "v" + std::to_string(i));
    }
    std::map<std::string, std::string> seen;
    EXPECT_TRUE(m.for_each([&](std::string_view k, std::string_view v) {
        seen.emplace(k, v);
        return true;
    }));
    EXPECT_EQ(seen, expected);

    std::size_t n = 0;
    EXPECT_TRUE(m.for_each([&](std::string_view, std::string_view) { n++; }));  // void lambda
    EXPECT_EQ(n, 300u);

    n = 0;
    EXPECT_FALSE(m.for_each([&](std::string_view, std::string_view) { return ++n < 10; }));  // stops
    EXPECT_EQ(n, 10u);

    const Map &cm = m;  // const access
    n = 0;
    cm.for_each([&](std::string_view, std::string_view) { n++; });
    EXPECT_EQ(n, 300u);
}

TEST(ForEach, ExceptionStopsAndRethrows) {
    Map m;
    for (int i = 0; i < 100; i++) m.insert(std::to_string(i), "v");
    int calls = 0;
    EXPECT_THROW(m.for_each([&](std::string_view, std::string_view) {
        if (++calls == 5) throw Boom(5);
        return true;
    }),
                 Boom);
    EXPECT_EQ(calls, 5);  // not called again after the throw
    EXPECT_EQ(m.size(), 100u);
    EXPECT_TRUE(m.insert("0", "again"));
    expect_unlocked(m);
}

TEST(ForEach, ReentrantCallThrows) {
    Map m;
    m.insert("a", "1");
    EXPECT_EQ(status_of([&] { m.for_each([&](std::string_view k, std::string_view) { m.insert(k, "x"); }); }),
              DM_ERR_REENTRANT);
    EXPECT_EQ(status_of([&] { m.for_each([&](std::string_view, std::string_view) { (void)m.begin(); }); }),
              DM_ERR_REENTRANT);
    EXPECT_EQ(status_of([&] { m.for_each([&](std::string_view, std::string_view) { (void)m.capacity(); }); }),
              DM_ERR_REENTRANT);
    EXPECT_EQ(status_of([&] { m.for_each([&](std::string_view, std::string_view) { (void)m.contains("a"); }); }),
              DM_ERR_REENTRANT);
    EXPECT_EQ(m.get("a"), "1");
    expect_unlocked(m);
}

TEST(Retain, KeepsWhatThePredicateKeeps) {
    Map m;
    for (int i = 0; i < 100; i++) m.insert(std::to_string(i), std::to_string(i % 2));
    m.retain([](std::string_view, std::string_view v) { return v == "0"; });
    EXPECT_EQ(m.size(), 50u);
    m.for_each([](std::string_view, std::string_view v) { EXPECT_EQ(v, "0"); });
}

TEST(Retain, ExceptionKeepsUndecidedEntries) {
    Map m;
    for (int i = 0; i < 100; i++) m.insert(std::to_string(i), "v");
    EXPECT_THROW(m.retain([](std::string_view, std::string_view) -> bool { throw Boom(0); }), Boom);
    EXPECT_EQ(m.size(), 100u);  // nothing lost

    int calls = 0;
    EXPECT_THROW(m.retain([&](std::string_view, std::string_view) {
        if (++calls == 11) throw Boom(11);
        return false;  // the first 10 are removed
    }),
                 Boom);
    EXPECT_EQ(calls, 11);
    EXPECT_EQ(m.size(), 90u);  // exactly the 10 decided entries went
    EXPECT_FALSE(m.insert("fresh", "v"));
    expect_unlocked(m);
}

TEST(Retain, ReentrantCallThrows) {
    Map m;
    m.insert("a", "1");
    EXPECT_EQ(status_of([&] { m.retain([&](std::string_view, std::string_view) { return m.erase("a"); }); }),
              DM_ERR_REENTRANT);
    EXPECT_EQ(m.get("a"), "1");
}

// ------------------------------------------------------------ batches

TEST(Batch, GetMany) {
    Map m;
    m.insert("a", "1");
    m.insert("b", big(1000));
    m.insert("e", "");
    std::vector<std::string> keys{"a", "missing", "b", "e"};
    auto got = m.get_many(keys);
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[0], "1");
    EXPECT_EQ(got[1], std::nullopt);
    EXPECT_EQ(got[2], big(1000));  // past the first buffer guess
    EXPECT_EQ(got[3], ""s);

    auto braced = m.get_many({"b", "a"});
    ASSERT_EQ(braced.size(), 2u);
    EXPECT_EQ(braced[0], big(1000));
    EXPECT_EQ(braced[1], "1");

    std::array<const char *, 1> arr{"a"};
    EXPECT_EQ(m.get_many(arr).at(0), "1");
    std::vector<std::string_view> views{"e"};
    EXPECT_EQ(m.get_many(views).at(0), ""s);
    EXPECT_TRUE(m.get_many(std::vector<std::string>{}).empty());
}

TEST(Batch, Extend) {
    Map m;
    m.extend({{"a", "1"}, {"b", "2"}, {"a", "3"}});  // last value wins
    EXPECT_EQ(m.get("a"), "3");
    EXPECT_EQ(m.get("b"), "2");

    std::map<std::string, std::string> source{{"x", "10"}, {"y", "20"}};
    m.extend(source);
    EXPECT_EQ(m.get("y"), "20");

    std::vector<std::pair<std::string, std::string>> pairs{{"p", big(500)}};
    m.extend(pairs);
    EXPECT_EQ(m.get("p"), big(500));

    std::vector<std::string_view> ks{"k1", "k2"};
    std::vector<std::string> vs{"v1", "v2"};
    m.extend(ks, vs);
    EXPECT_EQ(m.get("k2"), "v2");
    EXPECT_EQ(status_of([&] { m.extend(ks, std::vector<std::string>{"only one"}); }), DM_ERR_INVALID);
    EXPECT_EQ(m.size(), 7u);
    m.extend(std::vector<std::pair<std::string, std::string>>{});  // empty is fine
    EXPECT_EQ(m.size(), 7u);
}

TEST(Batch, RemoveMany) {
    Map m;
    m.extend({{"a", "1"}, {"b", "2"}, {"c", "3"}});
    EXPECT_EQ(m.remove_many({"a", "missing"}), 1u);
    std::vector<std::string> keys{"b", "c", "a"};
    EXPECT_EQ(m.remove_many(keys), 2u);
    EXPECT_TRUE(m.empty());
    EXPECT_EQ(m.remove_many(std::vector<std::string>{}), 0u);
}

// ------------------------------------------------------ stats and shards

TEST(Stats, Snapshot) {
    Map m = Map::with_shards(8);
    for (int i = 0; i < 64; i++) m.insert("key" + std::to_string(i), "vv");
    dashmap::Stats s = m.stats();
    EXPECT_EQ(s.len, 64u);
    EXPECT_EQ(s.shards, 8u);
    EXPECT_GE(s.capacity, 64u);
    EXPECT_LE(s.min_shard_len, s.max_shard_len);
    EXPECT_EQ(s.value_bytes, 128u);
    std::size_t key_bytes = 0;
    for (int i = 0; i < 64; i++) key_bytes += ("key" + std::to_string(i)).size();
    EXPECT_EQ(s.key_bytes, key_bytes);

    EXPECT_EQ(m.shard_count(), 8u);
    std::size_t total = 0;
    for (std::size_t i = 0; i < m.shard_count(); i++) total += m.shard_len(i);
    EXPECT_EQ(total, 64u);
    EXPECT_EQ(status_of([&] { (void)m.shard_len(8); }), DM_ERR_INVALID);
}

// ----------------------------------------------------------- iteration

TEST(Iterate, RangeForCopiesEveryEntry) {
    Map m;
    std::map<std::string, std::string> expected;
    for (int i = 0; i < 500; i++) {
        std::string k = "k" + std::to_string(i), v = std::string("v\0", 2) + std::to_string(i);
        m.insert(k, v);
        expected[k] = v;
    }
    std::map<std::string, std::string> seen;
    for (auto &[k, v] : m) {
        static_assert(std::is_same_v<decltype(k), std::string>);
        seen.emplace(k, v);
    }
    EXPECT_EQ(seen, expected);

    std::size_t n = 0;
    for (const auto &kv : m) n += kv.first.empty() ? 0 : 1;
    EXPECT_EQ(n, 500u);
}

TEST(Iterate, EmptyMapAndIteratorProtocol) {
    Map m;
    EXPECT_EQ(m.begin(), m.end());
    EXPECT_EQ(dashmap::Iterator(), m.end());

    m.insert("only", "one");
    auto it = m.begin();
    EXPECT_NE(it, m.end());
    EXPECT_EQ(it->first, "only");
    EXPECT_EQ((*it).second, "one");
    auto copy = it;  // copies share the cursor
    EXPECT_EQ(copy, it);
    auto before = *it++;  // post-increment yields the old pair
    EXPECT_EQ(before.first, "only");
    EXPECT_EQ(it, m.end());
    EXPECT_EQ(copy, m.end());  // the shared cursor is at the end too

    EXPECT_NE(m.begin(), m.begin());  // two live cursors are different iterators
    const Map &cm = m;
    EXPECT_EQ(std::distance(cm.begin(), cm.end()), 1);
}

TEST(Iterate, BodyMayUseTheMap) {
    Map m;
    for (int i = 0; i < 100; i++) m.insert(std::to_string(i), "v");
    std::set<std::string> seen;
    for (auto &[k, v] : m) {
        seen.insert(k);
        m.insert(k, v + "!");  // no lock is held between steps
        m.erase("never-there");
    }
    EXPECT_EQ(seen.size(), 100u);
    m.for_each([](std::string_view, std::string_view v) { EXPECT_EQ(v, "v!"); });
}

TEST(Iterate, IteratorOutlivesItsMapHandle) {
    dashmap::Iterator it;
    {
        Map m;
        m.insert("a", "1");
        m.insert("b", "2");
        it = m.begin();
    }  // the cursor keeps the map alive
    std::size_t n = 0;
    for (; it != dashmap::Iterator(); ++it) n++;
    EXPECT_EQ(n, 2u);
}

// ------------------------------------------------------ copies and moves

TEST(Copy, SharesTheMap) {
    Map a;
    Map b = a;  // copy constructor
    EXPECT_EQ(a.native_handle(), b.native_handle());
    b.insert("k", "v");
    EXPECT_EQ(a.get("k"), "v");

    Map c;
    c.insert("c-only", "x");
    c = a;  // copy assignment releases c's old map
    EXPECT_EQ(c.native_handle(), a.native_handle());
    EXPECT_FALSE(c.contains("c-only"));
    const Map &self = c;
    c = self;  // self-assignment is harmless
    EXPECT_EQ(c.get("k"), "v");
}

TEST(Copy, MapLivesUntilTheLastHandle) {
    std::optional<Map> survivor;
    {
        Map original;
        original.insert("k", "v");
        survivor.emplace(original);
    }
    EXPECT_EQ(survivor->get("k"), "v");
    EXPECT_EQ(survivor->size(), 1u);
}

TEST(Move, TransfersTheHandle) {
    Map a;
    a.insert("k", "v");
    dm_map *h = a.native_handle();
    Map b = std::move(a);
    EXPECT_EQ(b.native_handle(), h);
    EXPECT_EQ(a.native_handle(), nullptr);  // NOLINT(bugprone-use-after-move): tested on purpose
    EXPECT_FALSE(static_cast<bool>(a));
    EXPECT_EQ(b.get("k"), "v");

    Map c;
    c = std::move(b);
    EXPECT_EQ(c.native_handle(), h);
    EXPECT_EQ(b.native_handle(), nullptr);  // NOLINT(bugprone-use-after-move)
    Map &alias = c;
    c = std::move(alias);  // self-move keeps the handle
    EXPECT_EQ(c.native_handle(), h);

    a = c;  // a moved-from Map can be assigned again
    EXPECT_EQ(a.get("k"), "v");
}

TEST(Move, MovedFromMapThrowsNull) {
    Map a;
    Map b = std::move(a);
    EXPECT_EQ(status_of([&] { a.insert("k", "v"); }), DM_ERR_NULL);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(status_of([&] { (void)a.get("k"); }), DM_ERR_NULL);
    EXPECT_EQ(status_of([&] { (void)a.size(); }), DM_ERR_NULL);
    EXPECT_EQ(status_of([&] { (void)a.contains("k"); }), DM_ERR_NULL);
    EXPECT_EQ(status_of([&] { (void)a.begin(); }), DM_ERR_NULL);
    EXPECT_EQ(status_of([&] { a.for_each([](std::string_view, std::string_view) {}); }), DM_ERR_NULL);
    EXPECT_EQ(status_of([&] { a.update("k", [](Entry &) {}); }), DM_ERR_NULL);
    Map c = a;  // copying an empty handle gives an empty handle
    EXPECT_FALSE(static_cast<bool>(c));
}

// ---------------------------------------------------------- concurrency

TEST(Threads, CopiesSharedBetweenThreadsCountExactly) {
    Map m = Map::with_shards(4);  // few shards: real contention
    constexpr int threads = 8, rounds = 5000;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) {
        pool.emplace_back([copy = m, t]() mutable {
            for (int i = 0; i < rounds; i++) {
                copy.add("total", 1);
                copy.add("by-two", 2);
                copy.update("text-counter", [](Entry &e) {
                    long n = e.value() ? std::stol(std::string(*e.value())) : 0;
                    e.set(std::to_string(n + 1));
                });
                copy.insert("t" + std::to_string(t) + "-" + std::to_string(i), "v");
            }
        });
    }
    for (auto &th : pool) th.join();
    EXPECT_EQ(m.add("total", 0), threads * rounds);
    EXPECT_EQ(m.add("by-two", 0), 2 * threads * rounds);
    EXPECT_EQ(m.get("text-counter"), std::to_string(threads * rounds));
    EXPECT_EQ(m.size(), static_cast<std::size_t>(threads * rounds + 3));
}

TEST(Threads, ConcurrentCompareAndSwapAndIteration) {
    Map m;
    m.insert("cas", "0");
    std::atomic<bool> stop{false};
    std::thread reader([copy = m, &stop] {
        while (!stop.load()) {
            for (auto &[k, v] : copy) (void)k, (void)v;
        }
    });
    std::vector<std::thread> pool;
    for (int t = 0; t < 4; t++) {
        pool.emplace_back([copy = m]() mutable {
            for (int i = 0; i < 500; i++) {
                for (;;) {
                    std::string cur = *copy.get("cas");
                    if (copy.compare_and_swap("cas", cur, std::to_string(std::stoi(cur) + 1))) break;
                }
            }
        });
    }
    for (auto &th : pool) th.join();
    stop = true;
    reader.join();
    EXPECT_EQ(m.get("cas"), "2000");
}
