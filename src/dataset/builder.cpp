// The dataset builder's stages (see builder.h) and its outputs.
#include "dataset/builder.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unordered_map>

#include "common/error.h"
#include "dataset/dedup.h"
#include "dataset/schema_validate.h"
#include "traces/import.h"
#include "traces/store.h"

namespace sy::dataset {

namespace {

using traces::Trace;

// name → parameters schema, per tools array (cached by fingerprint).
using ToolSchemas = std::unordered_map<std::string, ojson>;

ToolSchemas tool_schemas(const ojson & tools) {
    ToolSchemas m;
    if (!tools.is_array()) return m;
    for (const auto & t : tools) {
        if (!t.is_object() || !t.contains("function") || !t["function"].is_object()) continue;
        const auto & f = t["function"];
        if (!f.contains("name") || !f["name"].is_string()) continue;
        m[f["name"].get<std::string>()] = f.contains("parameters") ? f["parameters"] : ojson::object();
    }
    return m;
}

std::string text_of(const ojson & content) {
    if (content.is_string()) return content.get<std::string>();
    if (content.is_array()) {
        std::string s;
        for (const auto & part : content)
            if (part.is_object() && part.contains("text") && part["text"].is_string()) s += part["text"].get<std::string>() + " ";
        return s;
    }
    return "";
}

// Why a conversation's calls are not clean, or "" when they are. Rewrites arguments to compact strings.
std::string clean_calls(ojson & messages, const ToolSchemas & schemas, bool check) {
    std::string prev_calls;
    for (auto & m : messages) {
        if (m.value("role", "") != "assistant") continue;
        auto it = m.find("tool_calls");
        if (it == m.end() || !it->is_array() || it->empty()) {
            prev_calls.clear();
            continue;
        }
        std::string this_calls;
        for (auto & call : *it) {
            if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) return "invalid_json";
            auto & f = call["function"];
            if (!call.contains("type")) call["type"] = "function";
            const std::string name = f.value("name", "");
            ojson args;
            bool parsed = true;
            if (!f.contains("arguments")) args = ojson::object();
            else if (f["arguments"].is_string()) {
                try {
                    args = ojson::parse(f["arguments"].get<std::string>());
                } catch (const nlohmann::json::exception &) {
                    parsed = false;
                }
            } else {
                args = f["arguments"];
            }
            if (parsed) f["arguments"] = args.dump();
            this_calls += name + "(" + (parsed ? args.dump() : f["arguments"].dump()) + ")";
            if (!check) continue;
            if (!parsed || !args.is_object()) return "invalid_json";
            auto s = schemas.find(name);
            if (s == schemas.end()) return "unknown_tool";
            if (validate_json_schema(args, s->second)) return "schema_invalid";
        }
        if (check && !prev_calls.empty() && this_calls == prev_calls) return "retried";
        prev_calls = this_calls;
    }
    return "";
}

void apply_correction(ojson & messages, const ojson & correction) {
    ojson fixed;
    if (correction.is_string()) fixed = ojson{{"role", "assistant"}, {"content", correction}};
    else if (correction.is_object()) {
        fixed = correction;
        if (!fixed.contains("role")) fixed["role"] = "assistant";
    } else {
        return;
    }
    for (size_t i = messages.size(); i-- > 0;)
        if (messages[i].value("role", "") == "assistant") {
            messages[i] = fixed;
            messages.erase(messages.begin() + (std::ptrdiff_t)i + 1, messages.end());
            return;
        }
    messages.push_back(fixed);
}

// Drops what follows the last assistant turn; false when there is none.
bool trim_to_answer(ojson & messages) {
    for (size_t i = messages.size(); i-- > 0;)
        if (messages[i].is_object() && messages[i].value("role", "") == "assistant") {
            messages.erase(messages.begin() + (std::ptrdiff_t)i + 1, messages.end());
            return true;
        }
    return false;
}

void finish_example(Example & e) {
    const auto called = traces::called_tools(e.messages);
    e.label = called.empty() ? "none" : called.front();
    std::string text;
    for (const auto & m : e.messages) {
        text += m.value("role", "") + ": " + text_of(m.contains("content") ? m["content"] : ojson()) + "\n";
        if (m.contains("tool_calls") && m["tool_calls"].is_array())
            for (const auto & c : m["tool_calls"])
                text += "call " + c["function"].value("name", "") + " " + c["function"].value("arguments", "") + "\n";
    }
    e.norm = normalize_text(text);
    // Near duplicates are judged on what varies between requests: system prompts are left out.
    std::string varying;
    for (const auto & m : e.messages) {
        if (m.value("role", "") == "system") continue;
        varying += text_of(m.contains("content") ? m["content"] : ojson()) + "\n";
        if (m.contains("tool_calls") && m["tool_calls"].is_array())
            for (const auto & c : m["tool_calls"]) varying += c["function"].value("name", "") + " " + c["function"].value("arguments", "") + "\n";
    }
    e.near_text = normalize_text(varying);
    e.hash = hash64(e.norm);
}

}  // namespace

