// Out-of-tree C++ consumer of an installed libdashmap through
// find_package(dashmap): uses both dashmap.hpp and the C API.
#include <dashmap.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::fprintf(stderr, "cmake_consumer: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            return 1;                                                                     \
        }                                                                                 \
    } while (0)

int main() {
    CHECK(dm_version_number() == DM_VERSION_NUMBER);
    CHECK(dashmap::version() == DM_VERSION_STRING);

    dashmap::Map m;
    CHECK(!m.insert("lang", "C++"));
    CHECK(m.get("lang") == std::string("C++"));

    std::vector<std::thread> threads;
    for (int t = 0; t < 4; t++) {
        threads.emplace_back([shared = m] {
            dashmap::Map local = shared;
            for (int i = 0; i < 1000; i++) local.add("hits", 1);
        });
    }
    for (auto &t : threads) t.join();
    CHECK(m.add("hits", 0) == 4000);

    std::size_t seen = 0;
    for (auto &[k, v] : m) seen += k.size() + v.size() > 0 ? 1 : 0;
    CHECK(seen == 2);

    std::printf("cmake_consumer: ok (libdashmap %s)\n", dm_version());
    return 0;
}
