// dmbench: libdashmap's C API against other concurrent maps, in one process,
// on the same pre-generated keys. Driven by scripts/bench.sh; see
// BENCHMARKS.md for how to read the results.
//
//   dmbench workload --workload ReadHeavy --threads 2 --key 16 --value 64
//                    --log2 14 --maps dm_sip,tbb,... --runs 3 --ms 500 --csv out.csv
//   dmbench memory   --map dm_sip --count 1048576 --key 16 --value 64 --csv out.csv
//   dmbench batch    --count 65536 --key 16 --value 64 --runs 5 --threads 1,2 --csv out.csv
//   dmbench linecost --csv out.csv
//
// Workloads (after conc-map-bench / bustle): each thread owns a disjoint
// slice of the key space and knows which of its keys are present, so reads,
// updates and removes always hit and inserts always add a new key (as in
// bustle). A run lasts --ms milliseconds (RapidGrow: whole rounds, see
// below); all maps of one configuration are filled first and then run in
// turn, --runs times, so machine noise hits every map alike.
//
//   ReadOnly     100% read                               prefill 75%
//   ReadHeavy     98% read, 1% insert, 1% remove         prefill 75%
//   Exchange      10% read, 40% insert, 40% remove, 10% update   prefill 75%
//   RapidGrow      5% read, 80% insert, 5% remove, 10% update    prefill 0:
//                 each round starts from an empty map created without a
//                 capacity hint and does 2^log2 operations, so the map grows
//                 to ~75% of the key space; rounds repeat until --ms passed.
//   UpdateHeavy   50% read, 50% update (in place)        prefill 75%
//
// Maps that take a capacity hint are created with room for the whole key
// space (2^log2), except in RapidGrow. --shards N (any command) gives
// libdashmap and native dashmap N shards; `--shards same` gives native
// dashmap libdashmap's default count (what scripts/bench.sh uses, so the
// two differ only by the C layer); 0 (default) keeps each one's own.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "peers.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double now_s() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

uint64_t splitmix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(splitmix(seed) | 1) {}
    uint64_t next() {  // xorshift64*
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 0x2545f4914f6cdd1dull;
    }
};

// n distinct keys of `ks` bytes (ks >= 8): the first 8 bytes are a bijective
// mix of the index, the rest pseudo-random.
struct Keys {
    size_t n = 0, ks = 0;
    std::vector<uint8_t> buf;
    Keys(size_t n_, size_t ks_, uint64_t seed) : n(n_), ks(ks_), buf(n_ * ks_) {
        for (size_t i = 0; i < n; i++) {
            uint8_t *k = &buf[i * ks];
            uint64_t x = splitmix(i ^ (seed << 40));
            std::memcpy(k, &x, 8);
            for (size_t j = 8; j < ks; j += 8) {
                uint64_t y = splitmix(x + j);
                std::memcpy(k + j, &y, std::min<size_t>(8, ks - j));
            }
        }
    }
    const uint8_t *at(size_t i) const { return &buf[i * ks]; }
};

struct Mix {
    int read, insert, remove, update;
    double prefill;
    bool grow;
};

const std::map<std::string, Mix> &workloads() {
    static const std::map<std::string, Mix> w = {
        {"ReadOnly", {100, 0, 0, 0, 0.75, false}},
        {"ReadHeavy", {98, 1, 1, 0, 0.75, false}},
        {"Exchange", {10, 40, 40, 10, 0.75, false}},
        {"RapidGrow", {5, 80, 5, 10, 0.0, true}},
        {"UpdateHeavy", {50, 0, 0, 50, 0.75, false}},
    };
    return w;
}

// One worker's slice of the key space and which of its keys are present.
struct ThreadState {
    uint32_t lo = 0, hi = 0;
    std::vector<uint32_t> present, absent;
    uint64_t seed = 0;
    uint64_t ops = 0, errors = 0;
    double start = 0, end = 0;

    void reset(double prefill) {
        present.clear();
        absent.clear();
        present.reserve(hi - lo);
        absent.reserve(hi - lo);
        uint32_t cut = lo + uint32_t((hi - lo) * prefill);
        for (uint32_t i = lo; i < cut; i++) present.push_back(i);
        for (uint32_t i = cut; i < hi; i++) absent.push_back(i);
    }
};

