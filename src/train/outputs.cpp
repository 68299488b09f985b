// Writing trained models and adapters, and merging adapters into bases (see outputs.h).
#include "train/outputs.h"

#include <cstring>
#include <map>

#include "engine/lora.h"
#include "grammar/copy.h"

namespace sy::train {
using grammar::kCopyFieldsKey;
}
#include "tensor/quant.h"

namespace sy::train {
namespace {

std::span<const uint8_t> bytes_of(const std::vector<float> & v) {
    return {reinterpret_cast<const uint8_t *>(v.data()), v.size() * sizeof(float)};
}

// llama.cpp's general.file_type for an all-`t` model (LLAMA_FTYPE_*).
uint32_t file_type_of(DType t) {
    switch (t) {
        case DType::DType_f32: return 0;
        case DType::DType_f16: return 1;
        case DType::DType_q4_0: return 2;
        case DType::DType_q4_1: return 3;
        case DType::DType_q8_0: return 7;
        case DType::DType_q5_0: return 8;
        case DType::DType_q5_1: return 9;
        case DType::DType_bf16: return 32;
        default: return 0;
    }
}

}  // namespace

void save_full_model(const TrainModel & m, const tok::Vocab & vocab, const std::string & path,
                     const SaveModelParams & sp) {
    if (m.is_lora())
        throw Error(ErrorKind::ErrorKind_invalid_argument, "save_full_model: a LoRA model is saved as an adapter");
    const engine::HParams & hp = m.hparams();
    if (vocab.n_tokens() > hp.n_vocab)
        throw Error(ErrorKind::ErrorKind_invalid_argument, "save_full_model: vocabulary larger than the model's n_vocab");
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::string(hp.arch));
    w.set("general.name", gguf::Value::string(sp.name));
    w.set("general.file_type", gguf::Value::u32(file_type_of(sp.dtype)));
    if (dtype_info(sp.dtype).quantized) w.set("general.quantization_version", gguf::Value::u32(2));
    tok::write_vocab_metadata(vocab, w);
    if (!sp.chat_format.empty()) w.set("switchyard.chat_format", gguf::Value::string(sp.chat_format));
    if (!sp.tools_fingerprint.empty()) w.set("switchyard.tools_fingerprint", gguf::Value::string(sp.tools_fingerprint));
    if (!sp.copy_fields.empty()) w.set(kCopyFieldsKey, gguf::Value::strings(sp.copy_fields));
    if (sp.tagger) sp.tagger->write(w);
    if (sp.intent) sp.intent->write(w);
    const std::string a = hp.arch + ".";
    w.set(a + "context_length", gguf::Value::u32((uint32_t)hp.n_ctx_train));
    w.set(a + "embedding_length", gguf::Value::u32((uint32_t)hp.n_embd));
    w.set(a + "block_count", gguf::Value::u32((uint32_t)hp.n_layer));
    w.set(a + "feed_forward_length", gguf::Value::u32((uint32_t)hp.n_ff));
    w.set(a + "attention.head_count", gguf::Value::u32((uint32_t)hp.n_head));
    w.set(a + "attention.head_count_kv", gguf::Value::u32((uint32_t)hp.n_head_kv));
    w.set(a + "rope.freq_base", gguf::Value::f32(hp.rope_base));
    w.set(a + "attention.layer_norm_rms_epsilon", gguf::Value::f32(hp.rms_eps));
    w.set(a + "rope.dimension_count", gguf::Value::u32((uint32_t)hp.n_rot));
    w.set(a + "vocab_size", gguf::Value::u32((uint32_t)hp.n_vocab));
    if (hp.head_dim * hp.n_head != hp.n_embd) {
        w.set(a + "attention.key_length", gguf::Value::u32((uint32_t)hp.head_dim));
        w.set(a + "attention.value_length", gguf::Value::u32((uint32_t)hp.head_dim));
    }
    for (const auto & p : m.params()) {
        const bool matrix = p->ne.size() == 2;
        DType t = matrix ? sp.dtype : DType::DType_f32;
        if (matrix && !row_bytes(t, p->ne[0])) t = DType::DType_f16;  // row length not a block multiple
        std::vector<uint8_t> data = t == DType::DType_f32
                                        ? std::vector<uint8_t>(bytes_of(p->w).begin(), bytes_of(p->w).end())
                                        : quantize_rows(t, p->w.data(), p->ne[1], p->ne[0]);
        w.add_tensor(p->name, (uint32_t)t, p->ne, data);
    }
    w.write(path);
}

void save_adapter(const TrainModel & m, const std::string & path, const std::string & tools_fingerprint,
                  const std::vector<std::string> & copy_fields) {
    if (!m.is_lora()) throw Error(ErrorKind::ErrorKind_invalid_argument, "save_adapter: the model has no LoRA pairs");
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::string(m.hparams().arch));
    w.set("general.type", gguf::Value::string("adapter"));
    w.set("general.name", gguf::Value::string("switchyard-lora"));
    w.set("adapter.type", gguf::Value::string("lora"));
    w.set("adapter.lora.alpha", gguf::Value::f32(m.lora_config().alpha));
    if (!tools_fingerprint.empty()) w.set("switchyard.tools_fingerprint", gguf::Value::string(tools_fingerprint));
    if (!copy_fields.empty()) w.set(kCopyFieldsKey, gguf::Value::strings(copy_fields));
    for (const auto & p : m.params()) w.add_tensor(p->name, (uint32_t)DType::DType_f32, p->ne, bytes_of(p->w));
    w.write(path);
}

