#include "responder_data.h"

#include <string>

#include "common/error.h"
#include "task_api.h"

namespace sy::examples {
namespace {

using ojson = nlohmann::ordered_json;

// splitmix64: small, seedable, the same everywhere.
struct Rng {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    uint64_t below(uint64_t n) { return next() % n; }
    bool chance(double p) { return (double)(next() >> 11) * 0x1.0p-53 < p; }
};

std::string quoted(const ojson & task) { return "\"" + task.value("title", std::string()) + "\""; }

// "#3 "buy milk" (high, due 2025-03-14)": what a person needs to tell tasks apart.
std::string task_line(const ojson & t) {
    std::string s = "#" + std::to_string(t.value("id", (int64_t)0)) + " " + quoted(t);
    std::string extra;
    const std::string pr = t.value("priority", std::string());
    if (pr == "high" || pr == "low") extra = pr;
    if (t.contains("due_date") && t["due_date"].is_string())
        extra += (extra.empty() ? "" : ", ") + std::string("due ") + t["due_date"].get<std::string>();
    if (t.value("status", std::string()) == "done") extra += (extra.empty() ? "" : ", ") + std::string("done");
    return extra.empty() ? s : s + " (" + extra + ")";
}

std::string task_list(const ojson & tasks) {
    const size_t shown = std::min<size_t>(tasks.size(), 4);
    std::string s;
    for (size_t i = 0; i < shown; ++i) s += (i ? "; " : "") + task_line(tasks[i]);
    if (tasks.size() > shown) s += "; and " + std::to_string(tasks.size() - shown) + " more";
    return s;
}

std::string plural(size_t n, const char * word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

// The sentence after "Added …" etc.: due date and a non-default priority when the task has them.
std::string details(const ojson & t) {
    std::string s;
    if (t.contains("due_date") && t["due_date"].is_string()) s += ", due " + t["due_date"].get<std::string>();
    const std::string pr = t.value("priority", std::string());
    if (pr == "high" || pr == "low") s += ", " + pr + " priority";
    return s;
}

}  // namespace

std::string responder_reply(const std::string & tool, const ojson & args, const ojson & result, uint64_t variant) {
    const bool alt = variant % 2 == 1;
    if (result.contains("error")) {
        if (args.contains("id") && result["error"].get<std::string>().find("no task with id") != std::string::npos)
            return "I couldn't find task #" + std::to_string(args["id"].get<int64_t>()) + ".";
        return "Sorry, that didn't work: " + result["error"].get<std::string>();
    }
    if (tool == "create_task")
        return (alt ? "Done: task #" + std::to_string(result["id"].get<int64_t>()) + " " + quoted(result)
                    : "Added " + quoted(result) + " as task #" + std::to_string(result["id"].get<int64_t>())) +
               details(result) + ".";
    if (tool == "update_task")
        return "Updated task #" + std::to_string(result["id"].get<int64_t>()) + ": " + quoted(result) + details(result) + ".";
    if (tool == "complete_task")
        return alt ? "Nice work! Task #" + std::to_string(result["id"].get<int64_t>()) + " " + quoted(result) + " is done."
                   : "Marked task #" + std::to_string(result["id"].get<int64_t>()) + " " + quoted(result) + " as done.";
    if (tool == "delete_task") {
        const ojson & t = result["deleted"];
        return "Deleted task #" + std::to_string(t["id"].get<int64_t>()) + " " + quoted(t) + ".";
    }
    const ojson & tasks = result["tasks"];
    const size_t n = tasks.size();
    if (tool == "search_tasks") {
        const std::string q = "\"" + args.value("query", std::string()) + "\"";
        if (n == 0) return "No tasks match " + q + ".";
        return "Found " + plural(n, "task") + " matching " + q + ": " + task_list(tasks) + ".";
    }
    if (tool == "list_tasks") {
        std::string what = args.value("status", std::string("open"));
        if (what == "all") what.clear();
        if (args.contains("priority")) what += (what.empty() ? "" : " ") + args["priority"].get<std::string>() + "-priority";
        if (args.contains("due_before")) {
            const std::string before = " due before " + args["due_before"].get<std::string>();
            if (n == 0) return "You have no " + (what.empty() ? std::string() : what + " ") + "tasks" + before + ".";
            return "You have " + std::to_string(n) + (what.empty() ? "" : " " + what) + (n == 1 ? " task" : " tasks") +
                   before + ": " + task_list(tasks) + ".";
        }
        if (n == 0) return "You have no " + (what.empty() ? std::string() : what + " ") + "tasks.";
        return "You have " + std::to_string(n) + (what.empty() ? "" : " " + what) + (n == 1 ? " task: " : " tasks: ") +
               task_list(tasks) + ".";
    }
    throw Error(ErrorKind::ErrorKind_invalid_argument, "responder data: unknown tool '" + tool + "'");
}

std::vector<ojson> make_responder_examples(const std::vector<ojson> & router_examples, uint64_t seed) {
    // Titles and tags for the seeded lists come from the examples themselves.
    std::vector<std::string> titles;
    for (const ojson & ex : router_examples)
        for (const ojson & m : ex.at("messages"))
            if (m.contains("tool_calls") && m["tool_calls"].is_array())
                for (const ojson & c : m["tool_calls"]) {
                    const ojson args = ojson::parse(c["function"].value("arguments", std::string("{}")), nullptr, false);
                    if (args.is_object() && args.contains("title") && args["title"].is_string())
                        titles.push_back(args["title"]);
                }
    if (titles.empty()) titles = {"water the plants", "call the bank", "book a dentist appointment"};

    static const char * kPriority[] = {"low", "medium", "high"};
    Rng rng{seed ^ 0x5EED5EEDull};
    std::vector<ojson> out;
    out.reserve(router_examples.size());
    for (const ojson & ex : router_examples) {
        if (!ex.is_object() || !ex.contains("messages") || !ex["messages"].is_array() || ex["messages"].empty())
            throw Error(ErrorKind::ErrorKind_invalid_argument, "responder data: an example without messages");
        const ojson & last = ex["messages"].back();
        const bool one_call = last.value("role", std::string()) == "assistant" && last.contains("tool_calls") &&
                              last["tool_calls"].is_array() && last["tool_calls"].size() == 1;
        if (!one_call) {
            if (last.value("role", std::string()) == "assistant") out.push_back(ex);  // a text answer
            continue;
        }
        const ojson & call = last["tool_calls"][0];
        const std::string tool = call.at("function").at("name");
        const ojson args = ojson::parse(call["function"].value("arguments", std::string("{}")), nullptr, false);
        if (!args.is_object()) throw Error(ErrorKind::ErrorKind_invalid_argument, "responder data: arguments are not a JSON object");

        // A list of 2–7 tasks; the task a call names by id exists 85% of the time.
        TaskStore store(":memory:");
        const int64_t n_seed = 2 + (int64_t)rng.below(6);
        auto put_task = [&](int64_t id, const std::string & title) {
            ojson t = {{"id", id}, {"title", title}, {"priority", kPriority[rng.below(3)]}};
            if (rng.chance(0.4)) t["due_date"] = "2025-03-" + std::to_string(10 + rng.below(19));
            if (rng.chance(0.2)) t["status"] = "done";
            store.put(t);
        };
        for (int64_t i = 0; i < n_seed; ++i) put_task(1 + (int64_t)rng.below(60), titles[rng.below(titles.size())]);
        if (args.contains("id") && args["id"].is_number_integer() && rng.chance(0.85))
            put_task(args["id"].get<int64_t>(), titles[rng.below(titles.size())]);
        if (tool == "search_tasks" && args.contains("query") && args["query"].is_string() && rng.chance(0.7))
            put_task(61 + (int64_t)rng.below(40), "check " + args["query"].get<std::string>());

        ojson result;
        try {
            result = store.call(tool, args);
        } catch (const TaskNotFound & e) {
            result = {{"error", "'" + tool + "' answered HTTP 404: " + ojson{{"error", e.what()}}.dump()}};
        } catch (const Error & e) {
            result = {{"error", "'" + tool + "' answered HTTP 400: " + ojson{{"error", e.what()}}.dump()}};
        }
        ojson msgs = ex["messages"];
        msgs.push_back({{"role", "tool"}, {"tool_call_id", call.value("id", std::string("call_1"))}, {"content", result.dump()}});
        const std::string reply = responder_reply(tool, args, result, rng.next());
        msgs.push_back({{"role", "assistant"}, {"content", reply}});
        out.push_back(ojson{{"messages", std::move(msgs)}, {"tools", ex.value("tools", ojson::array())}});
    }
    return out;
}

}  // namespace sy::examples