inline uint32_t pick(uint32_t r, size_t n) { return uint32_t((uint64_t(r) * n) >> 32); }

inline uint32_t take(std::vector<uint32_t> &from, uint32_t r) {
    uint32_t pos = pick(r, from.size());
    uint32_t idx = from[pos];
    from[pos] = from.back();
    from.pop_back();
    return idx;
}

// The measured loop. Runs until `stop` (max_ops == 0) or max_ops operations.
template <class M>
void worker(M &m, const Keys &keys, const Mix &mix, ThreadState &st, size_t vsize, std::atomic<int> &ready,
            std::atomic<bool> &go, std::atomic<bool> &stop, uint64_t max_ops) {
    M::thread_enter();
    std::vector<uint8_t> val(vsize, 0x5a), buf(vsize);
    Rng rng(st.seed);
    const int t_read = mix.read, t_ins = t_read + mix.insert, t_rem = t_ins + mix.remove;
    const size_t ks = keys.ks;
    uint64_t ops = 0, err = 0;
    ready.fetch_add(1);
    while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
    st.start = now_s();
    for (;;) {
        for (int j = 0; j < 256; j++) {
            uint64_t x = rng.next();
            uint32_t p = uint32_t((x >> 32) % 100), r = uint32_t(x);
            if (p < uint32_t(t_read)) {
                if (!st.present.empty()) {
                    err += !m.get(keys.at(st.present[pick(r, st.present.size())]), ks, buf.data(), vsize);
                } else {
                    err += m.get(keys.at(st.absent[pick(r, st.absent.size())]), ks, buf.data(), vsize);
                }
            } else if (p < uint32_t(t_ins)) {
                if (!st.absent.empty()) {
                    uint32_t idx = take(st.absent, r);
                    st.present.push_back(idx);
                    err += !m.insert(keys.at(idx), ks, val.data(), vsize);
                } else {  // key space full: replace
                    err += m.insert(keys.at(st.present[pick(r, st.present.size())]), ks, val.data(), vsize);
                }
            } else if (p < uint32_t(t_rem)) {
                if (!st.present.empty()) {
                    uint32_t idx = take(st.present, r);
                    st.absent.push_back(idx);
                    err += !m.remove(keys.at(idx), ks);
                } else {
                    err += m.remove(keys.at(st.absent[pick(r, st.absent.size())]), ks);
                }
            } else {
                if (!st.present.empty()) {
                    err += !m.update(keys.at(st.present[pick(r, st.present.size())]), ks);
                } else {
                    err += m.update(keys.at(st.absent[pick(r, st.absent.size())]), ks);
                }
            }
        }
        ops += 256;
        if ((max_ops && ops >= max_ops) || stop.load(std::memory_order_relaxed)) break;
    }
    st.end = now_s();
    st.seed = rng.next();
    st.ops += ops;
    st.errors += err;
    M::thread_exit();
}

struct RunResult {
    uint64_t ops = 0, errors = 0, capped = 0;
    double seconds = 0;
    size_t final_len = 0;
};

struct Runner {
    virtual ~Runner() = default;
    virtual void prepare() = 0;  // create + prefill (not timed)
    virtual RunResult run_once(double secs) = 0;
    virtual void release() = 0;
};

template <class M>
struct RunnerT : Runner {
    const Keys &keys;
    Mix mix;
    int threads;
    size_t vsize;
    std::unique_ptr<M> map;
    std::vector<ThreadState> st;
    double secs_hint = 0.5;

    RunnerT(const Keys &k, Mix m, int t, size_t v, uint64_t seed) : keys(k), mix(m), threads(t), vsize(v), st(t) {
        for (int i = 0; i < t; i++) {
            st[i].lo = uint32_t(k.n * i / t);
            st[i].hi = uint32_t(k.n * (i + 1) / t);
            st[i].seed = seed * 1000 + i;
        }
    }

    void fill() {
        std::vector<uint8_t> val(vsize, 0x5a);
        for (auto &s : st) {
            s.reset(mix.prefill);
            for (uint32_t idx : s.present) map->insert(keys.at(idx), keys.ks, val.data(), vsize);
        }
    }

