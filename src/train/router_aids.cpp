// Training a router's linear aids (see router_aids.h).
#include "train/router_aids.h"

#include <algorithm>
#include <chrono>

namespace sy::train {

RouterAids train_router_aids(const std::vector<chat::Conversation> & chats, const std::vector<std::string> & copy_fields,
                             uint64_t seed, int threads, std::FILE * log) {
    RouterAids aids;
    auto seconds_since = [](std::chrono::steady_clock::time_point t0) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    bool free_text = false;
    for (const chat::Conversation & c : chats)
        if (c.tools.is_array())
            for (const chat::ojson & t : c.tools) {
                const chat::ojson & fn = t.is_object() && t.contains("function") ? t["function"] : t;
                if (!fn.is_object() || !fn.contains("parameters") || !fn.contains("name") || !fn["name"].is_string()) continue;
                const std::string tool = fn["name"].get<std::string>();
                // Copy fields are "tool.path"; an array's items are "tool.tags[]".
                for (const std::string & f : chat::tagger_fields(fn["parameters"]))
                    for (const std::string & path : {tool + "." + f, tool + "." + f + "[]"})
                        free_text = free_text || std::find(copy_fields.begin(), copy_fields.end(), path) != copy_fields.end();
            }
    if (free_text) {
        const auto t0 = std::chrono::steady_clock::now();
        chat::SlotTaggerOptions to;
        to.seed = seed;
        to.n_threads = threads;
        aids.tagger = chat::SlotTagger::train(chats, to);
        if (log) {
            std::string names;
            for (const std::string & f : aids.tagger->fields()) names += (names.empty() ? "" : ", ") + f;
            std::fprintf(log, "slot tagger: %s, %d requests, trained in %.1fs\n", names.c_str(), aids.tagger->n_examples(),
                         seconds_since(t0));
        }
    }
    const bool any_call = std::any_of(chats.begin(), chats.end(), [](const chat::Conversation & c) {
        return std::any_of(c.messages.begin(), c.messages.end(), [](const chat::Message & m) { return !m.tool_calls.empty(); });
    });
    if (any_call) {
        const auto t0 = std::chrono::steady_clock::now();
        chat::IntentOptions io;
        io.seed = seed;
        aids.intent = chat::IntentClassifier::train(chats, io);
        if (log)
            std::fprintf(log, "intent classifier: %zu tools, %zu argument classifiers, %d assistant turns, trained in %.1fs\n",
                         aids.intent->labels().size() - 1, aids.intent->n_argument_classifiers(), aids.intent->n_examples(),
                         seconds_since(t0));
    }
    return aids;
}

}  // namespace sy::train
