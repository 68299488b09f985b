// LocalProvider: an OpenAI-semantics chat request → prompt tokens (chat template) + grammar (tools or
// response_format) → one engine scheduler job → assistant message (content or parsed tool calls), usage,
// logprobs, confidence and timing.
//
// Streaming: the engine thread only appends text pieces to a per-request queue; the calling thread hands
// them to the DeltaFn, so a slow client never stalls the batch. With tools the output may turn out to be a
// call, so nothing is streamed while generating; a text answer is passed on whole at the end.
#include "providers/local_provider.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <random>
#include <set>

#include "chat/router_plan.h"
#include "engine/grammar_constraint.h"
#include "engine/quantize_recipe.h"
#include "grammar/cache.h"
#include "grammar/copy.h"
#include "grammar/schema.h"
#include "grammar/tool_call.h"
#include "providers/grounded_constraint.h"

namespace sy::providers {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

uint64_t fnv1a(std::string_view s, uint64_t h = 0xcbf29ce484222325ull) {
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    return h;
}

// Pieces of streamed text handed from the engine thread to the requesting thread.
struct StreamQueue {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::string> pieces;
    std::atomic<bool> stop{false};  // the client stopped listening

    bool push(const std::string & s) {
        if (stop.load()) return false;
        {
            std::lock_guard<std::mutex> lock(mu);
            pieces.push_back(s);
        }
        cv.notify_one();
        return true;
    }
    std::deque<std::string> take(std::chrono::milliseconds wait) {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait_for(lock, wait, [&] { return !pieces.empty(); });
        return std::exchange(pieces, {});
    }
};

struct AdapterEntry {
    std::string name, path, fingerprint;
    std::set<std::string> copy_fields;  // switchyard.router.copy_fields of the adapter (grammar/copy.h)
    std::shared_ptr<const engine::LoraAdapter> lora;
};

std::string finish_reason_of(engine::StopReason r) {
    return r == engine::StopReason::StopReason_length ? "length" : "stop";
}

}  // namespace

struct LocalProvider::Impl {
    LocalModelParams params;
    std::unique_ptr<engine::Model> model;
    std::optional<chat::ChatFormat> format;
    std::string base_fingerprint;
    std::set<std::string> base_copy_fields;  // switchyard.router.copy_fields of the model (grammar/copy.h)
    std::optional<chat::SlotTagger> tagger;  // the model's slot tagger (chat/slot_tagger.h), if it has one
    std::optional<chat::IntentClassifier> intent;  // its intent classifier (chat/intent_classifier.h), if any
    std::shared_ptr<const grammar::TokenTable> token_table;
    std::shared_ptr<const GroundingVocab> grounding;  // when params.grounded_replies
    grammar::GrammarCache grammar_cache{64};
    std::unique_ptr<engine::Scheduler> scheduler;
    std::atomic<uint64_t> seed_counter{0};
    uint64_t seed_base = 0;

    mutable std::mutex mu;  // guards adapters
    std::map<std::string, std::shared_ptr<const AdapterEntry>> adapters;

    std::shared_ptr<const AdapterEntry> load(const std::string & name, const std::string & path) const {
        if (name.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "adapter name must not be empty");
        if (name == params.name)
            throw Error(ErrorKind::ErrorKind_invalid_argument, "adapter name '" + name + "' is the base model's name; pick another");
        auto e = std::make_shared<AdapterEntry>();
        e->name = name;
        e->path = path;
        e->lora = engine::LoraAdapter::load(path, *model);
        const gguf::File f = gguf::File::open(path);
        e->fingerprint = f.get_string("switchyard.tools_fingerprint").value_or("");
        for (const std::string & c : grammar::read_copy_fields(f)) e->copy_fields.insert(c);
        return e;
    }

    std::string adapter_names() const {
        std::string s;
        for (const auto & [n, e] : adapters) s += (s.empty() ? "" : ", ") + n;
        return s.empty() ? "none" : s;
    }