    void prepare() override {
        if (mix.grow) return;
        map.reset(new M(keys.n));
        fill();
    }

    // Runs all threads once: until `secs` passed (max_ops 0) or max_ops each.
    RunResult round(double secs, uint64_t max_ops) {
        std::atomic<int> ready{0}, done{0};
        std::atomic<bool> go{false}, stop{false};
        std::vector<std::thread> ts;
        std::vector<uint64_t> ops0, err0;
        for (auto &s : st) {
            ops0.push_back(s.ops);
            err0.push_back(s.errors);
        }
        for (int i = 0; i < threads; i++)
            ts.emplace_back([&, i] {
                worker(*map, keys, mix, st[i], vsize, ready, go, stop, max_ops);
                done.fetch_add(1);
            });
        while (ready.load() < threads) std::this_thread::yield();
        double t0 = now_s();
        go.store(true, std::memory_order_release);
        bool capped = false;
        if (!max_ops) {
            std::this_thread::sleep_for(std::chrono::duration<double>(secs));
            stop.store(true);
        } else {
            // A round that has not finished after max(2 s, 4 x --ms) is cut
            // short (and flagged) so one pathological map cannot stall the run.
            double deadline = t0 + std::max(2.0, 4 * secs_hint);
            while (done.load() < threads && now_s() < deadline)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            capped = done.load() < threads;
            stop.store(true);
        }
        for (auto &t : ts) t.join();
        RunResult r;
        r.capped = capped;
        double end = t0;
        for (int i = 0; i < threads; i++) {
            r.ops += st[i].ops - ops0[i];
            r.errors += st[i].errors - err0[i];
            end = std::max(end, st[i].end);
        }
        r.seconds = end - t0;
        return r;
    }

    RunResult run_once(double secs) override {
        secs_hint = secs;
        if (!mix.grow) {
            RunResult r = round(secs, 0);
            r.final_len = map->size();
            after();
            return r;
        }
        // RapidGrow: whole rounds from an empty, unsized map.
        RunResult total;
        uint64_t per_thread = std::max<uint64_t>(256, (keys.n / threads + 255) / 256 * 256);
        do {
            map.reset(new M(0));
            fill();
            RunResult r = round(0, per_thread);
            total.ops += r.ops;
            total.errors += r.errors;
            total.seconds += r.seconds;
            total.capped += r.capped;
            total.final_len = map->size();
            map.reset();
            after();
        } while (total.seconds < secs);
        return total;
    }

    // Let liburcu's deferred frees finish before the next map runs.
    void after() {
        if (std::is_same<M, peers::Urcu>::value) rcu_barrier();
    }

    void release() override {
        map.reset();
        after();
    }
};

template <class T>
struct Tag {
    using type = T;
};

const std::vector<std::string> &all_maps() {
    static const std::vector<std::string> v = {"dm_sip",  "dm_fast",   "native_sip", "native_fast", "std_shared_mutex",
                                               "tbb",     "libcuckoo", "urcu_lfht",  "glib"};
    return v;
}

template <class F>
void with_map(const std::string &name, F &&f) {
    using namespace peers;
    if (name == "dm_sip") return f(Tag<Dm<DM_HASHER_SIPHASH>>{});
    if (name == "dm_fast") return f(Tag<Dm<DM_HASHER_FAST>>{});
    if (name == "native_sip") return f(Tag<Native<0>>{});
    if (name == "native_fast") return f(Tag<Native<1>>{});
    if (name == "std_shared_mutex") return f(Tag<StdShared>{});
    if (name == "tbb") return f(Tag<Tbb>{});
    if (name == "libcuckoo") return f(Tag<Cuckoo>{});
    if (name == "urcu_lfht") return f(Tag<Urcu>{});
    if (name == "glib") return f(Tag<Glib>{});
    throw std::runtime_error("unknown map: " + name);
}

// ------------------------------------------------------------ arguments ----

struct Args {
    std::map<std::string, std::string> kv;
    std::string get(const std::string &k, const std::string &def) const {
        auto it = kv.find(k);
        return it == kv.end() ? def : it->second;
    }
    long num(const std::string &k, long def) const { return std::stol(get(k, std::to_string(def))); }
};

