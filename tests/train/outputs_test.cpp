// PEFT export/import round trip (with the llama q/k row permutation), safetensors bounds checks, the BPE
// trainer, and a from-scratch model saved with its trained vocabulary that the engine loads and runs.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/context.h"
#include "engine/grammar_constraint.h"
#include "grammar/tool_call.h"
#include "train/bpe_trainer.h"
#include "train/outputs.h"
#include "train/peft.h"
#include "train/presets.h"
#include "train/safetensors.h"
#include "train/trainer.h"
#include "train_test_util.h"

namespace sy::train {
namespace {

void make_adapter(const engine::Model & base, const std::string & path) {
    LoraConfig lc;
    lc.rank = 3;
    lc.alpha = 6.0f;
    lc.targets = parse_lora_targets("q,k,down");
    auto tm = TrainModel::lora(base, lc, 2);
    int k = 0;
    for (const auto & p : tm->params())
        for (float & x : p->w) x = std::sin(0.1f * (float)(k++));
    save_adapter(*tm, path);
}

TEST(Peft, ExportImportRoundTripAndLayout) {
    const std::string base_path = test::tiny_model("llama", "f32");
    auto base = engine::Model::load(base_path);
    const std::string ad = test::tmp_path("peft_src.gguf"), dir = test::tmp_path("peft_dir"), back = test::tmp_path("peft_back.gguf");
    make_adapter(*base, ad);
    export_peft(ad, base_path, dir);
    std::ifstream cf(dir + "/adapter_config.json");
    nlohmann::json cfg;
    cf >> cfg;
    EXPECT_EQ(cfg["r"], 3);
    EXPECT_EQ(cfg["lora_alpha"], 6.0);
    EXPECT_EQ(cfg["target_modules"], nlohmann::json({"down_proj", "k_proj", "q_proj"}));
    auto st = read_safetensors(dir + "/adapter_model.safetensors");
    const auto & qa = st.at("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight");
    const auto & qb = st.at("base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight");
    EXPECT_EQ(qa.shape, (std::vector<int64_t>{3, 128}));
    EXPECT_EQ(qb.shape, (std::vector<int64_t>{128, 3}));
    EXPECT_EQ(st.count("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight"), 1u);
    EXPECT_EQ(st.count("base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight"), 0u);

    auto a0 = engine::LoraAdapter::load(ad, *base);
    // GGUF q row 1 (head 0, pair 0, second element) is HF row hd/2 = 16 (head_dim 32).
    const engine::LoraPair * q1 = a0->pair(1, engine::Proj::Proj_q);
    for (int r = 0; r < 3; ++r) EXPECT_EQ(qb.data[16 * 3 + r], q1->b[1 * 3 + r]);

    import_peft(dir, base_path, back);
    auto a1 = engine::LoraAdapter::load(back, *base);
    EXPECT_FLOAT_EQ(a1->alpha(), 6.0f);
    for (int il = 0; il < 2; ++il)
        for (int pi = 0; pi < engine::kProjCount; ++pi) {
            const auto * p0 = a0->pair(il, (engine::Proj)pi);
            const auto * p1 = a1->pair(il, (engine::Proj)pi);
            ASSERT_EQ(p0 == nullptr, p1 == nullptr);
            if (!p0) continue;
            EXPECT_EQ(p0->a, p1->a);
            EXPECT_EQ(p0->b, p1->b);
        }
}

TEST(Safetensors, RejectsOutOfBoundsOffsets) {
    auto make = [](const std::string & header, size_t data_bytes) {
        std::vector<uint8_t> b(8 + header.size() + data_bytes, 0);
        const uint64_t n = header.size();
        std::memcpy(b.data(), &n, 8);
        std::memcpy(b.data() + 8, header.data(), header.size());
        return b;
    };
    EXPECT_NO_THROW(parse_safetensors(make(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8), "ok"));
    EXPECT_THROW(parse_safetensors(make(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4), "short"), Error);
    EXPECT_THROW(parse_safetensors(make(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "size"), Error);
    EXPECT_THROW(parse_safetensors(make(R"({"t":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", 8), "dtype"), Error);
    std::vector<uint8_t> huge = make("{}", 0);
    const uint64_t big = 1ull << 62;
    std::memcpy(huge.data(), &big, 8);
    EXPECT_THROW(parse_safetensors(huge, "len"), Error);
}

std::vector<std::string> sample_texts() {
    std::vector<std::string> t;
    const char * users[] = {"what is the weather in Paris", "set a timer for 5 minutes", "play some jazz music",
                            "what is the weather in Berlin tomorrow", "set an alarm for 7 am"};
    for (int rep = 0; rep < 20; ++rep)
        for (const char * u : users)
            t.push_back(std::string("<|im_start|>user\n") + u + "<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{\"name\": \"x\"}\n</tool_call><|im_end|>\n");
    return t;
}

TEST(Bpe, TrainedVocabularyRoundTripsAndCompresses) {
    BpeTrainParams p;
    p.vocab_size = 400;
    const auto texts = sample_texts();
    tok::Vocab v = train_bpe(texts, p);
    EXPECT_LE(v.n_tokens(), 400);
    EXPECT_GT(v.n_tokens(), 300);
    EXPECT_EQ(v.token_type(v.n_tokens() - 1), tok::TokenType::TokenType_user_defined);
    auto tk = tok::Tokenizer::from_vocab(v);
    tok::EncodeOptions o;
    o.parse_special = true;
    const auto ids = tk->encode(texts[0], o);
    EXPECT_EQ(tk->decode(ids), texts[0]);
    EXPECT_LT(ids.size(), texts[0].size() / 3);  // merges learned
    EXPECT_EQ(ids.front(), *v.find("<|im_start|>"));
    const std::string odd = "ünïcødé 🚀 \x01\xff";  // unseen bytes fall back to byte tokens
    EXPECT_EQ(tk->decode(tk->encode(odd)), odd);
    // Deterministic.
    tok::Vocab v2 = train_bpe(texts, p);
    EXPECT_EQ(v.merges_, v2.merges_);
}

TEST(Bpe, JumpForwardKeepsTheTrainedTokenization) {
    // A trained vocabulary merges `":{"` (the arguments object opening on its first key). After the tool
    // name, the grammar forces `","arguments":{` but not the `"` after it (`{}` is allowed). Forcing the
    // tokens `":` + `{` would put the model off its training text; the forced tokens must be a prefix of
    // the text's own tokenization.
    const nlohmann::ordered_json tools = nlohmann::ordered_json::parse(R"([{"type":"function","function":{"name":"list_tasks","parameters":{
        "type":"object","properties":{"status":{"type":"string","enum":["open","done"]}}}}}])");
    std::vector<std::string> texts;
    for (int i = 0; i < 200; ++i)
        texts.push_back(std::string("{\"name\":\"list_tasks\",\"arguments\":{\"status\":\"") + (i % 2 ? "open" : "done") +
                        "\"}}");
    BpeTrainParams bp;
    bp.vocab_size = 300;
    auto tk = tok::Tokenizer::from_vocab(train_bpe(texts, bp));
    const std::vector<int32_t> want = tk->encode(texts[1]);
    const grammar::ToolCallFormat fmt = grammar::ToolCallFormat::compact();
    auto compiled = engine::bind_grammar(grammar::compile_tool_grammar(tools, "required", false, fmt), *tk);
    ASSERT_NE(std::find_if(want.begin(), want.end(), [&](int32_t id) { return tk->vocab().token_bytes(id) == "\":{\""; }),
              want.end())
        << "the trained vocabulary should merge \":{\"";
    engine::GrammarConstraint gc(compiled, *tk, true);
    size_t k = 0;
    std::string text;
    while (k < want.size()) {
        const std::vector<int32_t> forced = gc.forced_tokens();
        for (int32_t id : forced) {
            ASSERT_LT(k, want.size());
            EXPECT_EQ(id, want[k]) << "forced token " << k << " after '" << text << "'";
            text += tk->vocab().token_bytes(id);
            ++k;
        }
        if (k == want.size()) break;
        gc.accept(want[k], 1.0f);  // what a model trained on these texts samples
        text += tk->vocab().token_bytes(want[k]);
        ++k;
    }
    EXPECT_EQ(text, texts[1]);
}