std::vector<CopyFieldStat> copy_field_stats(const std::vector<chat::Conversation> & chats, const chat::ChatFormat & format) {
    std::vector<CopyFieldStat> stats;
    std::map<std::string, size_t> index;
    auto stat = [&](const std::string & path) -> CopyFieldStat & {
        auto [it, fresh] = index.emplace(path, stats.size());
        if (fresh) stats.push_back(CopyFieldStat{path, 0, 0});
        return stats[it->second];
    };
    std::map<std::string, std::vector<grammar::ToolSpec>> tool_sets;  // by the tools' JSON text
    for (const chat::Conversation & c : chats) {
        const std::string key = c.tools.dump();
        auto it = tool_sets.find(key);
        if (it == tool_sets.end()) {
            it = tool_sets.emplace(key, grammar::parse_tools(c.tools)).first;
            for (const std::string & p : grammar::copy_candidate_fields(it->second)) stat(p);
        }
        chat::Conversation prefix;
        for (const chat::Message & m : c.messages) {
            if (m.role == "assistant" && !m.tool_calls.empty()) {
                const std::vector<std::string> sources = format.copy_sources(prefix);
                for (const chat::ToolCall & call : m.tool_calls)
                    for (const grammar::ToolSpec & t : it->second) {
                        if (t.name != call.name) continue;
                        grammar::for_each_copy_candidate(t, call.arguments, [&](const std::string & p, const std::string & v) {
                            CopyFieldStat & st = stat(t.name + "." + p);
                            ++st.n;
                            if (grammar::is_copy_span(sources, v)) ++st.n_copied;
                        });
                    }
            }
            prefix.messages.push_back(m);
        }
    }
    return stats;
}

std::vector<std::string> select_copy_fields(const std::vector<CopyFieldStat> & stats, double min_share, int64_t min_count) {
    std::vector<std::string> out;
    for (const CopyFieldStat & s : stats)
        if (s.n >= min_count && (double)s.n_copied >= min_share * (double)s.n) out.push_back(s.path);
    return out;
}

std::vector<std::string> resolve_copy_fields(const std::string & spec, const std::vector<chat::Conversation> & chats,
                                             const chat::ChatFormat & format) {
    if (spec == "none" || spec.empty()) return {};
    const std::vector<CopyFieldStat> stats = copy_field_stats(chats, format);
    if (spec == "auto") return select_copy_fields(stats);
    std::vector<std::string> out;
    for (size_t at = 0; at <= spec.size();) {
        size_t end = spec.find(',', at);
        if (end == std::string::npos) end = spec.size();
        std::string path = spec.substr(at, end - at);
        at = end + 1;
        if (path.empty()) continue;
        bool known = false;
        for (const CopyFieldStat & s : stats) known = known || s.path == path;
        if (!known) {
            std::string names;
            for (const CopyFieldStat & s : stats) names += (names.empty() ? "" : ", ") + s.path;
            throw Error(ErrorKind::ErrorKind_invalid_argument,
                        "--copy-fields: '" + path + "' is not a plain string field of the training tools (candidates: " +
                            (names.empty() ? "none" : names) + ")");
        }
        out.push_back(path);
    }
    return out;
}

std::string merge_lora_file(const std::string & base_path, const std::string & adapter_path, float scale,
                            const std::string & out_path) {
    auto base = engine::Model::load(base_path);
    auto ad = engine::LoraAdapter::load(adapter_path, *base);
    const gguf::File & f = base->file();
    gguf::Writer w;
    w.copy_metadata(f);
    int n_merged = 0;
    for (const auto & t : f.tensors()) {
        const std::vector<int64_t> ne(t.ne, t.ne + t.n_dims);
        const engine::LoraPair * pair = nullptr;
        const WeightView * view = nullptr;
        for (int il = 0; il < base->hparams().n_layer && !pair; ++il) {
            const engine::LayerWeights & L = base->layers()[il];
            const WeightView * views[engine::kProjCount] = {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down};
            for (int pi = 0; pi < engine::kProjCount; ++pi)
                if (t.name == "blk." + std::to_string(il) + "." + engine::proj_tensor_suffix((engine::Proj)pi)) {
                    pair = ad->pair(il, (engine::Proj)pi);
                    view = views[pi];
                }
        }
        if (!pair) {
            w.add_tensor_ref(t.name, t.type, ne, t.data, t.n_bytes);
            continue;
        }
        const std::vector<float> merged = engine::merge_lora_weight(*view, *pair, ad->scale_for(*pair, scale));
        w.add_tensor(t.name, t.type, ne, quantize_rows((DType)t.type, merged.data(), view->n_out, view->n_in));
        ++n_merged;
    }
    w.write(out_path);
    return "merged " + std::to_string(n_merged) + " tensors of " + adapter_path + " (scale " + std::to_string(scale) +
           ") into " + out_path;
}

}  // namespace sy::train
