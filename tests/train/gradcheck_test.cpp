// Every layer's backward against central finite differences in float64: the loss is L = Σ r ⊙ y for a
// fixed random r (so dL/dy = r), and each input/parameter element's analytic gradient is compared with
// (L(θ+h) − L(θ−h)) / 2h, h = 1e-5.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "tensor/quant.h"
#include "train/gemm.h"
#include "train/layers.h"

namespace sy::train {
namespace {

using Vec = std::vector<double>;

Vec randn(size_t n, uint64_t seed, double scale = 1.0) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> d(0.0, scale);
    Vec v(n);
    for (auto & x : v) x = d(rng);
    return v;
}

double dot(const Vec & a, const Vec & b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

// Checks d loss / d x against FD for every element of x (loss reads x through the closure).
void check_grad(const char * what, Vec & x, const Vec & analytic, const std::function<double()> & loss,
                double tol = 1e-6) {
    ASSERT_EQ(x.size(), analytic.size()) << what;
    const double h = 1e-5;
    double max_err = 0, max_g = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        const double keep = x[i];
        x[i] = keep + h;
        const double lp = loss();
        x[i] = keep - h;
        const double lm = loss();
        x[i] = keep;
        const double fd = (lp - lm) / (2 * h);
        max_err = std::max(max_err, std::abs(fd - analytic[i]));
        max_g = std::max(max_g, std::abs(fd));
    }
    EXPECT_GT(max_g, 1e-3) << what << ": gradient is trivially zero";
    EXPECT_LT(max_err / std::max(1.0, max_g), tol) << what << " max abs err " << max_err;
}

TEST(Gradcheck, Embedding) {
    const int64_t V = 7, d = 5, n = 6;
    std::vector<int32_t> tok = {1, 3, 1, 6, 0, 3};
    Vec table = randn(V * d, 1), r = randn(n * d, 2), y(n * d);
    auto loss = [&] {
        embedding_forward(table.data(), tok.data(), n, d, y.data());
        return dot(y, r);
    };
    Vec g(V * d, 0.0);
    embedding_backward(tok.data(), n, d, r.data(), g.data());
    check_grad("table", table, g, loss);
}

TEST(Gradcheck, RmsNorm) {
    const int64_t n = 4, d = 8;
    Vec x = randn(n * d, 3), w = randn(d, 4), r = randn(n * d, 5), y(n * d), rstd(n);
    auto loss = [&] {
        rmsnorm_forward(x.data(), w.data(), n, d, 1e-5, y.data(), rstd.data());
        return dot(y, r);
    };
    loss();
    Vec dx(n * d, 0.0), dw(d, 0.0);
    rmsnorm_backward(x.data(), w.data(), rstd.data(), r.data(), n, d, dx.data(), dw.data());
    check_grad("x", x, dx, loss);
    check_grad("w", w, dw, loss);
}

TEST(Gradcheck, SwiGlu) {
    const int64_t n = 20;
    Vec ga = randn(n, 6, 2.0), up = randn(n, 7), r = randn(n, 8), y(n);
    auto loss = [&] {
        swiglu_forward(ga.data(), up.data(), n, y.data());
        return dot(y, r);
    };
    Vec dg(n), du(n);
    swiglu_backward(ga.data(), up.data(), r.data(), n, dg.data(), du.data());
    check_grad("gate", ga, dg, loss);
    check_grad("up", up, du, loss);
}

TEST(Gradcheck, CrossEntropy) {
    const int64_t m = 3, V = 11;
    Vec z = randn(m * V, 9, 2.0), w = {0.5, 0.0, 1.5};
    std::vector<int32_t> tgt = {4, 2, 10};
    auto loss = [&] { return cross_entropy_forward(z.data(), tgt.data(), w.data(), m, V); };
    Vec dz(m * V);
    const double l = cross_entropy_backward(z.data(), tgt.data(), w.data(), m, V, dz.data());
    EXPECT_NEAR(l, loss(), 1e-12);
    check_grad("logits", z, dz, loss);
    // Uniform logits: loss = Σw · ln V.
    Vec zero(m * V, 0.0);
    EXPECT_NEAR(cross_entropy_forward(zero.data(), tgt.data(), w.data(), m, V), 2.0 * std::log((double)V), 1e-12);
}

void rope_check(RopeMode mode, int n_rot) {
    const int64_t n = 3;
    const int nh = 2, hd = 8;
    std::vector<int32_t> pos = {0, 5, 17};
    std::vector<float> c(n * n_rot / 2), s(n * n_rot / 2);
    rope_tables(pos.data(), n, n_rot, 10000.0f, 1.0f, nullptr, c.data(), s.data());
    Vec x = randn(n * nh * hd, 10), r = randn(n * nh * hd, 11);
    auto loss = [&] {
        Vec y = x;
        rope_forward(y.data(), n, nh, hd, n_rot, c.data(), s.data(), mode);
        return dot(y, r);
    };
    Vec dx = r;
    rope_backward(dx.data(), n, nh, hd, n_rot, c.data(), s.data(), mode);
    check_grad("x", x, dx, loss);
}

TEST(Gradcheck, RopeNormalAndNeox) {
    rope_check(RopeMode::RopeMode_normal, 8);
    rope_check(RopeMode::RopeMode_neox, 8);
    rope_check(RopeMode::RopeMode_neox, 4);  // partial rotation
}

TEST(Gradcheck, RopeMatchesEngineKernel) {
    // The training forward rotates exactly like the engine's kernel.
    const int nh = 3, hd = 16, n_rot = 16;
    std::vector<int32_t> pos = {7};
    std::vector<float> c(n_rot / 2), s(n_rot / 2);
    rope_tables(pos.data(), 1, n_rot, 10000.0f, 1.0f, nullptr, c.data(), s.data());
    for (RopeMode mode : {RopeMode::RopeMode_normal, RopeMode::RopeMode_neox}) {
        std::vector<float> a(nh * hd);
        for (int i = 0; i < nh * hd; ++i) a[i] = std::sin(0.37f * i);
        std::vector<float> b = a;
        rope_forward(a.data(), 1, nh, hd, n_rot, c.data(), s.data(), mode);
        kernels(Isa::Isa_scalar).rope(b.data(), nh, hd, n_rot, c.data(), s.data(), mode);
        for (int i = 0; i < nh * hd; ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
    }
}

TEST(Gradcheck, AttentionGqaWithSegments) {
    AttnShape s{4, 2, 4};
    const int64_t n = 7;
    std::vector<Segment> segs = {{0, 3}, {3, 4}};
    const int64_t qd = s.n_head * s.head_dim, kd = s.n_head_kv * s.head_dim;
    Vec q = randn(n * qd, 12), k = randn(n * kd, 13), v = randn(n * kd, 14), r = randn(n * qd, 15);
    Vec probs(attention_probs_size(segs, s.n_head)), out(n * qd);
    auto loss = [&] {
        attention_forward(q.data(), k.data(), v.data(), segs, s, out.data(), probs.data());
        return dot(out, r);
    };
    loss();
    Vec dq(n * qd), dk(n * kd), dv(n * kd), scratch;
    attention_backward(q.data(), k.data(), v.data(), probs.data(), r.data(), segs, s, dq.data(), dk.data(), dv.data(),
                       scratch);
    check_grad("q", q, dq, loss);
    check_grad("k", k, dk, loss);
    check_grad("v", v, dv, loss);

    // Segment mask: changing the first example's values never changes the second's outputs, and the
    // first token of each segment attends only to itself.
    loss();
    Vec before = out;
    for (int64_t i = 0; i < 3 * kd; ++i) v[i] += 1.0;
    loss();
    for (int64_t i = 3 * qd; i < n * qd; ++i) EXPECT_EQ(out[i], before[i]);
    for (int h = 0; h < s.n_head; ++h)
        for (int e = 0; e < s.head_dim; ++e)
            EXPECT_NEAR(out[3 * qd + h * s.head_dim + e], v[3 * kd + (h / 2) * s.head_dim + e], 1e-12);
}

TEST(Gradcheck, AttentionMatchesDenseMaskedReference) {
    // Against a plain dense implementation with an explicit (causal ∧ same-segment) mask.
    AttnShape s{2, 1, 3};
    const int64_t n = 5;
    std::vector<Segment> segs = {{0, 2}, {2, 3}};
    std::vector<int> seg_of = {0, 0, 1, 1, 1};
    Vec q = randn(n * 6, 16), k = randn(n * 3, 17), v = randn(n * 3, 18), out(n * 6);
    Vec probs(attention_probs_size(segs, 2));
    attention_forward(q.data(), k.data(), v.data(), segs, s, out.data(), probs.data());
    for (int64_t i = 0; i < n; ++i)
        for (int h = 0; h < 2; ++h) {
            std::vector<double> w(n, 0.0);
            double mx = -1e300, sum = 0;
            for (int64_t j = 0; j < n; ++j) {
                if (j > i || seg_of[j] != seg_of[i]) continue;
                double d = 0;
                for (int e = 0; e < 3; ++e) d += q[i * 6 + h * 3 + e] * k[j * 3 + e];
                w[j] = d / std::sqrt(3.0);
                mx = std::max(mx, w[j]);
            }
            for (int64_t j = 0; j < n; ++j) {
                if (j > i || seg_of[j] != seg_of[i]) { w[j] = 0; continue; }
                w[j] = std::exp(w[j] - mx);
                sum += w[j];
            }
            for (int e = 0; e < 3; ++e) {
                double o = 0;
                for (int64_t j = 0; j < n; ++j) o += w[j] / sum * v[j * 3 + e];
                EXPECT_NEAR(out[i * 6 + h * 3 + e], o, 1e-12);
            }
        }
}

void linear_check(bool bias, int rank, float dropout) {
    const int64_t n = 3, n_in = 5, n_out = 4;
    Vec x = randn(n * n_in, 20), w = randn(n_out * n_in, 21), b = randn(n_out, 22);
    Vec a = randn(rank * n_in, 23), bb = randn(n_out * rank, 24), r = randn(n * n_out, 25);
    Vec y(n * n_out), h(n * std::max(rank, 1)), scratch;
    LinearParams<double> p;
    p.n_in = n_in;
    p.n_out = n_out;
    p.w = w.data();
    p.bias = bias ? b.data() : nullptr;
    p.rank = rank;
    p.a = a.data();
    p.b = bb.data();
    p.scale = 0.75;
    p.dropout = dropout;
    p.dropout_seed = 99;
    auto loss = [&] {
        linear_forward(p, x.data(), n, y.data(), h.data(), scratch);
        return dot(y, r);
    };
    loss();
    Vec dx(n * n_in, 0.0), dw(n_out * n_in, 0.0), db(n_out, 0.0), da(rank * n_in, 0.0), dbb(n_out * rank, 0.0);
    LinearGrads<double> g{dw.data(), bias ? db.data() : nullptr, da.data(), dbb.data()};
    linear_backward(p, x.data(), h.data(), r.data(), n, dx.data(), g, scratch);
    check_grad("x", x, dx, loss);
    check_grad("w", w, dw, loss);
    if (bias) check_grad("bias", b, db, loss);
    if (rank) {
        check_grad("lora_a", a, da, loss);
        check_grad("lora_b", bb, dbb, loss);
    }
}

TEST(Gradcheck, Linear) { linear_check(false, 0, 0.0f); }
TEST(Gradcheck, LinearBias) { linear_check(true, 0, 0.0f); }
TEST(Gradcheck, LinearLora) { linear_check(false, 2, 0.0f); }
TEST(Gradcheck, LinearLoraDropout) { linear_check(true, 3, 0.3f); }

TEST(Gradcheck, FrozenQuantizedLinearMatchesDequantizedDense) {
    // A q8_0 weight used in place (tiled dequantization) gives the dense result on its dequantized values.
    const int64_t n = 5, n_in = 64, n_out = 40;
    std::vector<float> wf(n_out * n_in), x(n * n_in), dy(n * n_out);
    std::mt19937 rng(3);
    std::normal_distribution<float> d(0.f, 1.f);
    for (auto & e : wf) e = d(rng);
    for (auto & e : x) e = d(rng);
    for (auto & e : dy) e = d(rng);
    std::vector<uint8_t> q = quantize_rows(DType::DType_q8_0, wf.data(), n_out, n_in);
    std::vector<float> deq = dequantize_rows(DType::DType_q8_0, q.data(), n_out, n_in);
    const ScopedFrozenMatmul f32(FrozenMatmul::FrozenMatmul_f32);  // compares with the f32 dense products
    WeightView view{DType::DType_q8_0, n_in, n_out, q.data(), *row_bytes(DType::DType_q8_0, n_in)};
    LinearParams<float> pf, pd;
    pf.n_in = pd.n_in = n_in;
    pf.n_out = pd.n_out = n_out;
    pf.frozen = &view;
    pd.w = deq.data();
    std::vector<float> y1(n * n_out), y2(n * n_out), dx1(n * n_in, 0.f), dx2(n * n_in, 0.f), s;
    linear_forward(pf, x.data(), n, y1.data(), (float *)nullptr, s);
    linear_forward(pd, x.data(), n, y2.data(), (float *)nullptr, s);
    linear_backward(pf, x.data(), (const float *)nullptr, dy.data(), n, dx1.data(), LinearGrads<float>{}, s);
    linear_backward(pd, x.data(), (const float *)nullptr, dy.data(), n, dx2.data(), LinearGrads<float>{}, s);
    for (size_t i = 0; i < y1.size(); ++i) EXPECT_NEAR(y1[i], y2[i], 1e-4);
    for (size_t i = 0; i < dx1.size(); ++i) EXPECT_NEAR(dx1[i], dx2[i], 1e-4);
}

TEST(Gemm, BlasMatchesScalarTwin) {
    for (bool ta : {false, true})
        for (bool tb : {false, true}) {
            const int64_t m = 7, n = 5, k = 9;
            Vec a = randn(m * k, 30), b = randn(k * n, 31), c1 = randn(m * n, 32), c2 = c1;
            const int64_t lda = ta ? m : k, ldb = tb ? k : n;
            gemm<double>(ta, tb, m, n, k, 0.5, a.data(), lda, b.data(), ldb, 2.0, c1.data(), n);
            gemm_ref<double>(ta, tb, m, n, k, 0.5, a.data(), lda, b.data(), ldb, 2.0, c2.data(), n);
            for (size_t i = 0; i < c1.size(); ++i) EXPECT_NEAR(c1[i], c2[i], 1e-12);
        }
}

}  // namespace
}  // namespace sy::train