TEST(FromScratch, SavedModelWithTrainedVocabLoadsAndMatchesEngine) {
    BpeTrainParams bp;
    bp.vocab_size = 320;
    tok::Vocab v = train_bpe(sample_texts(), bp);
    auto tk = tok::Tokenizer::from_vocab(v);
    engine::HParams hp = preset_hparams(*find_model_preset("router-tiny"));
    hp.n_vocab = v.n_tokens();
    hp.n_layer = 2;
    auto tm = TrainModel::create(hp, 1);
    std::vector<TrainExample> ex;
    for (const auto & t : sample_texts()) {
        TrainExample e;
        tok::EncodeOptions o;
        o.parse_special = true;
        e.tokens = tk->encode(t, o);
        e.loss_mask.assign(e.tokens.size(), 1);
        ex.push_back(std::move(e));
        if (ex.size() == 5) break;
    }
    TrainConfig c;
    c.epochs = 30;
    c.batch_tokens = 256;
    c.opt.lr = 3e-3f;
    c.n_threads = 1;
    TrainResult r = train(*tm, ex, {}, c);
    EXPECT_LT(r.losses.back(), r.losses.front());
    const std::string path = test::tmp_path("scratch.gguf");
    save_full_model(*tm, v, path);
    auto m = engine::Model::load(path);
    EXPECT_EQ(m->tokenizer().vocab().n_tokens(), v.n_tokens());
    EXPECT_TRUE(m->hparams().tied_output);
    Batch b;
    b.tokens = ex[0].tokens;
    for (size_t i = 0; i < b.tokens.size(); ++i) {
        b.pos.push_back((int32_t)i);
        b.targets.push_back(0);
        b.loss.push_back(0);
    }
    b.segs = {{0, (int64_t)b.tokens.size()}};
    const auto ours = tm->forward_logits(b);
    engine::ContextParams cp;
    cp.n_ctx = 128;
    cp.n_threads = 1;
    engine::Context ctx(*m, cp);
    std::vector<engine::BatchToken> batch;
    for (size_t i = 0; i < b.tokens.size(); ++i) batch.push_back({b.tokens[i], (int32_t)i, 0, true});
    const auto & theirs = ctx.decode(batch);
    double d = 0, ref = 0;
    for (size_t i = 0; i < ours.size(); ++i) {
        d = std::max(d, (double)std::abs(ours[i] - theirs[i]));
        ref = std::max(ref, (double)std::abs(theirs[i]));
    }
    EXPECT_LT(d, 2e-3 * std::max(1.0, ref));
}

}  // namespace
}  // namespace sy::train