    // nullptr = the base model. Throws invalid_argument naming what is served.
    std::shared_ptr<const AdapterEntry> resolve(const std::string & m) const {
        if (m.empty() || m == params.name) return nullptr;
        std::string adapter = m;
        const bool qualified = m.size() > params.name.size() && m.compare(0, params.name.size() + 1, params.name + ":") == 0;
        if (qualified) adapter = m.substr(params.name.size() + 1);
        std::lock_guard<std::mutex> lock(mu);
        auto it = adapters.find(adapter);
        if (it != adapters.end()) return it->second;
        if (qualified)
            throw Error(ErrorKind::ErrorKind_invalid_argument,
                        "unknown adapter '" + adapter + "' for model '" + params.name + "' (loaded adapters: " + adapter_names() + ")");
        throw Error(ErrorKind::ErrorKind_invalid_argument, "unknown model '" + m + "': this provider serves '" + params.name +
                                                               "' and its adapters (" + adapter_names() + ")");
    }

    std::shared_ptr<const grammar::CompiledGrammar> grammar_for(uint64_t key, const grammar::GrammarCache::Builder & build) {
        return grammar_cache.get_or_build(key, token_table, build);
    }

    ojson base_details() const {
        const engine::HParams & hp = model->hparams();
        ojson d = ojson::object();
        d["architecture"] = hp.arch;
        d["n_params"] = model->n_params();
        const auto ft = model->file().get_u64("general.file_type");
        if (ft) {
            d["file_type"] = *ft;
            if (auto r = find_quant_recipe(std::to_string(*ft))) d["quantization"] = r->name;
        }
        d["context_length"] = hp.n_ctx_train;
        d["n_ctx"] = params.scheduler.n_ctx;
        d["n_slots"] = params.scheduler.n_slots;
        d["chat_format"] = chat::chat_format_name(format->kind());
        d["tools_fingerprint"] = base_fingerprint;
        d["file_size"] = model->file().file_size();
        d["capabilities"] = ojson::array({"completion", "tools"});
        return d;
    }
};

LocalProvider::LocalProvider(const LocalModelParams & params) : impl_(std::make_unique<Impl>()) {
    Impl & m = *impl_;
    m.params = params;
    if (params.name.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "local model: name must not be empty");
    if (params.max_tokens <= 0)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "local model '" + params.name + "': max_tokens must be >= 1");
    m.model = engine::Model::load(params.path);
    m.format = chat::ChatFormat::detect(m.model->file(), m.model->tokenizer().vocab());
    m.base_fingerprint = m.model->file().get_string("switchyard.tools_fingerprint").value_or("");
    for (const std::string & c : grammar::read_copy_fields(m.model->file())) m.base_copy_fields.insert(c);
    m.tagger = chat::SlotTagger::read(m.model->file());
    m.intent = chat::IntentClassifier::read(m.model->file());
    m.token_table = grammar::TokenTable::from_vocab(m.model->tokenizer().vocab());
    if (m.params.grounded_replies) m.grounding = std::make_shared<const GroundingVocab>(m.model->tokenizer());
    for (const auto & [name, path] : params.adapters) m.adapters[name] = m.load(name, path);
    m.seed_base = std::random_device{}();
    m.scheduler = std::make_unique<engine::Scheduler>(*m.model, params.scheduler);
}

LocalProvider::~LocalProvider() = default;

const std::string & LocalProvider::name() const { return impl_->params.name; }
const engine::Model & LocalProvider::model() const { return *impl_->model; }
engine::SchedulerStats LocalProvider::scheduler_stats() const { return impl_->scheduler->stats(); }

void LocalProvider::load_adapter(const std::string & adapter_name, const std::string & path) {
    std::shared_ptr<const AdapterEntry> e = impl_->load(adapter_name, path);  // outside the lock: may take a while
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->adapters[adapter_name] = std::move(e);
}

