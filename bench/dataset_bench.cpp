// Dataset build time over N synthetic traces (default 100000; target ≤ 30 s): writes them as OpenAI JSONL
// (5 tools, ~15% no-tool answers, 2% malformed calls, 3% exact duplicates), then times loading, building
// (filters, schema validation, dedup, split) and writing. Usage: dataset_bench [n_traces]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "dataset/builder.h"

using namespace sy;
using Clock = std::chrono::steady_clock;

int main(int argc, char ** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 100000;
    const auto dir = std::filesystem::temp_directory_path() / ("sy_dataset_bench_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string in_path = (dir / "traces.jsonl").string();

    const char * names[] = {"get_weather", "get_order_status", "cancel_order", "book_table", "reset_password"};
    dataset::ojson tools = dataset::ojson::array();
    for (const char * nm : names)
        tools.push_back({{"type", "function"},
                         {"function", {{"name", nm},
                                       {"description", std::string("Tool ") + nm},
                                       {"parameters", {{"type", "object"},
                                                       {"properties", {{"id", {{"type", "string"}}}, {"count", {{"type", "integer"}, {"minimum", 0}}}}},
                                                       {"required", {"id"}}}}}}});
    static const char * words[] = {"order", "weather", "table", "password", "please", "tomorrow", "cancel", "status", "city",
                                   "refund", "account", "booking", "dinner", "email", "late", "parcel", "rain", "sunny",
                                   "help", "need", "my", "the", "for", "at", "in", "now", "two", "four", "red", "blue"};
    std::mt19937 rng(1);
    {
        std::ofstream o(in_path);
        std::string prev;
        for (int i = 0; i < n; ++i) {
            if (!prev.empty() && rng() % 100 < 3) {  // exact duplicate of the previous line
                o << prev << '\n';
                continue;
            }
            std::string user;
            for (int w = 0; w < 14; ++w) user += std::string(w ? " " : "") + words[rng() % 30];
            user += " #" + std::to_string(i);
            dataset::ojson msgs = dataset::ojson::array({{{"role", "system"}, {"content", "You are the Acme assistant."}}, {{"role", "user"}, {"content", user}}});
            const unsigned r = rng() % 100;
            if (r < 15) {
                msgs.push_back({{"role", "assistant"}, {"content", "Happy to help: " + user}});
            } else {
                const std::string args = r < 17 ? "{\"id\": " : "{\"id\":\"" + std::to_string(rng() % 100000) + "\",\"count\":" + std::to_string(rng() % 9) + "}";
                msgs.push_back({{"role", "assistant"}, {"content", nullptr},
                                {"tool_calls", {{{"id", "call_" + std::to_string(i)}, {"type", "function"},
                                                 {"function", {{"name", names[rng() % 5]}, {"arguments", args}}}}}}});
            }
            prev = dataset::ojson{{"messages", msgs}, {"tools", tools}}.dump();
            o << prev << '\n';
        }
    }
    const auto t0 = Clock::now();
    const auto traces = dataset::load_sources({in_path}, false);
    const auto t1 = Clock::now();
    dataset::BuildStats st;
    dataset::BuildParams p;
    dataset::build_dataset(traces, p, (dir / "out").string(), &st);
    const auto t2 = Clock::now();
    const double load_s = std::chrono::duration<double>(t1 - t0).count();
    const double build_s = std::chrono::duration<double>(t2 - t1).count();
    std::printf("dataset build over %d traces: load %.2f s, build+write %.2f s, total %.2f s -> %lld examples (train %lld, test %lld)\n", n,
                load_s, build_s, load_s + build_s, (long long)st.n_examples, (long long)st.train.n, (long long)st.test.n);
    for (const auto & [k, v] : st.rejected) std::printf("  removed %s: %lld\n", k.c_str(), (long long)v);
    std::filesystem::remove_all(dir);
    return 0;
}
