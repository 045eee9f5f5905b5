// Instantiates every template of dashmap.hpp so that scripts/test-install.sh
// can compile the wrapper with strict warnings (-Wall -Wextra -Wpedantic
// -Werror plus -Wshadow -Wconversion -Wsign-conversion -Wold-style-cast ...).
// Compiled only (-fsyntax-only); never run.
#include <dashmap.hpp>

#include <array>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

void instantiate_everything(dashmap::Map &m);

static bool plain_visit(std::string_view k, std::string_view) { return !k.empty(); }
static void plain_update(dashmap::Entry &e) { e.set("v"); }

void instantiate_everything(dashmap::Map &m) {
    const auto visit = [](std::string_view k, std::string_view v) { return k.size() < v.size(); };
    const auto visit_void = [](std::string_view, std::string_view) {};
    m.update("k", [](dashmap::Entry &e) {
        if (e.occupied() && e.key() == "k") e.set(*e.value());
        else e.remove();
    });
    (void)m.for_each(visit);
    (void)m.for_each(visit_void);
    m.retain(visit);
    (void)m.remove_if("k", visit);
    m.update("k", plain_update);  // plain functions, not only lambdas
    (void)m.for_each(plain_visit);
    (void)m.for_each(&plain_visit);
    m.retain(plain_visit);
    (void)m.remove_if("k", plain_visit);

    std::vector<std::string> strings{"a"};
    std::vector<std::string_view> views{"a"};
    std::array<const char *, 1> cstrs{{"a"}};
    (void)m.get_many(strings);
    (void)m.get_many(views);
    (void)m.get_many(cstrs);
    (void)m.get_many({"a", "b"});
    m.extend(std::map<std::string, std::string>{{"a", "1"}});
    m.extend(std::vector<std::pair<std::string_view, std::string_view>>{{"a", "1"}});
    m.extend({{"a", "1"}});
    m.extend(views, strings);
    (void)m.remove_many(strings);
    (void)m.remove_many({"a"});
    for (auto &[k, v] : m) (void)k, (void)v;
}