void LocalProvider::unload_adapter(const std::string & adapter_name) {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->adapters.erase(adapter_name) == 0)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "unknown adapter '" + adapter_name + "' for model '" +
                                                               impl_->params.name + "' (loaded adapters: " + impl_->adapter_names() + ")");
}

std::string LocalProvider::tools_fingerprint(const std::string & model_or_adapter) const {
    const auto a = impl_->resolve(model_or_adapter);
    return a ? a->fingerprint : impl_->base_fingerprint;
}

std::vector<ModelEntry> LocalProvider::models() const {
    std::vector<ModelEntry> out;
    const ojson base = impl_->base_details();
    out.push_back({impl_->params.name, "", "local", base});
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (const auto & [name, e] : impl_->adapters) {
        ojson d = base;
        d["tools_fingerprint"] = e->fingerprint;
        d["adapter_path"] = e->path;
        out.push_back({name, impl_->params.name, "adapter", d});
    }
    return out;
}

ChatResponse LocalProvider::chat(const ChatRequest & req, const DeltaFn & on_delta) {
    Impl & m = *impl_;
    const auto t0 = Clock::now();
    const tok::Tokenizer & tk = m.model->tokenizer();
    const std::shared_ptr<const AdapterEntry> adapter = m.resolve(req.model);

    // Prompt tokens and grammar.
    std::vector<int32_t> prompt;
    std::shared_ptr<const grammar::CompiledGrammar> compiled;
    std::vector<std::string> copy_sources;
    chat::RouterPlan plan;  // what the router's linear aids decided (chat/router_plan.h)
    bool tool_grammar = false;
    const grammar::ToolCallFormat call_format = m.format->tool_call_format();
    const bool grounded_reply = m.grounding && !req.prompt && !req.messages.empty() && req.messages.back().role == "tool";
    if (req.prompt) {
        tok::EncodeOptions eo;
        eo.add_special = true;
        eo.parse_special = true;
        prompt = tk.encode(*req.prompt, eo);
    } else {
        if (req.messages.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "messages: at least one message is required");
        chat::Conversation conv;
        conv.messages = req.messages;
        conv.tools = req.tools.is_null() ? ojson::array() : req.tools;
        prompt = chat::tokenize_rendered(tk, m.format->render(conv, true), tk.vocab().special().add_bos).tokens;
        const bool has_tools = conv.tools.is_array() && !conv.tools.empty();
        const grammar::ToolChoice choice = grammar::ToolChoice::parse(req.tool_choice);
        if (!has_tools && (choice.mode == grammar::ToolChoiceMode::ToolChoiceMode_required ||
                           choice.mode == grammar::ToolChoiceMode::ToolChoiceMode_function))
            throw Error(ErrorKind::ErrorKind_invalid_argument, "tool_choice: a tool call is required but the request has no tools");
        // A model serving grounded replies answers a tool result in text (unless the client requires a
        // call): its reply is held to the result's values below, not to the tool grammar.
        const bool text_reply = grounded_reply && choice.mode == grammar::ToolChoiceMode::ToolChoiceMode_auto;
        if (has_tools && choice.mode != grammar::ToolChoiceMode::ToolChoiceMode_none && !text_reply) {
            tool_grammar = true;
            // A router's copy fields: its string arguments are spans of the request's own text.
            const std::set<std::string> & fields = adapter ? adapter->copy_fields : m.base_copy_fields;
            if (!fields.empty()) copy_sources = m.format->copy_sources(conv);
            // A router's linear aids narrow the grammar (chat/router_plan.h); the prompt lists every tool.
            plan = chat::plan_route(conv, adapter ? nullptr : (m.intent ? &*m.intent : nullptr),
                                    adapter ? nullptr : (m.tagger ? &*m.tagger : nullptr), fields, copy_sources, choice.mode,
                                    m.format->today_of(conv));
            const ojson & grammar_tools = plan.grammar_tools;
            const ojson grammar_choice = plan.text_only ? ojson("none") : req.tool_choice;
            const uint64_t key =
                grammar::tool_grammar_key(grammar_tools, grammar_choice, req.parallel_tool_calls, call_format, fields);
            compiled = m.grammar_for(key, [&] {
                return grammar::compile_tool_grammar(grammar_tools, grammar_choice, req.parallel_tool_calls, call_format, fields);
            });
        }
    }
    if (!tool_grammar && req.response_format.is_object()) {
        const std::string type = req.response_format.value("type", "");
        if (type == "json_object") {
            compiled = m.grammar_for(fnv1a("response_format:json_object"), [] { return grammar::compile_json_object(); });
        } else if (type == "json_schema") {
            const ojson & js = req.response_format.contains("json_schema") ? req.response_format["json_schema"] : ojson();
            if (!js.is_object() || !js.contains("schema") || !js["schema"].is_object())
                throw Error(ErrorKind::ErrorKind_invalid_argument,
                            "response_format.json_schema.schema: a JSON Schema object is required");
            const ojson & schema = js["schema"];
            compiled = m.grammar_for(fnv1a(schema.dump(), fnv1a("response_format:json_schema:")),
                                     [&] { return grammar::compile_json_schema(schema); });
        } else if (type != "text") {
            throw Error(ErrorKind::ErrorKind_invalid_argument,
                        "response_format.type: '" + type + "' is not one of text, json_object, json_schema");
        }
    } else if (!req.response_format.is_null() && !req.response_format.is_object()) {
        throw Error(ErrorKind::ErrorKind_invalid_argument, "response_format: must be an object");
    }
    if (prompt.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "the prompt tokenizes to nothing");
    const int32_t n_ctx = m.params.scheduler.n_ctx;
    if ((int64_t)prompt.size() + 1 > n_ctx)
        throw Error(ErrorKind::ErrorKind_limit, "the request is " + std::to_string(prompt.size()) + " tokens but the context of model '" +
                                                    m.params.name + "' holds " + std::to_string(n_ctx) +
                                                    " (prompt + at least one generated token); shorten the messages");

    // Generation parameters.
    const GenerationOptions & g = req.gen;
    if (g.max_tokens && *g.max_tokens <= 0)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "max_tokens: must be >= 1");
    if (g.top_logprobs < 0 || g.top_logprobs > 20)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "top_logprobs: must be between 0 and 20");
    engine::Job job;
    job.prompt = std::move(prompt);
    engine::GenerateParams & gp = job.params;
    gp.n_predict = std::min(g.max_tokens.value_or(m.params.max_tokens), m.params.max_tokens);
    gp.n_predict = std::min<int32_t>(gp.n_predict, n_ctx - (int32_t)job.prompt.size());
    gp.sampling.temperature = g.temperature.value_or(m.params.default_temperature);
    gp.sampling.top_p = g.top_p.value_or(1.0f);
    gp.sampling.top_k = g.top_k.value_or(0);
    gp.sampling.min_p = g.min_p.value_or(0.0f);
    gp.sampling.repeat_penalty = g.repeat_penalty.value_or(1.0f);
    gp.sampling.seed = g.seed.value_or(m.seed_base + m.seed_counter.fetch_add(1) * 0x9E3779B97F4A7C15ull);
    gp.sampling.n_logprobs = g.logprobs ? g.top_logprobs : 0;
    gp.stop = g.stop;
    if (!req.prompt)
        for (const auto & s : m.format->stop_strings()) gp.stop.push_back(s);
    std::shared_ptr<engine::GrammarConstraint> constraint;
    if (compiled) {
        constraint = std::make_shared<engine::GrammarConstraint>(compiled, tk, true,
                                                                 engine::make_copy_constraint(*compiled, copy_sources));
        constraint->set_field_copy_spans(plan.spans);
        job.constraint = constraint;
    }
    // A reply to a tool result states only the result's values (chat/grounding.h), for a model served so.
    if (!compiled && grounded_reply) {
        std::vector<int32_t> uses;
        std::vector<std::string> values = chat::reply_values(req.messages, req.tools, &uses);
        if (!values.empty()) job.constraint = std::make_shared<GroundedConstraint>(m.grounding, std::move(values), uses);
    }
    if (adapter) job.loras.push_back({adapter->lora, 1.0f});

    // Streaming (see the file comment).
    std::shared_ptr<StreamQueue> stream;
    if (on_delta && !tool_grammar) {
        stream = std::make_shared<StreamQueue>();
        job.on_text = [stream](const std::string & s) { return stream->push(s); };
    }
    engine::JobHandle handle = m.scheduler->submit(std::move(job));
    engine::JobResult jr;
    if (stream) {
        while (true) {
            std::optional<engine::JobResult> done = handle.wait_for(std::chrono::milliseconds(0));
            for (const std::string & piece : stream->take(std::chrono::milliseconds(done ? 0 : 2)))
                if (!stream->stop.load() && !on_delta(piece)) {
                    stream->stop.store(true);
                    handle.cancel();
                }
            if (done) {
                jr = std::move(*done);
                for (const std::string & piece : stream->take(std::chrono::milliseconds(0)))
                    if (!stream->stop.load() && !on_delta(piece)) stream->stop.store(true);
                break;
            }
        }
    } else {
        jr = handle.wait();
    }
    const engine::GenerateResult & r = jr.result;

    // The response.
    ChatResponse resp;
    resp.model = adapter ? adapter->name : m.params.name;
    resp.text = r.text;
    resp.message.role = "assistant";
    resp.finish_reason = finish_reason_of(r.stop_reason);
    const bool complete = !constraint || constraint->matcher().can_terminate();
    if (tool_grammar) {
        resp.confidence = constraint->confidence();
        if (complete) {
            const grammar::ParsedOutput p = grammar::parse_tool_output(r.text, call_format);
            for (const auto & c : p.tool_calls) resp.message.tool_calls.push_back({new_tool_call_id(), c.name, c.arguments});
            std::vector<std::string> called;
            for (const auto & c : p.tool_calls) called.push_back(c.name);
            chat::temper_confidence(*resp.confidence, called, plan);
            if (!resp.message.tool_calls.empty()) {
                resp.finish_reason = "tool_calls";
            } else {
                resp.message.content = p.content;
            }
        } else {
            resp.message.content = r.text;  // cut off by max_tokens (finish_reason "length")
        }
        if (on_delta && resp.message.tool_calls.empty() && !resp.message.content.empty()) on_delta(resp.message.content);
    } else {
        resp.message.content = r.text;
    }
    if (!complete) resp.finish_reason = "length";

    resp.usage.prompt_tokens = r.n_prompt;
    resp.usage.completion_tokens = (int64_t)r.tokens.size();
    resp.usage.cached_tokens = jr.n_cached;
    if (g.logprobs) {
        resp.logprobs.reserve(r.tokens.size());
        for (const engine::GeneratedToken & t : r.tokens) {
            TokenLogprobInfo info;
            info.token = tk.token_piece(t.token);
            info.logprob = t.forced ? 0.0 : t.sample.logprob;  // a forced token had probability 1 under the grammar
            for (const engine::TokenLogprob & alt : t.sample.top) info.top.push_back({tk.token_piece(alt.token), alt.logprob});
            if (t.forced && g.top_logprobs > 0) info.top.push_back({info.token, 0.0});
            resp.logprobs.push_back(std::move(info));
        }
    }
    resp.timing.queue_ms = jr.queue_ms;
    resp.timing.prefill_ms = r.prompt_ms;
    resp.timing.decode_ms = r.gen_ms;
    resp.timing.total_ms = ms_since(t0);
    return resp;
}

}  // namespace sy::providers
