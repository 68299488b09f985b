// switchyard run: load a model (with optional LoRA adapters) and generate from a prompt — free text
// (streamed), JSON under a schema (--json-schema), or a tool call / answer under the tool grammar
// (--tools, the prompt becomes a user turn in the model's chat format).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "chat/chat_format.h"
#include "chat/router_plan.h"
#include "cli/commands.h"
#include "cli/util.h"
#include "engine/generate.h"
#include "engine/grammar_constraint.h"

namespace sy::cli {
namespace {

using ojson = nlohmann::ordered_json;

struct Opts {
    std::string model, prompt;
    std::vector<std::string> loras;
    int n_predict = 128, threads = 2, n_ctx = 0;
    float temp = 0.8f, top_p = 0.95f, min_p = 0.05f, repeat_penalty = 1.0f;
    int top_k = 40;
    uint64_t seed = 0;
    bool json = false;
    std::string json_schema, tools, tool_choice = "auto";
    bool parallel_tools = false, no_jump_forward = false;
};

ojson read_json_file(const std::string & path, const char * what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::ErrorKind_io, std::string("cannot open ") + what + " file '" + path + "'");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    ojson j = ojson::parse(text, nullptr, false);
    if (j.is_discarded()) throw Error(ErrorKind::ErrorKind_invalid_argument, std::string(what) + " file '" + path + "' is not valid JSON");
    return j;
}

ojson tool_choice_json(const std::string & s) {
    if (s == "auto" || s == "none" || s == "required") return s;
    return ojson{{"type", "function"}, {"function", {{"name", s}}}};
}

ojson confidence_json(const grammar::OutputConfidence & c) {
    ojson calls = ojson::array();
    for (const auto & call : c.calls) {
        ojson args = ojson::object();
        for (const auto & a : call.arguments) args[a.name] = a.confidence;
        calls.push_back({{"overall", call.overall}, {"decision", call.decision}, {"name", call.name}, {"arguments", args}});
    }
    return {{"is_tool_call", c.is_tool_call}, {"decision", c.decision}, {"p_tool_call", c.p_tool_call ? ojson(*c.p_tool_call) : ojson(nullptr)}, {"calls", calls}};
}

}  // namespace