std::vector<std::string> split(const std::string &s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, ',');)
        if (!item.empty()) out.push_back(item);
    return out;
}

double load1() {
    std::ifstream f("/proc/loadavg");
    double l = 0;
    f >> l;
    return l;
}

FILE *open_csv(const std::string &path, const char *header) {
    bool fresh = access(path.c_str(), F_OK) != 0;
    FILE *f = std::fopen(path.c_str(), "a");
    if (!f) throw std::runtime_error("cannot open " + path);
    if (fresh) std::fprintf(f, "%s\n", header);
    return f;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n == 0 ? 0 : (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

// ------------------------------------------------------------- workload ----

int cmd_workload(const Args &a) {
    std::string wname = a.get("workload", "ReadHeavy");
    auto wit = workloads().find(wname);
    if (wit == workloads().end()) throw std::runtime_error("unknown workload " + wname);
    Mix mix = wit->second;
    int threads = int(a.num("threads", 2));
    size_t ks = size_t(a.num("key", 16)), vs = size_t(a.num("value", 64));
    int log2 = int(a.num("log2", 14));
    int runs = int(a.num("runs", 3));
    double secs = a.num("ms", 500) / 1000.0;
    std::vector<std::string> names = split(a.get("maps", ""));
    if (names.empty()) names = all_maps();
    // libcuckoo 0.3.1 (Debian's) crashes (SIGSEGV in cuckoo_insert /
    // slot_search) while its table grows under concurrent inserts once
    // threads outnumber CPUs: seen here at 3 and 4 threads on 2 CPUs, never
    // at 1 or 2. RapidGrow is growth from a small table, so it is skipped there.
    if (mix.grow && unsigned(threads) > std::thread::hardware_concurrency()) {
        auto it = std::find(names.begin(), names.end(), "libcuckoo");
        if (it != names.end()) {
            std::fprintf(stderr, "NOTE: libcuckoo skipped: RapidGrow with %d threads on %u CPUs crashes libcuckoo 0.3.1\n",
                         threads, std::thread::hardware_concurrency());
            names.erase(it);
        }
    }
    if (ks < 8) throw std::runtime_error("--key must be >= 8");
    Keys keys(size_t(1) << log2, ks, 7);
    double load = load1();

    std::vector<std::unique_ptr<Runner>> runners;
    for (size_t i = 0; i < names.size(); i++) {
        with_map(names[i], [&](auto tag) {
            using M = typename decltype(tag)::type;
            runners.emplace_back(new RunnerT<M>(keys, mix, threads, vs, 1 + i));
        });
    }
    // Fill every map first, then run them in turn (rotating the order per
    // run). Above ~3 GiB of estimated data, do one map at a time instead.
    double est = double(keys.n) * (ks + vs + 64) * names.size();
    bool interleave = est < 3.0 * (1ull << 30);
    FILE *out = open_csv(a.get("csv", "workload.csv"),
                         "workload,threads,key_size,value_size,size_log2,map,run,ops,seconds,mops,errors,final_len,load1,capped,shards");
    std::vector<std::vector<double>> mops(names.size());
    auto one = [&](size_t i, int run) {
        RunResult r = runners[i]->run_once(secs);
        double m = r.ops / r.seconds / 1e6;
        mops[i].push_back(m);
        std::fprintf(out, "%s,%d,%zu,%zu,%d,%s,%d,%" PRIu64 ",%.6f,%.4f,%" PRIu64 ",%zu,%.2f,%" PRIu64 ",%zu\n", wname.c_str(),
                     threads, ks, vs, log2, names[i].c_str(), run, r.ops, r.seconds, m, r.errors, r.final_len, load, r.capped,
                     peers::g_shards);
        std::fflush(out);
        if (r.capped)
            std::fprintf(stderr, "NOTE: %s %s: %" PRIu64 " round(s) cut short at the time cap\n", names[i].c_str(),
                         wname.c_str(), r.capped);
        if (r.errors)
            std::fprintf(stderr, "WARNING: %s %s: %" PRIu64 " operations returned an unexpected result\n",
                         names[i].c_str(), wname.c_str(), r.errors);
    };
    if (interleave) {
        for (auto &r : runners) r->prepare();
        for (int run = 0; run < runs; run++)
            for (size_t j = 0; j < names.size(); j++) one((j + run) % names.size(), run);
        for (auto &r : runners) r->release();
    } else {
        for (size_t i = 0; i < names.size(); i++) {
            runners[i]->prepare();
            for (int run = 0; run < runs; run++) one(i, run);
            runners[i]->release();
        }
    }
    std::fclose(out);
    std::printf("%-11s t=%d k=%zu v=%zu 2^%d load=%.2f |", wname.c_str(), threads, ks, vs, log2, load);
    for (size_t i = 0; i < names.size(); i++) std::printf(" %s %.2f", names[i].c_str(), median(mops[i]));
    std::printf("  Mop/s\n");
    return 0;
}

// --------------------------------------------------------------- memory ----

size_t rss_bytes() {
    std::ifstream f("/proc/self/statm");
    size_t size = 0, resident = 0;
    f >> size >> resident;
    return resident * size_t(sysconf(_SC_PAGESIZE));
}

int cmd_memory(const Args &a) {
    std::string name = a.get("map", "dm_sip");
    size_t n = size_t(a.num("count", 1 << 20));
    size_t ks = size_t(a.num("key", 16)), vs = size_t(a.num("value", 64));
    Keys keys(n, ks, 11);
    std::vector<uint8_t> val(vs, 0x5a);
    FILE *out = open_csv(a.get("csv", "memory.csv"),
                         "map,count,key_size,value_size,rss_delta,bytes_per_entry,raw_per_entry,ratio,"
                         "stats_len,stats_capacity,stats_key_bytes,stats_value_bytes");
    with_map(name, [&](auto tag) {
        using M = typename decltype(tag)::type;
        // main() registered this thread with liburcu already.
        size_t before = rss_bytes();
        {
            M m(n);  // pre-sized for exactly n entries
            for (size_t i = 0; i < n; i++) m.insert(keys.at(i), ks, val.data(), vs);
            if (std::is_same<M, peers::Urcu>::value) rcu_barrier();
            size_t after = rss_bytes();
            double delta = double(after) - double(before);
            double per = delta / double(n), raw = double(ks + vs);
            dm_stats s{};
            if constexpr (std::is_same<M, peers::Dm<DM_HASHER_SIPHASH>>::value ||
                          std::is_same<M, peers::Dm<DM_HASHER_FAST>>::value)
                dm_stats_get(m.m, &s);
            std::fprintf(out, "%s,%zu,%zu,%zu,%.0f,%.2f,%.0f,%.3f,%zu,%zu,%zu,%zu\n", name.c_str(), n, ks, vs, delta,
                         per, raw, per / raw, s.len, s.capacity, s.key_bytes, s.value_bytes);
            std::printf("memory %-16s n=%zu k=%zu v=%zu: %.1f B/entry (raw %.0f, %.2fx)\n", name.c_str(), n, ks, vs, per,
                        raw, per / raw);
        }
    });
    std::fclose(out);
    return 0;
}

// ---------------------------------------------------------------- batch ----

// Worker threads kept for a whole benchmark, as in a server's thread pool (a
// thread's allocator pages and reader stripe stay its own from one run to
// the next). `run(job)` has every worker call job(t); they start together,
// and it returns the seconds from the first start to the last finish.
class Team {
  public:
    explicit Team(int n) : n_(n) {
        for (int t = 0; t < n; t++) threads_.emplace_back([this, t] { serve(t); });
    }
    ~Team() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            quit_ = true;
            gen_++;
        }
        wake_.notify_all();
        for (auto &t : threads_) t.join();
    }
    double run(const std::function<void(int)> &job) {
        std::unique_lock<std::mutex> lock(mu_);
        job_ = &job;
        arrived_ = 0;
        finished_ = 0;
        first_ = 1e300;
        last_ = 0;
        gen_++;
        wake_.notify_all();
        done_.wait(lock, [&] { return finished_ == n_; });
        return last_ - first_;
    }

  private:
    void serve(int t) {
        for (uint64_t seen = 0;;) {
            const std::function<void(int)> *job;
            {
                std::unique_lock<std::mutex> lock(mu_);
                wake_.wait(lock, [&] { return gen_ != seen; });
                if (quit_) return;
                seen = gen_;
                job = job_;
            }
            // Waking takes tens of microseconds: start the clock once all are up.
            arrived_.fetch_add(1);
            while (arrived_.load() < n_) std::this_thread::yield();
            double t0 = now_s();
            (*job)(t);
            double t1 = now_s();
            std::lock_guard<std::mutex> lock(mu_);
            first_ = std::min(first_, t0);
            last_ = std::max(last_, t1);
            if (++finished_ == n_) done_.notify_one();
        }
    }
    int n_;
    std::vector<std::thread> threads_;
    std::mutex mu_;
    std::condition_variable wake_, done_;
    const std::function<void(int)> *job_ = nullptr;
    uint64_t gen_ = 0;
    bool quit_ = false;
    std::atomic<int> arrived_{0};
    int finished_ = 0;
    double first_ = 0, last_ = 0;
};

