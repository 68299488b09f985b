// The table-driven op test: every kernel in struct Kernels (rows) on every ISA path this CPU supports
// (columns), each cell compared with a float64 reference written plainly below, by normalised error
// ‖y − ref‖ / ‖ref‖ against a per-row tolerance. Sizes are odd on purpose so vector loops hit their tails.
// A new op is one more row in op_table(). Prints a compact table of the worst error per (op, isa).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/fp16.h"
#include "tensor/isa.h"
#include "tensor/matmul_pack.h"
#include "tensor/ops.h"
#include "tensor/quant.h"
#include "tensor/threadpool.h"

namespace sy {
namespace {

struct OpCase {
    std::string group;   // table row, e.g. "attention"
    std::string detail;  // the exact shape, named in failure messages
    double tol;          // on the normalised error
    std::function<double(const Kernels &)> run;  // returns ‖y − ref‖ / ‖ref‖
};

std::vector<float> rand_vec(size_t n, float lo, float hi, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (auto & x : v) x = dist(rng);
    return v;
}

template <typename Y>
double norm_err(const Y & y, const std::vector<double> & ref) {
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < ref.size(); ++i) {
        const double d = (double)y[i] - ref[i];
        num += d * d;
        den += ref[i] * ref[i];
    }
    if (den == 0.0) return std::sqrt(num);
    return std::sqrt(num / den);
}

double silu_ref(double v) { return v / (1.0 + std::exp(-v)); }

// The half nearest to x (ties to even), as a double: the exact target of f32 -> f16 rounding.
double round_to_half(double x) {
    if (x == 0.0) return 0.0;
    const int e = std::max((int)std::floor(std::log2(std::fabs(x))), -14);  // below 2^-14: subnormal grid
    const double ulp = std::ldexp(1.0, e - 10);
    return std::nearbyint(x / ulp) * ulp;
}

double half_value(uint16_t h) {
    const int sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    if (exp == 0) return sign * std::ldexp((double)mant, -24);
    return sign * std::ldexp((double)(1024 + mant), exp - 25);
}

void add_elementwise_cases(std::vector<OpCase> & cases) {
    for (int64_t n : {1, 7, 4099}) {
        cases.push_back({"rmsnorm", "n=" + std::to_string(n), 1e-5, [n](const Kernels & k) {
            auto x = rand_vec(n, -2, 2, 1), w = rand_vec(n, 0.5f, 1.5f, 2);
            const float eps = 1e-5f;
            double ss = 0;
            for (float v : x) ss += (double)v * v;
            const double inv = 1.0 / std::sqrt(ss / n + eps);
            std::vector<double> ref(n);
            for (int64_t i = 0; i < n; ++i) ref[i] = x[i] * inv * w[i];
            std::vector<float> y(n);
            k.rmsnorm(x.data(), w.data(), y.data(), n, eps);
            const double e1 = norm_err(y, ref);
            k.rmsnorm(x.data(), w.data(), x.data(), n, eps);  // y aliasing x
            return std::max(e1, norm_err(x, ref));
        }});
    }
    struct RopeShape { int n_head, head_dim, n_rot; };
    for (RopeMode mode : {RopeMode::RopeMode_normal, RopeMode::RopeMode_neox}) {
        const std::string name = mode == RopeMode::RopeMode_normal ? "rope normal" : "rope neox";
        for (RopeShape s : {RopeShape{3, 128, 128}, RopeShape{5, 64, 64}, RopeShape{3, 80, 38}, RopeShape{2, 6, 2}}) {
            const std::string detail = "n_head=" + std::to_string(s.n_head) + " head_dim=" +
                                       std::to_string(s.head_dim) + " n_rot=" + std::to_string(s.n_rot);
            cases.push_back({name, detail, 1e-6, [s, mode](const Kernels & k) {
                const int half = s.n_rot / 2;
                auto x = rand_vec((size_t)s.n_head * s.head_dim, -3, 3, 3);
                std::vector<float> c(half), sn(half);
                for (int i = 0; i < half; ++i) {
                    const double theta = 17.0 * std::pow(10000.0, -2.0 * i / s.n_rot);
                    c[i] = (float)std::cos(theta);
                    sn[i] = (float)std::sin(theta);
                }
                std::vector<double> ref(x.begin(), x.end());
                for (int h = 0; h < s.n_head; ++h) {
                    for (int i = 0; i < half; ++i) {
                        const int i0 = h * s.head_dim + (mode == RopeMode::RopeMode_normal ? 2 * i : i);
                        const int i1 = h * s.head_dim + (mode == RopeMode::RopeMode_normal ? 2 * i + 1 : i + half);
                        ref[i0] = (double)x[i0] * c[i] - (double)x[i1] * sn[i];
                        ref[i1] = (double)x[i0] * sn[i] + (double)x[i1] * c[i];
                    }
                }
                k.rope(x.data(), s.n_head, s.head_dim, s.n_rot, c.data(), sn.data(), mode);
                return norm_err(x, ref);
            }});
        }
    }
    for (int64_t n : {1, 13, 1001}) {
        cases.push_back({"softmax", "n=" + std::to_string(n), 1e-5, [n](const Kernels & k) {
            auto x = rand_vec(n, -12, 12, 4);
            double mx = -1e300, sum = 0;
            for (float v : x) mx = std::max(mx, (double)v);
            std::vector<double> ref(n);
            for (int64_t i = 0; i < n; ++i) sum += ref[i] = std::exp(x[i] - mx);
            for (auto & r : ref) r /= sum;
            k.softmax(x.data(), n);
            return norm_err(x, ref);
        }});
    }
    for (int64_t n : {3, 1037}) {
        cases.push_back({"swiglu", "n=" + std::to_string(n), 1e-5, [n](const Kernels & k) {
            auto g = rand_vec(n, -10, 10, 5), u = rand_vec(n, -2, 2, 6);
            std::vector<double> ref(n);
            for (int64_t i = 0; i < n; ++i) ref[i] = silu_ref(g[i]) * u[i];
            std::vector<float> y(n);
            k.swiglu(g.data(), u.data(), y.data(), n);
            const double e1 = norm_err(y, ref);
            k.swiglu(g.data(), u.data(), g.data(), n);  // out aliasing gate
            return std::max(e1, norm_err(g, ref));
        }});
        cases.push_back({"silu", "n=" + std::to_string(n), 1e-5, [n](const Kernels & k) {
            auto x = rand_vec(n, -20, 20, 7);
            std::vector<double> ref(n);
            for (int64_t i = 0; i < n; ++i) ref[i] = silu_ref(x[i]);
            std::vector<float> y(n);
            k.silu(x.data(), y.data(), n);
            return norm_err(y, ref);
        }});
        cases.push_back({"add", "n=" + std::to_string(n), 1e-7, [n](const Kernels & k) {
            auto x = rand_vec(n, -1, 1, 8), y = rand_vec(n, -1, 1, 9);
            std::vector<double> ref(n);
            for (int64_t i = 0; i < n; ++i) ref[i] = (double)x[i] + y[i];
            k.add(x.data(), y.data(), n);
            return norm_err(y, ref);
        }});
    }
    for (int64_t n : {5, 1027}) {
        cases.push_back({"f32_to_f16", "n=" + std::to_string(n), 0.0, [n](const Kernels & k) {
            auto x = rand_vec(n, -70000, 70000, 10);
            auto small = rand_vec(n, -1e-4f, 1e-4f, 11);  // normals and subnormals of half
            for (int64_t i = 0; i < n; i += 2) x[i] = small[i] * (i % 3 == 0 ? 1e-2f : 1.0f);
            std::vector<double> ref(n);
            for (int64_t i = 0; i < n; ++i) {
                ref[i] = round_to_half(x[i]);
                if (std::fabs(ref[i]) > 65504.0) ref[i] = std::copysign(INFINITY, x[i]);
            }
            std::vector<uint16_t> y(n);
            k.f32_to_f16(x.data(), y.data(), n);
            double err = 0;  // exact: count mismatches (inf included)
            for (int64_t i = 0; i < n; ++i) err += half_value(y[i]) == ref[i] || (std::isinf(ref[i]) && ((y[i] & 0x7fff) == 0x7c00) && ((y[i] >> 15) == (x[i] < 0))) ? 0 : 1;
            return err;
        }});
        cases.push_back({"f16_to_f32", "n=" + std::to_string(n), 0.0, [n](const Kernels & k) {
            std::mt19937 rng(12);
            std::vector<uint16_t> x(n);
            for (auto & h : x) {
                do h = (uint16_t)rng(); while (((h >> 10) & 0x1f) == 0x1f);  // finite halfs
            }
            std::vector<double> ref(n);
            for (int64_t i = 0; i < n; ++i) ref[i] = half_value(x[i]);
            std::vector<float> y(n);
            k.f16_to_f32(x.data(), y.data(), n);
            return norm_err(y, ref);
        }});
    }
}

struct AttnShape { int n_head_kv, group, head_dim; int64_t n_kv; };

void add_attention_cases(std::vector<OpCase> & cases) {
    std::vector<AttnShape> shapes;
    for (int hd : {64, 128})
        for (int group : {1, 3, 7})
            for (int64_t n_kv : {1, 5, 67, 300}) shapes.push_back({2, group, hd, n_kv});
    shapes.push_back({3, 2, 80, 131});  // head_dim a multiple of 16 but not of 64
    shapes.push_back({1, 4, 72, 45});   // head_dim a multiple of 8 only
    shapes.push_back({2, 1, 36, 9});    // head_dim not a multiple of 8
    shapes.push_back({2, 3, 64, 0});    // nothing to attend: zeros
    for (AttnShape s : shapes) {
        const std::string detail = "n_kv=" + std::to_string(s.n_kv) + " group=" + std::to_string(s.group) +
                                   " head_dim=" + std::to_string(s.head_dim);
        cases.push_back({"attention", detail, 1e-5, [s](const Kernels & k) {
            const int n_head = s.n_head_kv * s.group, d = s.head_dim;
            const size_t stride = (size_t)s.n_head_kv * d + 8;  // padded rows: strides are honoured
            auto q = rand_vec((size_t)n_head * d, -1, 1, 13);
            auto kf = rand_vec(stride * s.n_kv, -1, 1, 14), vf = rand_vec(stride * s.n_kv, -1, 1, 15);
            std::vector<uint16_t> kh(kf.size()), vh(vf.size());
            for (size_t i = 0; i < kf.size(); ++i) kh[i] = fp32_to_fp16(kf[i]), vh[i] = fp32_to_fp16(vf[i]);
            AttentionParams p;
            p.n_head = n_head;
            p.n_head_kv = s.n_head_kv;
            p.head_dim = d;
            p.n_kv = s.n_kv;
            p.scale = 3.0f / std::sqrt((float)d);  // peakier than usual softmax
            p.k = kh.data();
            p.v = vh.data();
            p.k_stride = p.v_stride = stride;
            std::vector<double> ref((size_t)n_head * d, 0.0), sc(s.n_kv);
            for (int h = 0; h < n_head; ++h) {
                const int kvh = h / s.group;
                double mx = -1e300, sum = 0;
                for (int64_t t = 0; t < s.n_kv; ++t) {
                    double dot = 0;
                    for (int i = 0; i < d; ++i) dot += (double)q[h * d + i] * half_value(kh[t * stride + kvh * d + i]);
                    sc[t] = dot * p.scale;
                    mx = std::max(mx, sc[t]);
                }
                for (auto & v : sc) sum += v = std::exp(v - mx);
                for (int64_t t = 0; t < s.n_kv; ++t)
                    for (int i = 0; i < d; ++i) ref[h * d + i] += sc[t] / sum * half_value(vh[t * stride + kvh * d + i]);
            }
            std::vector<float> out((size_t)n_head * d, NAN), scratch(s.n_kv);
            k.attention(q.data(), p, out.data(), scratch.data());
            return norm_err(out, ref);
        }});
    }
}

// Every type quant.cpp handles; a weight row is quantized from random floats and the reference uses the
// dequantized values, so only the kernel's own arithmetic is measured.
std::vector<DType> quant_types() {
    std::vector<DType> out;
    for (DType t : {DType::DType_f32, DType::DType_f16, DType::DType_bf16, DType::DType_q4_0, DType::DType_q4_1,
                    DType::DType_q5_0, DType::DType_q5_1, DType::DType_q8_0, DType::DType_q8_1, DType::DType_q2_k,
                    DType::DType_q3_k, DType::DType_q4_k, DType::DType_q5_k, DType::DType_q6_k, DType::DType_q8_k})
        if (dtype_supported(t)) out.push_back(t);
    return out;
}

// Matmul quantizes activations to q8_0 / q8_K (or f16 / bf16) for the integer dot products: that rounding
// is allowed for; f32 weights keep f32 activations.
double matmul_tol(DType t) {
    if (t == DType::DType_f32) return 1e-5;
    if (t == DType::DType_f16) return 2e-3;
    return 1e-2;
}

void add_quant_cases(std::vector<OpCase> & cases) {
    for (DType t : quant_types()) {
        const char * tn = dtype_info(t).name;
        cases.push_back({"dot_row", tn, 1e-5, [t](const Kernels & k) {
            const int64_t n = 1280, rows = 7;  // one full dequantize chunk plus a partial one
            auto w = rand_vec(n * rows, -1, 1, 16), x = rand_vec(n, -1, 1, 17);
            auto wq = quantize_rows(t, w.data(), rows, n);
            auto wd = dequantize_rows(t, wq.data(), rows, n);
            const size_t rb = *row_bytes(t, n);
            std::vector<double> ref(rows, 0.0);
            std::vector<float> y(rows);
            for (int64_t r = 0; r < rows; ++r) {
                for (int64_t i = 0; i < n; ++i) ref[r] += (double)wd[r * n + i] * x[i];
                y[r] = k.dot_row(t, wq.data() + r * rb, x.data(), n);
            }
            return norm_err(y, ref);
        }});
        if (!matmul_supported(t)) continue;
        // plain rows, and the packed (row-interleaved) copy for the types that have one
        for (bool packed : {false, true}) {
            if (packed && matmul_packed_bytes(t, 512, 37) == 0) continue;
            for (int64_t n_tok : {1, 3, 16, 37}) {
                cases.push_back({std::string("matmul ") + tn + (packed ? " packed" : ""), "n_tok=" + std::to_string(n_tok),
                                 matmul_tol(t), [t, n_tok, packed](const Kernels & k) {
                    const int64_t n_in = 512, n_out = 37, ldy = n_out + 3;
                    auto w = rand_vec(n_in * n_out, -1, 1, 18), x = rand_vec(n_in * n_tok, -1, 1, 19);
                    auto wq = quantize_rows(t, w.data(), n_out, n_in);
                    auto wd = dequantize_rows(t, wq.data(), n_out, n_in);
                    WeightView wv;
                    wv.type = t;
                    wv.n_in = n_in;
                    wv.n_out = n_out;
                    wv.data = wq.data();
                    wv.row_stride = *row_bytes(t, n_in);
                    std::vector<uint8_t> pk(packed ? matmul_packed_bytes(t, n_in, n_out) : 0);
                    if (packed) {
                        matmul_pack(wv, pk.data(), 0, matmul_pack_groups(n_out));
                        wv.packed = pk.data();
                    }
                    std::vector<double> ref(n_tok * n_out, 0.0);
                    for (int64_t a = 0; a < n_tok; ++a)
                        for (int64_t o = 0; o < n_out; ++o)
                            for (int64_t i = 0; i < n_in; ++i) ref[a * n_out + o] += (double)x[a * n_in + i] * wd[o * n_in + i];
                    static ThreadPool pool(2);
                    std::vector<float> y(n_tok * ldy, 12345.0f), yc(n_tok * n_out);
                    k.matmul(wv, x.data(), n_tok, y.data(), ldy, pool);
                    for (int64_t a = 0; a < n_tok; ++a) {
                        for (int64_t o = 0; o < n_out; ++o) yc[a * n_out + o] = y[a * ldy + o];
                        for (int64_t o = n_out; o < ldy; ++o)
                            if (y[a * ldy + o] != 12345.0f) return (double)INFINITY;  // wrote past n_out
                    }
                    return norm_err(yc, ref);
                }});
            }
        }
    }
}

std::vector<OpCase> op_table() {
    std::vector<OpCase> cases;
    add_elementwise_cases(cases);
    add_attention_cases(cases);
    add_quant_cases(cases);
    return cases;
}

TEST(Ops, EveryOpOnEveryIsaMatchesFloat64Reference) {
    std::vector<Isa> isas;
    for (int i = 0; i < kIsaCount; ++i)
        if (isa_supported((Isa)i)) isas.push_back((Isa)i);
    ASSERT_FALSE(isas.empty());
    ASSERT_TRUE(isa_supported(Isa::Isa_scalar));

    const std::vector<OpCase> cases = op_table();
    std::vector<std::string> groups;
    std::map<std::string, std::vector<double>> worst;  // group -> per-ISA max error
    for (const OpCase & c : cases) {
        if (!worst.count(c.group)) {
            groups.push_back(c.group);
            worst[c.group].assign(isas.size(), 0.0);
        }
        for (size_t j = 0; j < isas.size(); ++j) {
            const Kernels & k = kernels(isas[j]);
            ASSERT_EQ(k.isa, isas[j]);
            const double err = c.run(k);
            worst[c.group][j] = std::max(worst[c.group][j], err);
            EXPECT_LE(err, c.tol) << c.group << " [" << c.detail << "] on " << isa_name(isas[j]);
        }
    }

    std::printf("%-14s", "op \\ isa");
    for (Isa i : isas) std::printf(" %10s", isa_name(i));
    std::printf("\n");
    for (const std::string & g : groups) {
        std::printf("%-14s", g.c_str());
        for (double e : worst[g]) std::printf(" %10.2e", e);
        std::printf("\n");
    }
}

TEST(Ops, IsaNamesParse) {
    EXPECT_EQ(isa_from_name("scalar"), Isa::Isa_scalar);
    EXPECT_EQ(isa_from_name("avx2"), Isa::Isa_avx2);
    EXPECT_EQ(isa_from_name("avx512"), Isa::Isa_avx512);
    EXPECT_EQ(isa_from_name(""), std::nullopt);
    EXPECT_EQ(isa_from_name("sse4"), std::nullopt);
    EXPECT_EQ(isa_from_name("avx2 "), std::nullopt);
    for (int i = 0; i < kIsaCount; ++i) EXPECT_EQ(isa_from_name(isa_name((Isa)i)), (Isa)i);
    EXPECT_TRUE(isa_supported(Isa::Isa_scalar));
    EXPECT_TRUE(isa_supported(isa_best()));
    EXPECT_LE((int)isa_active(), (int)isa_best());
}

}  // namespace
}  // namespace sy