BuildResult build_examples(const std::vector<Trace> & input, const BuildParams & p) {
    BuildResult res;
    BuildStats & st = res.stats;
    st.n_input = (int64_t)input.size();
    auto reject = [&](const char * why) { ++st.rejected[why]; };
    std::unordered_map<std::string, ToolSchemas> schema_cache;

    std::vector<Example> pool;
    pool.reserve(input.size());
    std::unordered_map<std::string, std::pair<int64_t, ojson>> tools_freq;  // fingerprint → (count, tools)
    for (const Trace & t : input) {
        if (p.only_succeeded && !t.succeeded()) { reject("failed"); continue; }
        if (!p.served_by.empty() && !p.served_by.count(t.served_by)) { reject("served_by"); continue; }
        if (p.min_rating && (!t.feedback_rating || *t.feedback_rating < *p.min_rating)) { reject("feedback"); continue; }
        Example e;
        e.messages = t.messages;
        e.tools = t.tools;
        if (!t.feedback_correction.is_null()) apply_correction(e.messages, t.feedback_correction);
        if (!e.messages.is_array() || !trim_to_answer(e.messages)) { reject("no_answer"); continue; }
        if (p.require_clean_calls && t.n_retries > 0) { reject("retried"); continue; }
        const std::string fp = t.tools_fingerprint.empty() ? traces::tools_fingerprint(t.tools) : t.tools_fingerprint;
        auto sc = schema_cache.find(fp);
        if (sc == schema_cache.end()) sc = schema_cache.emplace(fp, tool_schemas(t.tools)).first;
        const std::string why = clean_calls(e.messages, sc->second, p.require_clean_calls);
        if (!why.empty()) { reject(why.c_str()); continue; }
        if (!t.tools.empty()) {
            auto & f = tools_freq[fp];
            if (f.first++ == 0) f.second = t.tools;
        }
        finish_example(e);
        pool.push_back(std::move(e));
    }

    // Negatives from files: only examples that call no tool; given the most common tools when bare.
    if (!p.negative_files.empty()) {
        const ojson * common_tools = nullptr;
        int64_t best = 0;
        std::string best_fp;
        for (const auto & [fp, f] : tools_freq)
            if (f.first > best || (f.first == best && fp < best_fp)) {
                best = f.first;
                best_fp = fp;
                common_tools = &f.second;
            }
        for (Trace & t : load_sources(p.negative_files, false)) {
            Example e;
            e.messages = std::move(t.messages);
            e.tools = t.tools.empty() && common_tools ? *common_tools : t.tools;
            if (!trim_to_answer(e.messages)) { reject("negative_no_answer"); continue; }
            if (!traces::called_tools(e.messages).empty()) { reject("negative_has_tool_call"); continue; }
            finish_example(e);
            pool.push_back(std::move(e));
            ++st.n_negatives_mixed_in;
        }
    }

    // Hash order makes every later stage independent of input order.
    std::sort(pool.begin(), pool.end(), [](const Example & a, const Example & b) {
        return a.hash != b.hash ? a.hash < b.hash : a.norm < b.norm;
    });
    std::vector<Example> kept;
    kept.reserve(pool.size());
    std::optional<std::string> prev_norm;
    NearDupIndex near(p.near_threshold);
    std::map<std::string, int64_t> per_label;
    for (Example & e : pool) {
        const bool exact_dup = prev_norm && *prev_norm == e.norm;  // equal texts are adjacent in hash order
        if (!exact_dup) prev_norm = e.norm;
        if (p.dedup_exact && exact_dup) { reject("exact_duplicate"); continue; }
        if (p.dedup_near && near.is_near_duplicate_or_add(minhash(e.near_text))) { reject("near_duplicate"); continue; }
        const auto cap = e.label == "none" ? (p.max_negatives ? p.max_negatives : p.max_per_tool) : p.max_per_tool;
        if (cap && per_label[e.label] >= *cap) { reject("capped"); continue; }
        ++per_label[e.label];
        kept.push_back(std::move(e));
    }

    // Stratified deterministic split.
    std::map<std::string, std::vector<Example *>> groups;
    for (Example & e : kept) groups[e.label].push_back(&e);
    for (auto & [label, g] : groups) {
        std::sort(g.begin(), g.end(), [&](const Example * a, const Example * b) {
            const uint64_t ha = hash64(std::string_view((const char *)&a->hash, 8), p.seed);
            const uint64_t hb = hash64(std::string_view((const char *)&b->hash, 8), p.seed);
            return ha != hb ? ha < hb : a->norm < b->norm;
        });
        const size_t n = g.size();
        const size_t n_test = std::min(n, (size_t)std::llround((double)n * p.test_fraction));
        const size_t n_valid = std::min(n - n_test, (size_t)std::llround((double)n * p.valid_fraction));
        for (size_t i = 0; i < n; ++i) {
            auto & dst = i < n_test ? res.test : i < n_test + n_valid ? res.valid : res.train;
            auto & ss = i < n_test ? st.test : i < n_test + n_valid ? st.valid : st.train;
            ++ss.n;
            ++ss.by_tool[label];
            dst.push_back(std::move(*g[i]));
        }
    }
    for (auto * split : {&res.train, &res.test, &res.valid})
        std::sort(split->begin(), split->end(), [](const Example & a, const Example & b) {
            return a.hash != b.hash ? a.hash < b.hash : a.norm < b.norm;
        });

    st.n_examples = (int64_t)kept.size();
    st.by_tool = per_label;
    const int64_t n_none = per_label.count("none") ? per_label.at("none") : 0;
    st.negative_share = st.n_examples ? (double)n_none / (double)st.n_examples : 0.0;
    char buf[200];
    if (st.n_examples == 0) st.warnings.push_back("no examples left after filtering");
    else if (st.negative_share < p.negative_floor) {
        std::snprintf(buf, sizeof buf, "only %.1f%% of examples are no-tool (floor %.1f%%): add negatives with --negatives FILE",
                      st.negative_share * 100, p.negative_floor * 100);
        st.warnings.push_back(buf);
    }
    if (st.n_examples > 0 && st.test.n == 0) st.warnings.push_back("the test split is empty (too few examples per tool)");
    return res;
}