// Per-key cost of dm_extend / dm_get_many / dm_remove_many against one
// dm_insert / dm_get_copy / dm_remove call per key, on a map pre-sized for
// all keys, with 1 and 2 threads (--threads): each thread takes its own
// contiguous share of the keys, and the cost is thread-time per key (wall
// time x threads / keys). Inserts go in one random order, lookups and
// removals in another: were they the same, entries allocated one after the
// other would be read one after the other, and the allocator's layout (not
// the call) would decide the result.
int cmd_batch(const Args &a) {
    size_t n = size_t(a.num("count", 1 << 16));
    size_t ks = size_t(a.num("key", 16)), vs = size_t(a.num("value", 64));
    int runs = int(a.num("runs", 5));
    std::vector<size_t> sizes;
    for (auto &s : split(a.get("batches", "16,64,256,1024,4096"))) sizes.push_back(std::stoul(s));
    std::vector<int> thread_counts;
    for (auto &s : split(a.get("threads", "1,2"))) thread_counts.push_back(std::stoi(s));
    Keys keys(n, ks, 13);
    std::vector<uint8_t> val(vs, 0x5a);
    std::vector<dm_slice> kslices(n), vslices(n), lslices(n);
    for (size_t i = 0; i < n; i++) {
        kslices[i] = {keys.at(i), ks};
        vslices[i] = {val.data(), vs};
    }
    std::vector<size_t> order(n);  // the lookup order: a seeded shuffle
    for (size_t i = 0; i < n; i++) order[i] = i;
    for (size_t i = n; i > 1; i--) std::swap(order[i - 1], order[splitmix(i * 7919) % i]);
    for (size_t i = 0; i < n; i++) lslices[i] = kslices[order[i]];
    std::vector<size_t> lens(n);
    std::vector<uint8_t> buf(n * vs);
    FILE *out = open_csv(a.get("csv", "batch.csv"), "hasher,op,batch,ns_per_key,single_ns_per_key,speedup,threads");
    for (int threads : thread_counts) {
        Team team(threads);
        // Thread t's share of the keys: [lo, hi).
        auto lo = [&](int t) { return n * size_t(t) / size_t(threads); };
        auto hi = [&](int t) { return n * size_t(t + 1) / size_t(threads); };
        for (int hasher : {DM_HASHER_SIPHASH, DM_HASHER_FAST}) {
            const char *hname = hasher == DM_HASHER_SIPHASH ? "sip" : "fast";
            dm_options o = dm_options_default();
            o.capacity = n;
            o.hasher = hasher;
            dm_map *m;
            if (dm_new_with_options(&o, &m) != DM_OK) std::abort();
            // One comparison: `single` (one call per key) and `batched` over
            // all n keys, alternating run by run so that a noisy spell on the
            // shared machine hits both; thread-time per key, median of the
            // runs. `setup` (untimed, on the first worker, so that with one
            // thread setup and body share a thread as a program's own loop
            // would) puts the map in the state both bodies expect.
            struct Pair {
                double single, batched;
            };
            using Job = std::function<void(int)>;
            auto compare = [&](const std::function<void()> &setup, const Job &single, const Job &batched) {
                std::vector<double> s, b;
                for (int r = 0; r < runs; r++) {
                    for (auto [body, into] : {std::pair{&single, &s}, std::pair{&batched, &b}}) {
                        team.run([&](int t) {
                            if (t == 0) setup();
                        });
                        into->push_back(team.run(*body) * 1e9 * threads / double(n));
                    }
                }
                return Pair{median(s), median(b)};
            };
            auto empty = [&] { dm_clear(m); };
            auto full = [&] {
                if (dm_len(m) != n) dm_extend(m, kslices.data(), vslices.data(), n);
            };
            auto insert1 = [&](int t) {
                for (size_t i = lo(t); i < hi(t); i++) dm_insert(m, keys.at(i), ks, val.data(), vs);
            };
            auto get1 = [&](int t) {
                size_t vl;
                for (size_t i = lo(t); i < hi(t); i++) dm_get_copy(m, lslices[i].ptr, ks, &buf[i * vs], vs, &vl);
            };
            auto remove1 = [&](int t) {
                for (size_t i = lo(t); i < hi(t); i++) dm_remove(m, lslices[i].ptr, ks, nullptr, 0, nullptr);
            };
            for (size_t b : sizes) {
                auto calls = [&](int t, const std::function<void(size_t, size_t)> &call) {
                    for (size_t i = lo(t); i < hi(t); i += b) call(i, std::min(b, hi(t) - i));
                };
                Pair ext = compare(empty, insert1, [&](int t) {
                    calls(t, [&](size_t i, size_t c) { dm_extend(m, &kslices[i], &vslices[i], c); });
                });
                Pair gm = compare(full, get1, [&](int t) {
                    size_t used;
                    calls(t, [&](size_t i, size_t c) {
                        dm_get_many(m, &lslices[i], c, &buf[i * vs], c * vs, &lens[i], &used);
                    });
                });
                Pair rm = compare(full, remove1, [&](int t) {
                    size_t removed;
                    calls(t, [&](size_t i, size_t c) { dm_remove_many(m, &lslices[i], c, &removed); });
                });
                const std::pair<const char *, Pair> rows[] = {{"extend", ext}, {"get_many", gm}, {"remove_many", rm}};
                for (auto &[op, p] : rows)
                    std::fprintf(out, "%s,%s,%zu,%.2f,%.2f,%.3f,%d\n", hname, op, b, p.batched, p.single,
                                 p.single / p.batched, threads);
                std::printf("batch %s t=%d b=%zu: extend %.1f ns/key (insert %.1f, %.2fx)  get_many %.1f (get_copy "
                            "%.1f, %.2fx)  remove_many %.1f (remove %.1f, %.2fx)\n",
                            hname, threads, b, ext.batched, ext.single, ext.single / ext.batched, gm.batched, gm.single,
                            gm.single / gm.batched, rm.batched, rm.single, rm.single / rm.batched);
            }
            dm_free(m);
        }
    }
    std::fclose(out);
    return 0;
}

