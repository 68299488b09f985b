// Router evaluation under the tool grammar (see router_eval.h).
#include "train/router_eval.h"

#include <chrono>
#include <map>
#include <set>

#include "engine/generate.h"
#include "engine/grammar_constraint.h"
#include "grammar/tool_call.h"
#include "chat/router_plan.h"
#include "grammar/copy.h"

namespace sy::train {

RouterEval evaluate_router(const engine::Model & model, const std::vector<chat::Conversation> & convs,
                           const chat::ChatFormat & format, int32_t n_threads, size_t max_failures,
                           const std::optional<std::vector<std::string>> & copy_fields) {
    const std::vector<std::string> fields = copy_fields ? *copy_fields : grammar::read_copy_fields(model.file());
    const std::set<std::string> field_set(fields.begin(), fields.end());
    const std::optional<chat::SlotTagger> tagger = field_set.empty() ? std::nullopt : chat::SlotTagger::read(model.file());
    const std::optional<chat::IntentClassifier> intent = chat::IntentClassifier::read(model.file());
    const auto t0 = std::chrono::steady_clock::now();
    const tok::Tokenizer & tk = model.tokenizer();
    const grammar::ToolCallFormat tcf = format.tool_call_format();
    RouterEval ev;
    engine::ContextParams cp;
    cp.n_threads = n_threads;
    cp.n_ctx = 1024;
    engine::Context ctx(model, cp);
    engine::GenerateParams gp;
    gp.n_predict = 96;
    gp.sampling.temperature = 0.0f;
    gp.stop = format.stop_strings();
    std::map<std::string, std::shared_ptr<const grammar::CompiledGrammar>> compiled_for;  // by the grammar's tools
    for (const chat::Conversation & conv : convs) {
        if (conv.messages.empty() || conv.messages.back().role != "assistant")
            throw Error(ErrorKind::ErrorKind_invalid_argument, "evaluate_router: a conversation must end with an assistant message");
        chat::Conversation prompt = conv;
        const chat::Message want = prompt.messages.back();
        prompt.messages.pop_back();
        const std::vector<std::string> sources = format.copy_sources(prompt);
        // As serving does (chat/router_plan.h).
        const chat::RouterPlan plan =
            chat::plan_route(prompt, intent ? &*intent : nullptr, tagger ? &*tagger : nullptr, field_set, sources,
                             grammar::ToolChoiceMode::ToolChoiceMode_auto, format.today_of(prompt));
        const char * choice = plan.text_only ? "none" : "auto";
        std::shared_ptr<const grammar::CompiledGrammar> & compiled = compiled_for[std::string(choice) + plan.grammar_tools.dump()];
        if (!compiled) compiled = engine::bind_grammar(grammar::compile_tool_grammar(plan.grammar_tools, choice, false, tcf, field_set), tk);
        std::vector<int32_t> ids = chat::tokenize_rendered(tk, format.render(prompt, true), tk.vocab().special().add_bos).tokens;
        if ((int32_t)ids.size() + gp.n_predict >= cp.n_ctx) ids.erase(ids.begin(), ids.end() - (cp.n_ctx - gp.n_predict - 1));
        engine::GrammarConstraint gc(compiled, tk, true, engine::make_copy_constraint(*compiled, sources));
        gc.set_field_copy_spans(plan.spans);
        const engine::GenerateResult r = engine::generate(ctx, ids, gp, &gc);
        ev.n_tokens += (int64_t)r.tokens.size();
        grammar::ParsedOutput got;
        bool parsed = gc.matcher().can_terminate();
        if (parsed) {
            try {
                got = grammar::parse_tool_output(r.text, tcf);
            } catch (const Error &) {
                parsed = false;
            }
        }
        ++ev.n;
        const bool want_call = !want.tool_calls.empty();
        ev.n_calls += want_call;
        bool tool_ok = false, args_ok = false;
        ev.invalid += !parsed;
        if (parsed && !want_call) {
            tool_ok = got.tool_calls.empty();
            ev.false_calls += !tool_ok;
        }
        if (parsed && want_call && got.tool_calls.size() == want.tool_calls.size()) {
            tool_ok = args_ok = true;
            for (size_t i = 0; i < got.tool_calls.size(); ++i) {
                tool_ok = tool_ok && got.tool_calls[i].name == want.tool_calls[i].name;
                args_ok = args_ok && nlohmann::json::parse(got.tool_calls[i].arguments.dump()) ==
                                         nlohmann::json::parse(want.tool_calls[i].arguments.dump());
            }
            args_ok = args_ok && tool_ok;
        }
        ev.tool_correct += tool_ok;
        ev.args_exact += args_ok;
        if ((!tool_ok || (want_call && !args_ok)) && ev.failures.size() < max_failures) {
            std::string user;
            for (const auto & m : prompt.messages)
                if (m.role == "user") user = m.content;
            const std::string wanted = want_call ? format.render_tool_calls(want.tool_calls, conv.tools) : "(text) " + want.content;
            ev.failures.push_back(user + "  ->  " + r.text + "  |  want " + wanted);
        }
    }
    ev.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return ev;
}

}  // namespace sy::train
