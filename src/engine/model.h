// A decoder-only transformer loaded from GGUF: hyper-parameters, zero-copy weight views and the
// architecture traits that tell the shared forward pass (forward.cpp) what differs between families.
//
// Dimension order everywhere: activations are [n_tok][n] row-major; a weight W is [n_out][n_in]
// (GGUF ne0 = n_in) and is applied as y = x · Wᵀ (+ b) (+ LoRA, see lora.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "tensor/ops.h"
#include "tokenizer/tokenizer.h"

namespace sy::engine {

// What an architecture file (src/engine/models/*.cpp) declares about its family.
struct ArchTraits {
    const char * name;          // general.architecture value, e.g. "llama"
    RopeMode rope_mode;         // llama: normal (pairs 2i,2i+1); qwen2: neox (pairs i, i+n_rot/2)
    bool qkv_bias;              // qwen2: attn_q/k/v carry a bias
    float default_rope_base;    // when <arch>.rope.freq_base is absent
    float default_rms_eps;      // when <arch>.attention.layer_norm_rms_epsilon is absent
};

struct HParams {
    std::string arch;
    int32_t n_vocab = 0;
    int32_t n_ctx_train = 0;
    int32_t n_embd = 0;
    int32_t n_layer = 0;
    int32_t n_head = 0;
    int32_t n_head_kv = 0;
    int32_t head_dim = 0;   // key/value length per head
    int32_t n_rot = 0;      // rotated dims per head
    int32_t n_ff = 0;
    float rope_base = 10000.0f;
    float rope_freq_scale = 1.0f;  // 1 / linear scaling factor
    float rms_eps = 1e-5f;
    bool tied_output = false;  // output head reuses token_embd
};

// A bias vector of the model ([n] f32, dequantized at load if stored otherwise).
struct Bias {
    std::vector<float> data;
    bool empty() const { return data.empty(); }
};

struct LayerWeights {
    std::vector<float> attn_norm;  // [n_embd]
    WeightView wq, wk, wv, wo;     // [n_head*hd][n_embd], [n_kv*hd][n_embd] x2, [n_embd][n_head*hd]
    Bias bq, bk, bv;               // qwen2 only
    std::vector<float> ffn_norm;   // [n_embd]
    WeightView w_gate, w_up;       // [n_ff][n_embd]
    WeightView w_down;             // [n_embd][n_ff]
};

class Model {
public:
    // Loads `path` (mmap). Throws sy::Error naming what is missing or inconsistent.
    static std::unique_ptr<Model> load(const std::string & path);

    const HParams & hparams() const { return hp_; }
    const ArchTraits & traits() const { return *traits_; }
    const tok::Tokenizer & tokenizer() const { return *tokenizer_; }
    const gguf::File & file() const { return file_; }

    const WeightView & token_embd() const { return token_embd_; }  // [n_vocab][n_embd]
    const WeightView & output() const { return output_; }          // [n_vocab][n_embd] (= token_embd if tied)
    const std::vector<float> & output_norm() const { return output_norm_; }
    const std::vector<LayerWeights> & layers() const { return layers_; }
    const std::vector<float> & rope_freq_factors() const { return rope_freqs_; }  // [n_rot/2] or empty

    uint64_t n_params() const { return n_params_; }
    uint64_t weight_bytes() const { return weight_bytes_; }
    std::string describe() const;  // one line: arch, sizes, dtype mix

private:
    explicit Model(gguf::File file) : file_(std::move(file)) {}
    // Gives each matmul weight with a packed layout (tensor/matmul_pack.h) its row-interleaved copy and
    // releases the mapped pages it was packed from. SWITCHYARD_REPACK=0 skips it.
    void pack_weights();

    gguf::File file_;
    const ArchTraits * traits_ = nullptr;
    HParams hp_;
    std::unique_ptr<tok::Tokenizer> tokenizer_;
    WeightView token_embd_, output_;
    std::vector<float> output_norm_;
    std::vector<float> rope_freqs_;
    std::vector<LayerWeights> layers_;
    std::vector<std::shared_ptr<uint8_t>> packed_;  // owners of the WeightView::packed buffers
    uint64_t n_params_ = 0;
    uint64_t weight_bytes_ = 0;
};

// The architecture registry (arch_registry.cpp): one row per src/engine/models/*.cpp file.
const ArchTraits * find_arch(const std::string & name);
std::string supported_archs();  // "llama, qwen2"

}  // namespace sy::engine