// ------------------------------------------------------------- linecost ----

// How long one cache line takes to move between two cores: two threads pass
// a counter back and forth (each waits for the other's increment), so one
// pass is one transfer of the line. Every write to a line that another core
// reads next costs about this much, which is what the 2-thread write
// workloads mostly measure on a given machine.
int cmd_linecost(const Args &a) {
    if (std::thread::hardware_concurrency() < 2) {
        // The two threads spin on each other: on one CPU, each pass would wait for a time slice.
        std::printf("linecost: skipped, one CPU\n");
        return 0;
    }
    const long passes = a.num("passes", 1000000);
    int runs = int(a.num("runs", 5));
    std::vector<double> ns;
    for (int r = 0; r < runs; r++) {
        alignas(128) std::atomic<long> line{0};
        std::thread other([&] {
            for (long i = 1; i < 2 * passes; i += 2) {
                while (line.load(std::memory_order_acquire) != i) {
                }
                line.store(i + 1, std::memory_order_release);
            }
        });
        double t0 = now_s();
        for (long i = 0; i < 2 * passes; i += 2) {
            line.store(i + 1, std::memory_order_release);
            while (line.load(std::memory_order_acquire) != i + 2) {
            }
        }
        ns.push_back((now_s() - t0) * 1e9 / double(2 * passes));
        other.join();
    }
    FILE *out = open_csv(a.get("csv", "linecost.csv"), "ns_per_transfer");
    std::fprintf(out, "%.1f\n", median(ns));
    std::fclose(out);
    std::printf("linecost: %.1f ns per cache-line transfer between two threads (median of %d)\n", median(ns), runs);
    return 0;
}