void add_run(CLI::App & app) {
    auto o = std::make_shared<Opts>();
    CLI::App * cmd = app.add_subcommand("run", "Generate from a prompt: text, JSON under a schema, or a tool call");
    cmd->add_option("-m,--model", o->model, "GGUF model file")->required();
    cmd->add_option("-p,--prompt", o->prompt, "Prompt text ('-' reads stdin)")->required();
    cmd->add_option("--lora", o->loras, "LoRA adapter GGUF, optionally with a scale: FILE[:SCALE] (repeatable)");
    cmd->add_option("-n,--n-predict", o->n_predict, "Tokens to generate")->capture_default_str();
    cmd->add_option("--temp", o->temp, "Temperature (0 = greedy)")->capture_default_str();
    cmd->add_option("--top-k", o->top_k, "Top-k (0 = off)")->capture_default_str();
    cmd->add_option("--top-p", o->top_p, "Top-p (1 = off)")->capture_default_str();
    cmd->add_option("--min-p", o->min_p, "Min-p (0 = off)")->capture_default_str();
    cmd->add_option("--repeat-penalty", o->repeat_penalty, "Repetition penalty (1 = off)")->capture_default_str();
    cmd->add_option("--seed", o->seed, "Sampling seed")->capture_default_str();
    cmd->add_option("-t,--threads", o->threads, "Threads")->capture_default_str()->check(CLI::Range(1, 256));
    cmd->add_option("-c,--ctx-size", o->n_ctx, "Context size (default: prompt + n-predict)");
    cmd->add_flag("--json", o->json, "Print one JSON record (output, parsed value, confidence) instead of streaming text");
    cmd->add_option("--json-schema", o->json_schema, "Constrain the output to this JSON Schema (file)");
    cmd->add_option("--tools", o->tools,
                    "OpenAI-style tools JSON file: the prompt becomes a user turn and the output is a text answer or "
                    "a tool call valid under that tool's schema");
    cmd->add_option("--tool-choice", o->tool_choice, "auto | none | required | NAME")->capture_default_str();
    cmd->add_flag("--parallel-tools", o->parallel_tools, "Allow several tool calls in one answer");
    cmd->add_flag("--no-jump-forward", o->no_jump_forward, "Sample every token, even forced ones");
    cmd->callback([o] {
        if (!o->json_schema.empty() && !o->tools.empty())
            throw Error(ErrorKind::ErrorKind_invalid_argument, "--json-schema and --tools cannot be combined");
        auto model = engine::Model::load(o->model);
        const tok::Tokenizer & tk = model->tokenizer();
        std::string prompt = o->prompt;
        if (prompt == "-") prompt.assign(std::istreambuf_iterator<char>(std::cin), {});

        // Prompt tokens and, for constrained runs, the grammar.
        std::vector<int32_t> ids;
        std::shared_ptr<const grammar::Grammar> g;
        std::optional<chat::ChatFormat> chat_fmt;
        std::vector<std::string> copy_sources;
        std::map<std::string, std::vector<std::string>> tagged;
        if (!o->tools.empty()) {
            chat_fmt = chat::ChatFormat::detect(model->file(), tk.vocab());
            chat::Conversation conv;
            conv.tools = read_json_file(o->tools, "tools");
            if (conv.tools.is_object() && conv.tools.contains("tools")) conv.tools = ojson(conv.tools["tools"]);
            conv.messages.push_back({"user", prompt, {}, "", ""});
            // A trained router's copy fields: its string arguments are spans of the prompt (grammar/copy.h).
            const std::vector<std::string> fields = grammar::read_copy_fields(model->file());
            // A trained router's linear aids narrow the grammar (chat/router_plan.h).
            const ojson choice = tool_choice_json(o->tool_choice);
            const grammar::ToolChoiceMode mode = grammar::ToolChoice::parse(choice).mode;
            const std::optional<chat::IntentClassifier> intent = chat::IntentClassifier::read(model->file());
            const std::optional<chat::SlotTagger> tagger = chat::SlotTagger::read(model->file());
            const std::set<std::string> field_set(fields.begin(), fields.end());
            copy_sources = chat_fmt->copy_sources(conv);
            const chat::RouterPlan plan = chat::plan_route(
                conv, intent ? &*intent : nullptr, tagger ? &*tagger : nullptr, field_set, copy_sources, mode, chat_fmt->today_of(conv));
            g = grammar::compile_tool_grammar(plan.grammar_tools, plan.text_only ? ojson("none") : choice, o->parallel_tools,
                                              chat_fmt->tool_call_format(), field_set);
            tagged = plan.spans;
            ids = chat::tokenize_rendered(tk, chat_fmt->render(conv, true), tk.vocab().special().add_bos).tokens;
        } else {
            if (!o->json_schema.empty()) {
                grammar::SchemaOptions so;
                g = grammar::compile_json_schema(read_json_file(o->json_schema, "JSON Schema"), so);
            }
            tok::EncodeOptions eo;
            eo.add_special = true;
            eo.parse_special = true;
            ids = tk.encode(prompt, eo);
        }
        if (ids.empty()) throw Error(ErrorKind::ErrorKind_invalid_argument, "the prompt tokenizes to nothing");

        engine::ContextParams cp;
        cp.n_threads = o->threads;
        cp.n_ctx = o->n_ctx > 0 ? o->n_ctx : (int32_t)ids.size() + o->n_predict + 1;
        engine::Context ctx(*model, cp);
        std::vector<engine::ActiveLora> loras;
        for (const auto & spec : o->loras) {
            auto [path, scale] = parse_path_scale(spec);
            loras.push_back({engine::LoraAdapter::load(path, *model), scale});
        }
        ctx.set_loras(loras);

        engine::GenerateParams gp;
        gp.n_predict = o->n_predict;
        gp.sampling.temperature = o->temp;
        gp.sampling.top_k = o->top_k;
        gp.sampling.top_p = o->top_p;
        gp.sampling.min_p = o->min_p;
        gp.sampling.repeat_penalty = o->repeat_penalty;
        gp.sampling.seed = o->seed;

        if (g) {
            const auto compiled = engine::bind_grammar(g, tk);
            engine::GrammarConstraint gc(compiled, tk, !o->no_jump_forward, engine::make_copy_constraint(*compiled, copy_sources));
            gc.set_field_copy_spans(tagged);
            engine::GenerateResult r = engine::generate(ctx, ids, gp, &gc);
            const bool complete = gc.matcher().can_terminate();
            if (!complete)
                throw Error(ErrorKind::ErrorKind_limit, "the output did not complete within -n " + std::to_string(o->n_predict) +
                                                            " tokens: " + r.text.substr(0, 200));
            ojson value;
            if (chat_fmt) {
                const grammar::ParsedOutput p = grammar::parse_tool_output(r.text, chat_fmt->tool_call_format());
                value = ojson::object();
                value["content"] = p.tool_calls.empty() ? ojson(p.content) : ojson(nullptr);
                ojson calls = ojson::array();
                for (const auto & c : p.tool_calls) calls.push_back({{"name", c.name}, {"arguments", c.arguments}});
                value["tool_calls"] = calls;
            } else {
                value = ojson::parse(r.text);
            }
            if (!o->json) {
                std::cout << (chat_fmt ? value.dump() : r.text) << "\n";
                return;
            }
            ojson j;
            j["output"] = r.text;
            j["value"] = value;
            j["confidence"] = confidence_json(gc.confidence());
            j["prompt_tokens"] = r.n_prompt;
            j["completion_tokens"] = r.tokens.size();
            j["forced_tokens"] = r.n_forced;
            j["finish_reason"] = engine::stop_reason_name(r.stop_reason);
            j["prompt_ms"] = r.prompt_ms;
            j["gen_ms"] = r.gen_ms;
            std::cout << j.dump(-1, ' ', false, ojson::error_handler_t::replace) << "\n";
            return;
        }
        if (o->json) {
            engine::GenerateResult r = engine::generate(ctx, ids, gp);
            ojson j;
            j["output"] = r.text;
            j["prompt_tokens"] = r.n_prompt;
            j["completion_tokens"] = r.tokens.size();
            j["finish_reason"] = engine::stop_reason_name(r.stop_reason);
            j["prompt_ms"] = r.prompt_ms;
            j["gen_ms"] = r.gen_ms;
            std::cout << j.dump(-1, ' ', false, ojson::error_handler_t::replace) << "\n";
            return;
        }
        engine::GenerateResult r = engine::generate(ctx, ids, gp, nullptr, [](const std::string & s) {
            std::fwrite(s.data(), 1, s.size(), stdout);
            std::fflush(stdout);
            return true;
        });
        std::printf("\n");
        std::fprintf(stderr, "prompt: %d tokens in %.1f ms (%.1f t/s); generated: %zu tokens in %.1f ms (%.1f t/s); %s\n",
                     r.n_prompt, r.prompt_ms, r.n_prompt * 1000.0 / std::max(r.prompt_ms, 1e-9), r.tokens.size(),
                     r.gen_ms, r.tokens.size() * 1000.0 / std::max(r.gen_ms, 1e-9), engine::stop_reason_name(r.stop_reason));
    });
}

}  // namespace sy::cli
