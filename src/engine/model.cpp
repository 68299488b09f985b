// Model loading: reads hyper-parameters from `<arch>.*` metadata, checks every weight's presence, type
// and shape, and keeps zero-copy views into the mapping. Norm vectors and biases (small, 1-D) are copied
// to f32 at load time.
#include "engine/model.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

#include "tensor/matmul_pack.h"
#include "tensor/quant.h"

namespace sy::engine {
namespace {

[[noreturn]] void fail(const std::string & path, const std::string & msg) {
    throw Error(ErrorKind::ErrorKind_invalid_file, path + ": " + msg);
}

struct Loader {
    const gguf::File & f;
    const std::string & arch;

    std::optional<int64_t> opt_int(const std::string & key) const {
        auto v = f.get_i64(arch + "." + key);
        return v;
    }
    int32_t req_int(const std::string & key) const {
        auto v = opt_int(key);
        if (!v) fail(f.path(), "missing metadata key '" + arch + "." + key + "'");
        if (*v <= 0 || *v > (1 << 30)) fail(f.path(), "metadata '" + arch + "." + key + "' out of range");
        return (int32_t)*v;
    }
    std::optional<double> opt_f(const std::string & key) const { return f.get_f64(arch + "." + key); }

    const gguf::TensorInfo & tensor(const std::string & name) const {
        const gguf::TensorInfo * t = f.find_tensor(name);
        if (!t) fail(f.path(), "missing tensor '" + name + "'");
        return *t;
    }

    void check_shape(const gguf::TensorInfo & t, int64_t ne0, int64_t ne1) const {
        const bool ok = (ne1 == 0) ? (t.n_dims == 1 && t.ne[0] == ne0)
                                   : (t.n_dims == 2 && t.ne[0] == ne0 && t.ne[1] == ne1);
        if (!ok) {
            std::string got = std::to_string(t.ne[0]);
            for (uint32_t i = 1; i < t.n_dims; ++i) got += "x" + std::to_string(t.ne[i]);
            std::string want = std::to_string(ne0) + (ne1 ? "x" + std::to_string(ne1) : "");
            fail(f.path(), "tensor '" + t.name + "' has shape " + got + ", expected " + want);
        }
    }

    WeightView matrix(const std::string & name, int64_t n_in, int64_t n_out) const {
        const gguf::TensorInfo & t = tensor(name);
        check_shape(t, n_in, n_out);
        const DType type = (DType)t.type;
        if (!matmul_supported(type))
            fail(f.path(), "tensor '" + name + "' has type " + dtype_info(type).name +
                               ", which has no matmul kernel in this build");
        WeightView w;
        w.type = type;
        w.n_in = n_in;
        w.n_out = n_out;
        w.data = t.data;
        w.row_stride = *row_bytes(type, n_in);
        return w;
    }

