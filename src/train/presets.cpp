// The from-scratch presets table.
#include "train/presets.h"

#include "train/bpe_trainer.h"
#include "train/data.h"

#include <array>

namespace sy::train {
namespace {

// Vocabularies are small on purpose: with a few hundred merges every piece an unseen word splits into
// occurs often in training (router-tiny, 512: 99.3% of the held-out split's output tokens occur >= 5
// times in 6000 training chats; with 4096, 93.6%), so copying an unseen entity uses trained embeddings.
// router-default is the recipe of the project's default router (docs/training.md, "Router quality").
constexpr std::array<ModelPreset, 4> kPresets = {{
    // name            embd layers heads kv  n_ff  vocab  ctx   epochs lr    batch wd  eval_every
    {"router-default", 128, 4, 4, 2, 384, 512, 512, {5, 3e-3f, 512, 0.1f, 250}, "~0.85M params: the default router"},
    {"router-tiny", 128, 4, 4, 2, 384, 512, 512, {3, 3e-3f, 512, 0.1f, 250}, "~0.85M params: minutes on 6k short chats"},
    {"router-small", 256, 6, 8, 4, 768, 512, 512, {3, 2e-3f, 512, 0.1f, 250}, "~4.9M params: ~4x slower per token"},
    {"router-base", 384, 8, 6, 2, 1152, 1024, 1024, {3, 1e-3f, 1024, 0.1f, 250}, "~14M params: several times slower"},
}};
static_assert(kPresets.size() == 4);

}  // namespace

const ModelPreset * find_model_preset(const std::string & name) {
    for (const auto & p : kPresets)
        if (name == p.name) return &p;
    return nullptr;
}

std::string model_preset_names() {
    std::string s;
    for (const auto & p : kPresets) s += (s.empty() ? "" : ", ") + std::string(p.name);
    return s;
}

engine::HParams preset_hparams(const ModelPreset & p) {
    engine::HParams hp;
    hp.arch = "llama";
    hp.n_vocab = p.n_vocab;
    hp.n_ctx_train = p.n_ctx;
    hp.n_embd = p.n_embd;
    hp.n_layer = p.n_layer;
    hp.n_head = p.n_head;
    hp.n_head_kv = p.n_head_kv;
    hp.head_dim = p.n_embd / p.n_head;
    hp.n_rot = hp.head_dim;
    hp.n_ff = p.n_ff;
    hp.rope_base = 10000.0f;
    hp.rms_eps = 1e-5f;
    hp.tied_output = true;
    return hp;
}

tok::Vocab train_preset_vocab(const std::vector<chat::Conversation> & convs, const chat::ChatFormat & format,
                              int32_t vocab_size) {
    std::vector<std::string> texts;
    texts.reserve(convs.size());
    for (const auto & c : convs) texts.push_back(render_text(c, format));
    BpeTrainParams bp;
    bp.vocab_size = vocab_size;
    return train_bpe(texts, bp);
}

}  // namespace sy::train