std::vector<Trace> load_sources(const std::vector<std::string> & from, bool skip_bad) {
    std::vector<Trace> out;
    for (const auto & src : from) {
        const auto ends = [&](const char * suf) {
            const std::string s = suf;
            return src.size() >= s.size() && src.compare(src.size() - s.size(), s.size(), s) == 0;
        };
        const bool is_store = src.rfind("postgresql://", 0) == 0 || src.rfind("postgres://", 0) == 0 || src.rfind("sqlite:", 0) == 0 ||
                              ends(".db") || ends(".sqlite") || ends(".sqlite3");
        if (is_store) {
            auto store = traces::open_trace_store(src);
            store->scan({}, [&](Trace && t) {
                out.push_back(std::move(t));
                return true;
            });
            continue;
        }
        traces::ImportOptions opt;
        opt.skip_bad = skip_bad;
        traces::import_file(src, opt, [&](Trace && t) { out.push_back(std::move(t)); });
    }
    return out;
}

ojson example_to_json(const Example & e) {
    ojson j = ojson::object();
    j["messages"] = e.messages;
    if (e.tools.is_array() && !e.tools.empty()) j["tools"] = e.tools;
    return j;
}

ojson build_stats_to_json(const BuildStats & s, const BuildParams & p) {
    auto split = [](const SplitStats & x) {
        ojson j;
        j["n"] = x.n;
        j["by_tool"] = ojson::object();
        for (const auto & [k, v] : x.by_tool) j["by_tool"][k] = v;
        return j;
    };
    ojson j;
    j["n_input"] = s.n_input;
    j["rejected"] = ojson::object();
    for (const auto & [k, v] : s.rejected) j["rejected"][k] = v;
    j["n_negatives_mixed_in"] = s.n_negatives_mixed_in;
    j["n_examples"] = s.n_examples;
    j["negative_share"] = s.negative_share;
    j["by_tool"] = ojson::object();
    for (const auto & [k, v] : s.by_tool) j["by_tool"][k] = v;
    j["splits"] = {{"train", split(s.train)}, {"test", split(s.test)}};
    if (p.valid_fraction > 0) j["splits"]["valid"] = split(s.valid);
    j["warnings"] = s.warnings;
    ojson params;
    params["only_succeeded"] = p.only_succeeded;
    params["require_clean_calls"] = p.require_clean_calls;
    params["served_by"] = ojson::array();
    for (auto sb : p.served_by) params["served_by"].push_back(traces::served_by_name(sb));
    params["min_rating"] = p.min_rating ? ojson(*p.min_rating) : ojson(nullptr);
    params["dedup_exact"] = p.dedup_exact;
    params["dedup_near"] = p.dedup_near;
    params["near_threshold"] = p.near_threshold;
    params["max_per_tool"] = p.max_per_tool ? ojson(*p.max_per_tool) : ojson(nullptr);
    params["max_negatives"] = p.max_negatives ? ojson(*p.max_negatives) : ojson(nullptr);
    params["negative_floor"] = p.negative_floor;
    params["test_fraction"] = p.test_fraction;
    params["valid_fraction"] = p.valid_fraction;
    params["seed"] = p.seed;
    j["params"] = params;
    return j;
}