// -------------------------------------------------------------- profile ----

// A fixed number of single-threaded operations on one map, for callgrind:
// dmbench profile --map dm_sip --op get --count 100000
int cmd_profile(const Args &a) {
    std::string name = a.get("map", "dm_sip"), op = a.get("op", "get");
    size_t n = size_t(a.num("count", 100000));
    size_t ks = size_t(a.num("key", 16)), vs = size_t(a.num("value", 64));
    Keys keys(n, ks, 17);
    std::vector<uint8_t> val(vs, 0x5a), buf(vs);
    with_map(name, [&](auto tag) {
        using M = typename decltype(tag)::type;
        {
            M m(n);
            if (op != "insert" && op != "extend")
                for (size_t i = 0; i < n; i++) m.insert(keys.at(i), ks, val.data(), vs);
            size_t bad = 0;
            if constexpr (std::is_same<M, peers::Dm<DM_HASHER_SIPHASH>>::value ||
                          std::is_same<M, peers::Dm<DM_HASHER_FAST>>::value) {
                // Batch calls: --op extend|get_many|remove_many --batch B
                size_t b = size_t(a.num("batch", 256));
                std::vector<dm_slice> ks_(n), vs_(n);
                for (size_t i = 0; i < n; i++) {
                    ks_[i] = {keys.at(i), ks};
                    vs_[i] = {val.data(), vs};
                }
                std::vector<size_t> lens(b);
                std::vector<uint8_t> out(b * vs);
                size_t used;
                if (op == "extend")
                    for (size_t i = 0; i < n; i += b) bad += dm_extend(m.m, &ks_[i], &vs_[i], std::min(b, n - i)) != DM_OK;
                if (op == "get_many")
                    for (size_t i = 0; i < n; i += b)
                        bad += dm_get_many(m.m, &ks_[i], std::min(b, n - i), out.data(), out.size(), lens.data(), &used) != DM_OK;
                if (op == "remove_many")
                    for (size_t i = 0; i < n; i += b) bad += dm_remove_many(m.m, &ks_[i], std::min(b, n - i), &used) != DM_OK;
            }
            bool batch = op == "extend" || op == "get_many" || op == "remove_many";
            for (size_t i = 0; i < n && !batch; i++) {
                if (op == "get") bad += !m.get(keys.at(i), ks, buf.data(), vs);
                else if (op == "insert") bad += !m.insert(keys.at(i), ks, val.data(), vs);
                else if (op == "remove") bad += !m.remove(keys.at(i), ks);
                else if (op == "update") bad += !m.update(keys.at(i), ks);
            }
            std::printf("profile %s %s n=%zu bad=%zu\n", name.c_str(), op.c_str(), n, bad);
        }
    });
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s workload|memory|batch|linecost|profile --key value ...\n", argv[0]);
        return 2;
    }
    Args a;
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string k = argv[i];
        if (k.rfind("--", 0) != 0) {
            std::fprintf(stderr, "bad argument %s\n", argv[i]);
            return 2;
        }
        a.kv[k.substr(2)] = argv[i + 1];
    }
    if (a.get("shards", "0") == "same") {
        dm_map *probe = dm_new();  // libdashmap's default shard count, for both
        peers::g_shards = dm_shard_count(probe);
        dm_free(probe);
    } else {
        peers::g_shards = size_t(a.num("shards", 0));
    }
    rcu_register_thread();  // the main thread fills and frees liburcu tables
    int rc;
    try {
        std::string cmd = argv[1];
        if (cmd == "workload") rc = cmd_workload(a);
        else if (cmd == "memory") rc = cmd_memory(a);
        else if (cmd == "batch") rc = cmd_batch(a);
        else if (cmd == "linecost") rc = cmd_linecost(a);
        else if (cmd == "profile") rc = cmd_profile(a);
        else {
            std::fprintf(stderr, "unknown command %s\n", argv[1]);
            rc = 2;
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "dmbench: %s\n", e.what());
        rc = 1;
    }
    rcu_unregister_thread();
    return rc;
}
