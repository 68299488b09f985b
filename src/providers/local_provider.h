// A local GGUF model behind the Provider interface: chat template (chat/chat_format.h), tool-call and
// response_format grammars (grammar/), router confidence, and the engine scheduler (engine/scheduler.h)
// for continuous batching. LoRA adapters are named, loaded at start or at run time, and swapped
// atomically: a request holds a shared_ptr to the adapter it started with, so in-flight requests finish
// on the old one.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/scheduler.h"
#include "providers/provider.h"

namespace sy::providers {

struct LocalModelParams {
    std::string name;        // id clients use
    std::string path;        // GGUF file
    std::map<std::string, std::string> adapters;  // adapter name -> GGUF adapter path (loaded at start)
    engine::SchedulerParams scheduler;
    int32_t max_tokens = 1024;     // cap on max_tokens; also the default
    float default_temperature = 0.0f;
    // Text answers to a tool result state only the result's values: every digit and double quote copies
    // one (providers/grounded_constraint.h). For a small responder that words replies from tool results.
    bool grounded_replies = false;
};

class LocalProvider : public Provider {
public:
    // Loads the model and adapters. Throws sy::Error naming the file that failed.
    explicit LocalProvider(const LocalModelParams & params);
    ~LocalProvider() override;

    const std::string & name() const override;
    bool is_local() const override { return true; }
    // req.model selects an adapter: "<name>" = base, "<adapter>" or "<name>:<adapter>" = base + adapter.
    ChatResponse chat(const ChatRequest & req, const DeltaFn & on_delta = {}) override;
    std::vector<ModelEntry> models() const override;

    // Loads `path` and makes it the adapter `adapter_name` (replacing one of that name atomically).
    void load_adapter(const std::string & adapter_name, const std::string & path);
    void unload_adapter(const std::string & adapter_name);  // throws invalid_argument when unknown

    // The tools fingerprint this model or the named adapter was trained for (GGUF metadata
    // switchyard.tools_fingerprint), empty when it does not say.
    std::string tools_fingerprint(const std::string & model_or_adapter) const;
    const engine::Model & model() const;
    engine::SchedulerStats scheduler_stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sy::providers
