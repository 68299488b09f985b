// The evaluation harness (see evaluator.h).
#include "eval/evaluator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

#include "chat/grounding.h"
#include "common/error.h"
#include "train/data.h"

namespace sy::eval {

EvalExample make_example(const chat::Conversation & conv, const std::string & where) {
    if (conv.messages.empty() || conv.messages.back().role != "assistant")
        throw Error(ErrorKind::ErrorKind_invalid_argument,
                    where + ": the last message must be the reference assistant answer (role \"assistant\")");
    EvalExample ex;
    ex.prompt.tools = conv.tools;
    ex.prompt.messages.assign(conv.messages.begin(), conv.messages.end() - 1);
    if (ex.prompt.messages.empty())
        throw Error(ErrorKind::ErrorKind_invalid_argument, where + ": no messages before the reference answer");
    ex.expected = expected_from_message(conv.messages.back());
    for (const chat::Message & m : ex.prompt.messages)
        if (m.role == "user") ex.request = m.content;
    return ex;
}

std::vector<EvalExample> load_examples(const std::string & path, int64_t limit) {
    const std::vector<chat::Conversation> convs = train::read_chat_jsonl(path);
    std::vector<EvalExample> out;
    for (size_t i = 0; i < convs.size() && (limit <= 0 || (int64_t)out.size() < limit); ++i)
        out.push_back(make_example(convs[i], path + ": example " + std::to_string(i + 1)));
    return out;
}

std::optional<double> answer_confidence(const providers::ChatResponse & r) {
    if (r.confidence) {
        const grammar::OutputConfidence & c = *r.confidence;
        if (!c.is_tool_call || c.calls.empty()) return c.decision;
        double lowest = 1.0;
        for (const grammar::CallConfidence & call : c.calls) lowest = std::min(lowest, call.overall);
        return lowest;
    }
    if (!r.logprobs.empty()) {
        double sum = 0;
        for (const providers::TokenLogprobInfo & t : r.logprobs) sum += t.logprob;
        return std::exp(sum);
    }
    return std::nullopt;
}

namespace {

std::string_view trimmed(std::string_view s) {
    const size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

ExampleOutcome run_one(providers::Provider & provider, const EvalExample & ex, const EvalParams & params, bool parallel) {
    providers::ChatRequest req;
    req.model = params.model;
    req.messages = ex.prompt.messages;
    req.tools = ex.prompt.tools;
    const bool has_tools = req.tools.is_array() && !req.tools.empty();
    req.tool_choice = has_tools ? providers::ojson("auto") : providers::ojson(nullptr);
    req.parallel_tool_calls = parallel;
    req.gen.temperature = 0.0f;
    req.gen.max_tokens = params.max_tokens;
    req.gen.logprobs = params.logprobs;

    ExampleOutcome o;
    o.expected = ex.expected;
    o.request = ex.request;
    const auto t0 = std::chrono::steady_clock::now();
    try {
        const providers::ChatResponse r = provider.chat(req);
        o.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        chat::Message answer = r.message;
        if (answer.tool_calls.empty() && answer.content.empty() && !r.text.empty()) answer.content = r.text;
        o.prediction = classify_answer(answer);
        o.confidence = answer_confidence(r);
        o.prompt_tokens = r.usage.prompt_tokens;
        o.completion_tokens = r.usage.completion_tokens;
        if (!req.messages.empty() && req.messages.back().role == "tool" &&
            o.prediction.kind == PredictionKind::PredictionKind_text) {
            o.reply_grounded = chat::ungrounded_values(o.prediction.text, chat::reply_values(req.messages, req.tools)).empty();
            if (o.expected.calls.empty()) {
                std::vector<std::string> got = chat::stated_values(o.prediction.text), want = chat::stated_values(o.expected.text);
                std::sort(got.begin(), got.end());
                std::sort(want.begin(), want.end());
                o.reply_values_match = got == want;  // in any order: "Added X as task #4" states "Done: task #4 X"'s
                o.reply_exact = trimmed(o.prediction.text) == trimmed(o.expected.text);
            }
        }
    } catch (const std::exception & e) {
        o.prediction.kind = PredictionKind::PredictionKind_error;
        o.prediction.text = e.what();
    }
    o.score = score_example(o.expected, o.prediction, ex.prompt.tools);
    return o;
}

}  // namespace

std::vector<ExampleOutcome> run_eval(providers::Provider & provider, const std::vector<EvalExample> & examples,
                                     const EvalParams & params) {
    bool parallel = false;
    for (const EvalExample & ex : examples) parallel = parallel || ex.expected.calls.size() > 1;
    if (params.parallel_tool_calls) parallel = *params.parallel_tool_calls;

    const int64_t total = (int64_t)examples.size();
    std::vector<ExampleOutcome> outcomes(examples.size());
    std::atomic<int64_t> next{0};
    std::atomic<bool> abandon{false};
    std::mutex mu;
    EvalProgress progress;
    progress.total = total;
    std::string first_error;
    const int64_t abort_after = std::min<int64_t>(std::max(1, params.abort_after_errors), std::max<int64_t>(1, total));
    const auto t0 = std::chrono::steady_clock::now();

    auto worker = [&] {
        while (!abandon.load()) {
            const int64_t i = next.fetch_add(1);
            if (i >= total) break;
            ExampleOutcome o = run_one(provider, examples[(size_t)i], params, parallel);
            std::lock_guard<std::mutex> lock(mu);
            const bool failed = o.prediction.kind == PredictionKind::PredictionKind_error;
            if (failed && first_error.empty()) first_error = o.prediction.text;
            outcomes[(size_t)i] = std::move(o);
            ++progress.done;
            progress.errors += failed;
            progress.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (progress.done >= abort_after && progress.errors == progress.done) abandon = true;
            if (params.on_progress) params.on_progress(progress);
        }
    };
    const int32_t n_workers = (int32_t)std::clamp<int64_t>(params.concurrency, 1, std::max<int64_t>(1, total));
    std::vector<std::thread> threads;
    for (int32_t w = 1; w < n_workers; ++w) threads.emplace_back(worker);
    worker();
    for (auto & t : threads) t.join();

    if (abandon.load() || (total > 0 && progress.errors == total))
        throw Error(ErrorKind::ErrorKind_unavailable, "every one of the first " + std::to_string(progress.done) +
                                                          " requests failed, the first with: " + first_error);
    return outcomes;
}

}  // namespace sy::eval