    std::vector<float> vec(const std::string & name, int64_t n) const {
        const gguf::TensorInfo & t = tensor(name);
        check_shape(t, n, 0);
        const DType type = (DType)t.type;
        if (!dtype_supported(type))
            fail(f.path(), "tensor '" + name + "' has unsupported type " + dtype_info(type).name);
        std::vector<float> out((size_t)n);
        dequantize_row(type, t.data, out.data(), n);
        return out;
    }
};

}  // namespace

std::unique_ptr<Model> Model::load(const std::string & path) {
    std::unique_ptr<Model> m(new Model(gguf::File::open(path)));
    const gguf::File & f = m->file_;

    auto arch = f.get_string("general.architecture");
    if (!arch) fail(path, "missing metadata key 'general.architecture'");
    m->traits_ = find_arch(*arch);
    if (!m->traits_)
        throw Error(ErrorKind::ErrorKind_unsupported,
                    path + ": architecture '" + *arch + "' is not supported (supported: " + supported_archs() + ")");
    if (auto type = f.get_string("general.type"); type && *type != "model")
        throw Error(ErrorKind::ErrorKind_invalid_argument,
                    path + ": general.type is '" + *type + "', not a model (a LoRA adapter goes to --lora)");

    Loader L{f, *arch};
    HParams & hp = m->hp_;
    hp.arch = *arch;
    hp.n_embd = L.req_int("embedding_length");
    hp.n_layer = L.req_int("block_count");
    hp.n_ff = L.req_int("feed_forward_length");
    hp.n_head = L.req_int("attention.head_count");
    hp.n_head_kv = L.opt_int("attention.head_count_kv").value_or(hp.n_head);
    hp.n_ctx_train = (int32_t)L.opt_int("context_length").value_or(2048);
    if (hp.n_head_kv <= 0 || hp.n_head % hp.n_head_kv != 0)
        fail(path, "attention.head_count (" + std::to_string(hp.n_head) + ") is not a multiple of head_count_kv (" +
                       std::to_string(hp.n_head_kv) + ")");
    hp.head_dim = (int32_t)L.opt_int("attention.key_length").value_or(hp.n_embd / hp.n_head);
    if (L.opt_int("attention.value_length").value_or(hp.head_dim) != hp.head_dim)
        fail(path, "attention.value_length differs from key_length; not supported");
    hp.n_rot = (int32_t)L.opt_int("rope.dimension_count").value_or(hp.head_dim);
    if (hp.n_rot <= 0 || hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0) fail(path, "rope.dimension_count out of range");
    hp.rope_base = (float)L.opt_f("rope.freq_base").value_or(m->traits_->default_rope_base);
    hp.rms_eps = (float)L.opt_f("attention.layer_norm_rms_epsilon").value_or(m->traits_->default_rms_eps);
    if (auto st = f.get_string(*arch + ".rope.scaling.type"); st && *st == "linear") {
        const double factor = L.opt_f("rope.scaling.factor").value_or(1.0);
        if (factor > 0) hp.rope_freq_scale = (float)(1.0 / factor);
    } else if (auto sf = L.opt_f("rope.scale_linear")) {
        if (*sf > 0) hp.rope_freq_scale = (float)(1.0 / *sf);
    }

    m->tokenizer_ = tok::Tokenizer::from_gguf(f);
    const gguf::TensorInfo & embd = L.tensor("token_embd.weight");
    if (embd.n_dims != 2 || embd.ne[0] != hp.n_embd) fail(path, "token_embd.weight: ne[0] must equal embedding_length");
    hp.n_vocab = (int32_t)embd.ne[1];
    if (hp.n_vocab < m->tokenizer_->vocab().n_tokens())
        fail(path, "token_embd.weight has " + std::to_string(hp.n_vocab) + " rows but the vocabulary has " +
                       std::to_string(m->tokenizer_->vocab().n_tokens()) + " tokens");

    m->token_embd_ = L.matrix("token_embd.weight", hp.n_embd, hp.n_vocab);
    m->output_norm_ = L.vec("output_norm.weight", hp.n_embd);
    if (f.find_tensor("output.weight")) {
        m->output_ = L.matrix("output.weight", hp.n_embd, hp.n_vocab);
    } else {
        hp.tied_output = true;
        m->output_ = m->token_embd_;
    }
    if (f.find_tensor("rope_freqs.weight")) m->rope_freqs_ = L.vec("rope_freqs.weight", hp.n_rot / 2);

    const int64_t q_dim = (int64_t)hp.n_head * hp.head_dim, kv_dim = (int64_t)hp.n_head_kv * hp.head_dim;
    m->layers_.resize(hp.n_layer);
    for (int il = 0; il < hp.n_layer; ++il) {
        LayerWeights & l = m->layers_[il];
        const std::string p = "blk." + std::to_string(il) + ".";
        l.attn_norm = L.vec(p + "attn_norm.weight", hp.n_embd);
        l.wq = L.matrix(p + "attn_q.weight", hp.n_embd, q_dim);
        l.wk = L.matrix(p + "attn_k.weight", hp.n_embd, kv_dim);
        l.wv = L.matrix(p + "attn_v.weight", hp.n_embd, kv_dim);
        l.wo = L.matrix(p + "attn_output.weight", q_dim, hp.n_embd);
        if (m->traits_->qkv_bias) {
            l.bq.data = L.vec(p + "attn_q.bias", q_dim);
            l.bk.data = L.vec(p + "attn_k.bias", kv_dim);
            l.bv.data = L.vec(p + "attn_v.bias", kv_dim);
        }
        l.ffn_norm = L.vec(p + "ffn_norm.weight", hp.n_embd);
        l.w_gate = L.matrix(p + "ffn_gate.weight", hp.n_embd, hp.n_ff);
        l.w_up = L.matrix(p + "ffn_up.weight", hp.n_embd, hp.n_ff);
        l.w_down = L.matrix(p + "ffn_down.weight", hp.n_ff, hp.n_embd);
    }

    m->pack_weights();
    f.drop_metadata_pages();  // vocabulary and merges are in the tokenizer now
    for (const auto & t : f.tensors()) {
        m->n_params_ += (uint64_t)t.n_elements();
        m->weight_bytes_ += t.n_bytes;
    }
    return m;
}

void Model::pack_weights() {
    if (const char * env = std::getenv("SWITCHYARD_REPACK"); env && std::strcmp(env, "0") == 0) return;
    std::vector<WeightView *> views;
    for (LayerWeights & l : layers_)
        for (WeightView * v : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) views.push_back(v);
    views.push_back(&output_);  // token_embd_ itself is only read row by row (embedding lookups)
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (WeightView * v : views) {
        const size_t bytes = matmul_packed_bytes(v->type, v->n_in, v->n_out);
        if (bytes == 0) continue;
        uint8_t * buf = (uint8_t *)std::aligned_alloc(64, (bytes + 63) & ~(size_t)63);
        if (!buf) throw Error(ErrorKind::ErrorKind_io, "out of memory packing weights of " + file_.path());
        packed_.emplace_back(buf, std::free);
        // Packed in slices of about 8 MiB of source rows, each slice's mapped pages dropped once copied, so
        // the resident size never holds a whole large tensor twice (the tied 152k-row output head of a Qwen
        // model is ~75 MiB). The mapping is read-only and file-backed: dropping pages only lowers the resident
        // size (a later row lookup reads them back from the file). Big slices are split over two threads.
        const int64_t groups = matmul_pack_groups(v->n_out);
        const size_t group_src_bytes = (size_t)kPackRows * v->row_stride;
        const int64_t slice = std::max<int64_t>(1, (int64_t)(((size_t)8 << 20) / std::max<size_t>(group_src_bytes, 1)));
        const bool two_threads = bytes >= ((size_t)8 << 20) && std::thread::hardware_concurrency() > 1;
        uintptr_t dropped = ((uintptr_t)v->data + page - 1) & ~(uintptr_t)(page - 1);
        for (int64_t g0 = 0; g0 < groups; g0 += slice) {
            const int64_t g1 = std::min(groups, g0 + slice);
            if (two_threads && g1 - g0 > 1) {
                const int64_t mid = g0 + (g1 - g0) / 2;
                std::thread helper([&] { matmul_pack(*v, buf, mid, g1); });
                matmul_pack(*v, buf, g0, mid);
                helper.join();
            } else {
                matmul_pack(*v, buf, g0, g1);
            }
            const int64_t rows_done = std::min<int64_t>(v->n_out, g1 * kPackRows);
            const uintptr_t hi = ((uintptr_t)v->data + (size_t)rows_done * v->row_stride) & ~(uintptr_t)(page - 1);
            if (hi > dropped) {
                madvise((void *)dropped, hi - dropped, MADV_DONTNEED);
                dropped = hi;
            }
        }
        v->packed = buf;
    }
}

std::string Model::describe() const {
    std::map<std::string, int> types;
    for (const auto & t : file_.tensors()) types[dtype_info((DType)t.type).name]++;
    std::string mix;
    for (const auto & [k, v] : types) mix += (mix.empty() ? "" : " ") + k + ":" + std::to_string(v);
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s, %.1fM params, %.1f MiB, n_embd %d, n_layer %d, heads %d/%d, n_ff %d, vocab %d",
                  hp_.arch.c_str(), n_params_ / 1e6, weight_bytes_ / 1048576.0, hp_.n_embd, hp_.n_layer,
                  hp_.n_head, hp_.n_head_kv, hp_.n_ff, hp_.n_vocab);
    return std::string(buf) + " [" + mix + "]";
}

}  // namespace sy::engine
