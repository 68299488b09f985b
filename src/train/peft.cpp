// PEFT export and import (see peft.h).
#include "train/peft.h"

#include <filesystem>
#include <set>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/lora.h"
#include "train/safetensors.h"

namespace sy::train {
namespace {

const char * peft_module(engine::Proj p) {
    switch (p) {
        case engine::Proj::Proj_q: return "self_attn.q_proj";
        case engine::Proj::Proj_k: return "self_attn.k_proj";
        case engine::Proj::Proj_v: return "self_attn.v_proj";
        case engine::Proj::Proj_o: return "self_attn.o_proj";
        case engine::Proj::Proj_gate: return "mlp.gate_proj";
        case engine::Proj::Proj_up: return "mlp.up_proj";
        case engine::Proj::Proj_down: return "mlp.down_proj";
    }
    return "";
}

std::string peft_name(int il, engine::Proj p, const char * ab) {
    return "base_model.model.model.layers." + std::to_string(il) + "." + peft_module(p) + ".lora_" + ab + ".weight";
}

// Row permutation of llama q/k between Hugging Face order (per head: [2][hd/2]) and GGUF order ([hd/2][2]).
// Returns, for each GGUF row, the Hugging Face row it holds.
std::vector<int64_t> gguf_from_hf_rows(int64_t n_rows, int64_t n_head) {
    const int64_t hd = n_rows / n_head, half = hd / 2;
    std::vector<int64_t> src((size_t)n_rows);
    for (int64_t h = 0; h < n_head; ++h)
        for (int64_t i = 0; i < half; ++i)
            for (int64_t j = 0; j < 2; ++j) src[h * hd + i * 2 + j] = h * hd + j * half + i;
    return src;
}

bool needs_permute(const engine::Model & m, engine::Proj p) {
    return m.traits().rope_mode == RopeMode::RopeMode_normal && (p == engine::Proj::Proj_q || p == engine::Proj::Proj_k);
}

int64_t heads_of(const engine::Model & m, engine::Proj p) {
    return p == engine::Proj::Proj_q ? m.hparams().n_head : m.hparams().n_head_kv;
}

}  // namespace

std::string export_peft(const std::string & adapter_gguf, const std::string & base_gguf, const std::string & dir) {
    auto base = engine::Model::load(base_gguf);
    auto ad = engine::LoraAdapter::load(adapter_gguf, *base);
    std::map<std::string, StTensor> tensors;
    std::set<std::string> modules;
    int32_t rank = 0;
    for (int il = 0; il < base->hparams().n_layer; ++il)
        for (int pi = 0; pi < engine::kProjCount; ++pi) {
            const auto p = (engine::Proj)pi;
            const engine::LoraPair * pr = ad->pair(il, p);
            if (!pr) continue;
            if (rank && pr->rank != rank)
                throw Error(ErrorKind::ErrorKind_unsupported, "export-peft: adapters with mixed ranks are not supported");
            rank = pr->rank;
            modules.insert(std::string(peft_module(p)).substr(std::string(peft_module(p)).find('.') + 1));
            tensors[peft_name(il, p, "A")] = StTensor{{pr->rank, pr->n_in}, pr->a};
            StTensor b{{pr->n_out, pr->rank}, pr->b};
            if (needs_permute(*base, p)) {  // GGUF row r holds HF row src[r]
                const auto src = gguf_from_hf_rows(pr->n_out, heads_of(*base, p));
                for (int64_t r = 0; r < pr->n_out; ++r)
                    std::copy_n(pr->b.data() + r * pr->rank, pr->rank, b.data.data() + src[r] * pr->rank);
            }
            tensors[peft_name(il, p, "B")] = std::move(b);
        }
    std::filesystem::create_directories(dir);
    write_safetensors(dir + "/adapter_model.safetensors", tensors, {{"format", "pt"}});
    const float alpha = ad->alpha() != 0.0f ? ad->alpha() : (float)rank;
    nlohmann::json cfg = {{"peft_type", "LORA"},
                          {"task_type", "CAUSAL_LM"},
                          {"r", rank},
                          {"lora_alpha", alpha},
                          {"lora_dropout", 0.0},
                          {"bias", "none"},
                          {"fan_in_fan_out", false},
                          {"inference_mode", true},
                          {"target_modules", std::vector<std::string>(modules.begin(), modules.end())},
                          {"base_model_name_or_path", base->file().get_string("general.name").value_or("")}};
    std::ofstream(dir + "/adapter_config.json") << cfg.dump(2) << "\n";
    return "wrote " + dir + "/adapter_model.safetensors (" + std::to_string(tensors.size()) +
           " tensors, rank " + std::to_string(rank) + ") and adapter_config.json";
}

std::string import_peft(const std::string & dir, const std::string & base_gguf, const std::string & out_gguf) {
    auto base = engine::Model::load(base_gguf);
    std::ifstream cf(dir + "/adapter_config.json");
    if (!cf) throw Error(ErrorKind::ErrorKind_io, "cannot open '" + dir + "/adapter_config.json'");
    nlohmann::json cfg;
    try {
        cf >> cfg;
    } catch (const nlohmann::json::exception & e) {
        throw Error(ErrorKind::ErrorKind_invalid_file, dir + "/adapter_config.json: " + e.what());
    }
    if (cfg.value("peft_type", "LORA") != "LORA")
        throw Error(ErrorKind::ErrorKind_unsupported, "import-peft: only LORA adapters are supported");
    if (cfg.value("use_dora", false) || cfg.value("use_rslora", false))
        throw Error(ErrorKind::ErrorKind_unsupported, "import-peft: DoRA / rsLoRA adapters are not supported");
    const float alpha = cfg.value("lora_alpha", 0.0f);
    auto tensors = read_safetensors(dir + "/adapter_model.safetensors");

    gguf::Writer w;
    w.set("general.architecture", gguf::Value::string(base->hparams().arch));
    w.set("general.type", gguf::Value::string("adapter"));
    w.set("general.name", gguf::Value::string("peft-import"));
    w.set("adapter.type", gguf::Value::string("lora"));
    w.set("adapter.lora.alpha", gguf::Value::f32(alpha));
    int n = 0;
    auto as_bytes = [](const std::vector<float> & v) {
        return std::span<const uint8_t>(reinterpret_cast<const uint8_t *>(v.data()), v.size() * 4);
    };
    for (int il = 0; il < base->hparams().n_layer; ++il) {
        const engine::LayerWeights & L = base->layers()[il];
        const WeightView * views[engine::kProjCount] = {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down};
        for (int pi = 0; pi < engine::kProjCount; ++pi) {
            const auto p = (engine::Proj)pi;
            auto ia = tensors.find(peft_name(il, p, "A")), ib = tensors.find(peft_name(il, p, "B"));
            if (ia == tensors.end() && ib == tensors.end()) continue;
            if (ia == tensors.end() || ib == tensors.end())
                throw Error(ErrorKind::ErrorKind_invalid_file, "import-peft: layer " + std::to_string(il) + " " +
                                                                   peft_module(p) + " has only one of lora_A / lora_B");
            const StTensor & A = ia->second;
            StTensor B = ib->second;
            const int64_t n_in = views[pi]->n_in, n_out = views[pi]->n_out;
            if (A.shape.size() != 2 || B.shape.size() != 2 || A.shape[1] != n_in || B.shape[0] != n_out || A.shape[0] != B.shape[1])
                throw Error(ErrorKind::ErrorKind_invalid_file, "import-peft: " + ia->first +
                                                                   " / lora_B shapes do not match the base ([r, in] and [out, r])");
            const int64_t r = A.shape[0];
            if (needs_permute(*base, p)) {
                const auto src = gguf_from_hf_rows(n_out, heads_of(*base, p));
                std::vector<float> perm(B.data.size());
                for (int64_t row = 0; row < n_out; ++row)
                    std::copy_n(B.data.data() + src[row] * r, r, perm.data() + row * r);
                B.data = std::move(perm);
            }
            const std::string bn = "blk." + std::to_string(il) + "." + engine::proj_tensor_suffix(p);
            w.add_tensor(bn + ".lora_a", (uint32_t)DType::DType_f32, std::vector<int64_t>{n_in, r}, as_bytes(A.data));
            w.add_tensor(bn + ".lora_b", (uint32_t)DType::DType_f32, std::vector<int64_t>{r, n_out}, as_bytes(B.data));
            ++n;
        }
    }
    if (n == 0) throw Error(ErrorKind::ErrorKind_invalid_file, "import-peft: no lora_A/lora_B pairs matched the base model");
    w.write(out_gguf);
    return "wrote " + out_gguf + " (" + std::to_string(n) + " LoRA pairs, alpha " + std::to_string(alpha) + ")";
}

}  // namespace sy::train
