// The model being trained: the engine's llama/qwen2 graph (engine/context.cpp) as explicit forward and
// backward passes over a packed batch (layers.h). Three ways to build one:
//   - create():   from scratch, every weight an f32 parameter (random init), for router presets;
//   - full():     every weight of an existing model copied to f32 parameters (full fine-tune);
//   - lora():     a frozen base of any GGUF type (zero-copy views, dequantized tile by tile, or kept in bf16
//                 packs for bf16 products) plus trainable LoRA pairs on a chosen subset of q, k, v, o,
//                 gate, up, down.
// Tensors keep their GGUF names and ne order (ne0 = row length), so saving is a straight copy.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/lora.h"
#include "engine/model.h"
#include "train/gemm.h"
#include "train/layers.h"

namespace sy::train {

// A trainable f32 tensor and its gradient.
struct Param {
    std::string name;         // GGUF tensor name, e.g. "blk.0.attn_q.weight" or "...weight.lora_a"
    std::vector<int64_t> ne;  // GGUF order: ne[0] = row length
    std::vector<float> w;     // values, row-major
    std::vector<float> g;     // gradient (same size), accumulated by backward
    bool decay = true;        // AdamW weight decay applies (false for norms and biases)
    int64_t size() const { return (int64_t)w.size(); }
};

// A weight matrix [n_out][n_in]: a trainable parameter, or a frozen view of any GGUF type.
struct MatRef {
    WeightView view;      // always valid (points into param->w when trainable)
    Param * param = nullptr;
    std::shared_ptr<const PackedBf16> packed;  // frozen only: view kept in bf16 (built on first bf16 use)
};

// A vector (norm weight or bias): trainable, or frozen f32 owned elsewhere.
struct VecRef {
    const float * data = nullptr;
    Param * param = nullptr;
};

struct LoraConfig {
    int32_t rank = 16;
    float alpha = 32.0f;
    float dropout = 0.0f;
    std::array<bool, engine::kProjCount> targets{true, true, true, true, true, true, true};
};
// "q,k,v,o" -> targets; throws sy::Error naming an unknown projection.
std::array<bool, engine::kProjCount> parse_lora_targets(const std::string & list);

struct TrainLayer {
    VecRef attn_norm, ffn_norm;                    // [n_embd]
    VecRef bq, bk, bv;                             // qwen2 only
    std::array<MatRef, engine::kProjCount> mats;   // indexed by engine::Proj
    std::array<Param *, engine::kProjCount> lora_a{}, lora_b{};  // [rank][n_in], [n_out][rank]; null if absent
};

// One packed batch: examples laid end to end; tokens[i] predicts targets[i] where loss[i] is set.
struct Batch {
    std::vector<int32_t> tokens;   // [n]
    std::vector<int32_t> pos;      // [n] position within its segment
    std::vector<int32_t> targets;  // [n] next token (meaningful where loss[i])
    std::vector<uint8_t> loss;     // [n] 1 = this position's prediction counts
    std::vector<Segment> segs;
    int64_t n_loss() const;
};

class TrainModel {
public:
    static std::unique_ptr<TrainModel> create(const engine::HParams & hp, uint64_t seed);
    static std::unique_ptr<TrainModel> full(const engine::Model & base);
    // The base must outlive the TrainModel.
    static std::unique_ptr<TrainModel> lora(const engine::Model & base, const LoraConfig & cfg, uint64_t seed);

    const engine::HParams & hparams() const { return hp_; }
    const engine::ArchTraits & traits() const { return *traits_; }
    bool is_lora() const { return lora_cfg_.rank > 0; }
    const LoraConfig & lora_config() const { return lora_cfg_; }
    float lora_scale() const { return lora_cfg_.alpha / (float)lora_cfg_.rank; }

    // Trainable parameters in a fixed order (the order of the optimizer state and of checkpoints).
    const std::vector<std::unique_ptr<Param>> & params() const { return params_; }
    Param * find_param(const std::string & name) const;
    int64_t n_trainable() const;
    void zero_grad();

    const MatRef & token_embd() const { return token_embd_; }
    const MatRef & output() const { return output_; }
    const VecRef & output_norm() const { return output_norm_; }
    const std::vector<TrainLayer> & layers() const { return layers_; }

    // Frozen weights (LoRA bases) are converted once to bf16 packs (gemm.h PackedBf16, ~4 bytes per weight
    // for the two layouts, a quantized base dequantized tile by tile into them) on the first forward that
    // multiplies in bf16 (frozen_matmul() = bf16 with the native kernel), and used for the rest of the run.
    // Off: no packs (freed), every product converts its tiles per call. On by default.
    void set_pack_frozen(bool on);
    size_t packed_bytes() const;  // bytes held by the packs (0 before the first bf16 forward)

    // Forward and backward over the batch: gradients accumulate (+=) into every Param::g, the loss rows are
    // weighted by loss_weight (1 / total loss tokens of the optimizer step). Returns Σ weighted loss.
    // `dropout_seed` varies the LoRA dropout masks per micro-batch.
    double forward_backward(const Batch & b, float loss_weight, uint64_t dropout_seed);
    // Forward only: Σ unweighted loss over loss rows (evaluation; no dropout).
    double forward_loss(const Batch & b);
    // Forward only: logits [n][n_vocab] for every position (tests: compare with the engine).
    std::vector<float> forward_logits(const Batch & b);

private:
    TrainModel();
    struct Acts;
    double run(const Batch & b, bool backward, bool all_logits, float loss_weight, uint64_t dropout_seed,
               std::vector<float> * logits_out);
    Param * add_param(std::string name, std::vector<int64_t> ne, bool decay);
    void set_rope_factors(const engine::Model & base);
    void ensure_packed();

    engine::HParams hp_;
    const engine::ArchTraits * traits_ = nullptr;
    const engine::Model * base_ = nullptr;
    bool full_ = false;
    LoraConfig lora_cfg_{0, 0.0f, 0.0f, {}};
    std::vector<std::unique_ptr<Param>> params_;
    MatRef token_embd_, output_;
    VecRef output_norm_;
    std::vector<TrainLayer> layers_;
    std::vector<float> rope_freqs_;
    std::unique_ptr<Acts> acts_;
    bool pack_frozen_ = true, packs_built_ = false;

public:
    ~TrainModel();
};

}  // namespace sy::train
