// Causal grouped-query attention restricted to segments (packed examples never attend to each other).
// Per segment of length L and query head h (kv head g = h / (n_head / n_head_kv)):
//   S = scale · Q_h · K_gᵀ  [L][L],  P = softmax(S with j > i masked),  O_h = P · V_g
// Backward:
//   dP = dO_h · V_gᵀ,  dV_g += Pᵀ · dO_h,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),
//   dQ_h = scale · dS · K_g,  dK_g += scale · dSᵀ · Q_h
// The forward overwrites out and probs; the backward overwrites dq, dk and dv (dk/dv are zeroed first and
// then accumulate over the query heads of their group, in head order: deterministic).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "train/gemm.h"
#include "train/layers.h"

namespace sy::train {

int64_t attention_probs_size(const std::vector<Segment> & segs, int n_head) {
    int64_t s = 0;
    for (const Segment & g : segs) s += (int64_t)n_head * g.len * g.len;
    return s;
}

template <typename T>
void attention_forward(const T * q, const T * k, const T * v, const std::vector<Segment> & segs, const AttnShape & s,
                       T * out, T * probs) {
    const int64_t hd = s.head_dim, q_dim = (int64_t)s.n_head * hd, kv_dim = (int64_t)s.n_head_kv * hd;
    const int group = s.n_head / s.n_head_kv;
    const T scale = T(1) / std::sqrt((T)hd);
    T * p = probs;
    for (const Segment & sg : segs) {
        const int64_t L = sg.len;
        for (int h = 0; h < s.n_head; ++h, p += L * L) {
            const int g = h / group;
            const T * qh = q + sg.start * q_dim + h * hd;
            const T * kg = k + sg.start * kv_dim + g * hd;
            const T * vg = v + sg.start * kv_dim + g * hd;
            gemm<T>(false, true, L, L, hd, scale, qh, q_dim, kg, kv_dim, T(0), p, L);
            for (int64_t i = 0; i < L; ++i) {
                T * row = p + i * L;
                T mx = row[0];
                for (int64_t j = 1; j <= i; ++j) mx = std::max(mx, row[j]);
                double sum = 0.0;
                for (int64_t j = 0; j <= i; ++j) {
                    row[j] = std::exp(row[j] - mx);
                    sum += row[j];
                }
                const T inv = (T)(1.0 / sum);
                for (int64_t j = 0; j <= i; ++j) row[j] *= inv;
                for (int64_t j = i + 1; j < L; ++j) row[j] = T(0);
            }
            gemm<T>(false, false, L, hd, L, T(1), p, L, vg, kv_dim, T(0), out + sg.start * q_dim + h * hd, q_dim);
        }
    }
}

template <typename T>
void attention_backward(const T * q, const T * k, const T * v, const T * probs, const T * dout,
                        const std::vector<Segment> & segs, const AttnShape & s, T * dq, T * dk, T * dv,
                        std::vector<T> & scratch) {
    const int64_t hd = s.head_dim, q_dim = (int64_t)s.n_head * hd, kv_dim = (int64_t)s.n_head_kv * hd;
    const int group = s.n_head / s.n_head_kv;
    const T scale = T(1) / std::sqrt((T)hd);
    int64_t n_end = 0, max_len = 0;
    for (const Segment & sg : segs) {
        n_end = std::max(n_end, sg.start + sg.len);
        max_len = std::max(max_len, sg.len);
    }
    std::memset(dq, 0, sizeof(T) * (size_t)(n_end * q_dim));
    std::memset(dk, 0, sizeof(T) * (size_t)(n_end * kv_dim));
    std::memset(dv, 0, sizeof(T) * (size_t)(n_end * kv_dim));
    scratch.resize((size_t)(max_len * max_len));
    T * dp = scratch.data();
    const T * p = probs;
    for (const Segment & sg : segs) {
        const int64_t L = sg.len;
        for (int h = 0; h < s.n_head; ++h, p += L * L) {
            const int g = h / group;
            const T * qh = q + sg.start * q_dim + h * hd;
            const T * kg = k + sg.start * kv_dim + g * hd;
            const T * vg = v + sg.start * kv_dim + g * hd;
            const T * doh = dout + sg.start * q_dim + h * hd;
            gemm<T>(false, true, L, L, hd, T(1), doh, q_dim, vg, kv_dim, T(0), dp, L);
            gemm<T>(true, false, L, hd, L, T(1), p, L, doh, q_dim, T(1), dv + sg.start * kv_dim + g * hd, kv_dim);
            for (int64_t i = 0; i < L; ++i) {
                const T * pr = p + i * L;
                T * dr = dp + i * L;
                double dot = 0.0;
                for (int64_t j = 0; j <= i; ++j) dot += (double)pr[j] * dr[j];
                for (int64_t j = 0; j <= i; ++j) dr[j] = pr[j] * (dr[j] - (T)dot);
                for (int64_t j = i + 1; j < L; ++j) dr[j] = T(0);
            }
            gemm<T>(false, false, L, hd, L, scale, dp, L, kg, kv_dim, T(0), dq + sg.start * q_dim + h * hd, q_dim);
            gemm<T>(true, false, L, hd, L, scale, dp, L, qh, q_dim, T(1), dk + sg.start * kv_dim + g * hd, kv_dim);
        }
    }
}

template void attention_forward<float>(const float *, const float *, const float *, const std::vector<Segment> &,
                                       const AttnShape &, float *, float *);
template void attention_forward<double>(const double *, const double *, const double *, const std::vector<Segment> &,
                                        const AttnShape &, double *, double *);
template void attention_backward<float>(const float *, const float *, const float *, const float *, const float *,
                                        const std::vector<Segment> &, const AttnShape &, float *, float *, float *,
                                        std::vector<float> &);
template void attention_backward<double>(const double *, const double *, const double *, const double *,
                                         const double *, const std::vector<Segment> &, const AttnShape &, double *,
                                         double *, double *, std::vector<double> &);

}  // namespace sy::train