std::string build_summary(const BuildStats & s) {
    std::string o;
    char buf[256];
    std::snprintf(buf, sizeof buf, "dataset: %lld examples from %lld traces (%lld negatives mixed in)\n", (long long)s.n_examples,
                  (long long)s.n_input, (long long)s.n_negatives_mixed_in);
    o += buf;
    std::snprintf(buf, sizeof buf, "splits: train %lld, test %lld%s\n", (long long)s.train.n, (long long)s.test.n,
                  s.valid.n ? (", valid " + std::to_string(s.valid.n)).c_str() : "");
    o += buf;
    if (!s.rejected.empty()) {
        o += "removed:";
        for (const auto & [k, v] : s.rejected) o += " " + k + " " + std::to_string(v) + ";";
        o.back() = '\n';
    }
    std::snprintf(buf, sizeof buf, "no-tool share: %.1f%%\n", s.negative_share * 100);
    o += buf;
    o += "by tool (train/test):\n";
    for (const auto & [k, v] : s.by_tool) {
        const int64_t tr = s.train.by_tool.count(k) ? s.train.by_tool.at(k) : 0;
        const int64_t te = s.test.by_tool.count(k) ? s.test.by_tool.at(k) : 0;
        std::snprintf(buf, sizeof buf, "  %-32s %8lld  (%lld/%lld)\n", k.c_str(), (long long)v, (long long)tr, (long long)te);
        o += buf;
    }
    for (const auto & w : s.warnings) o += "warning: " + w + "\n";
    return o;
}

std::string build_dataset(const std::vector<Trace> & input, const BuildParams & p, const std::string & out_dir, BuildStats * stats_out) {
    if (p.test_fraction < 0 || p.valid_fraction < 0 || p.test_fraction + p.valid_fraction >= 1)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "split fractions: test and valid must be >= 0 and sum to less than 1");
    if (p.near_threshold <= 0 || p.near_threshold > 1) throw Error(ErrorKind::ErrorKind_invalid_argument, "near-duplicate threshold must be in (0, 1]");
    BuildResult r = build_examples(input, p);
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (ec) throw Error(ErrorKind::ErrorKind_io, "cannot create '" + out_dir + "': " + ec.message());
    auto write = [&](const std::string & name, const std::vector<Example> & xs) {
        const std::string path = out_dir + "/" + name;
        std::ofstream o(path, std::ios::binary);
        if (!o) throw Error(ErrorKind::ErrorKind_io, "cannot write '" + path + "'");
        for (const auto & e : xs) o << example_to_json(e).dump() << '\n';
        if (!o) throw Error(ErrorKind::ErrorKind_io, "write to '" + path + "' failed");
    };
    write("train.jsonl", r.train);
    write("test.jsonl", r.test);
    if (p.valid_fraction > 0) write("valid.jsonl", r.valid);
    const std::string summary = build_summary(r.stats);
    {
        std::ofstream o(out_dir + "/stats.json", std::ios::binary);
        o << build_stats_to_json(r.stats, p).dump(2) << '\n';
        std::ofstream s(out_dir + "/summary.txt", std::ios::binary);
        s << summary;
        if (!o || !s) throw Error(ErrorKind::ErrorKind_io, "cannot write stats into '" + out_dir + "'");
    }
    if (stats_out) *stats_out = r.stats;
    return summary;
}

}  // namespace sy::dataset
