// gemm_bf16's dispatch (see gemm.h): the AVX-512 BF16 kernel threaded over column panels, or bf16-rounded
// copies through sgemm where the CPU lacks it; PackedBf16 (frozen weights packed once, their products with
// the optional fused f32 LoRA terms); and the process-wide choice of the frozen-base matmul.
#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "common/error.h"
#include "common/fp16.h"
#include "tensor/isa.h"
#include "tensor/threadpool.h"
#include "train/gemm.h"
#include "train/gemm_bf16_internal.h"

namespace sy::train {
namespace {

using namespace detail;

inline float round_bf16(float x) { return bf16_to_fp32(fp32_to_bf16(x)); }

// Fallback: round copies of A and B to bf16, then sgemm (f32 accumulation).
void gemm_bf16_rounded(bool tb, int64_t m, int64_t n, int64_t k, const float * a, int64_t lda, const float * b,
                       int64_t ldb, float beta, float * c, int64_t ldc) {
    std::vector<float> ar((size_t)(m * k)), br((size_t)(n * k));
    for (int64_t i = 0; i < m; ++i)
        for (int64_t p = 0; p < k; ++p) ar[i * k + p] = round_bf16(a[i * lda + p]);
    const int64_t rows = tb ? n : k, cols = tb ? k : n;
    for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) br[i * cols + j] = round_bf16(b[i * ldb + j]);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n, (blasint)k, 1.0f,
                ar.data(), (blasint)k, br.data(), (blasint)cols, beta, c, (blasint)ldc);
}

thread_local std::vector<uint32_t> g_apack;

}  // namespace

bool gemm_bf16_native() {
    static const bool native = [] {
        // Isa_avx512 requires AVX512-BF16 besides F/BW/VL/DQ/VNNI (tensor/isa.cpp).
        try {
            return isa_active() == Isa::Isa_avx512;
        } catch (const Error &) {
            return false;
        }
    }();
    return native;
}

void gemm_bf16(bool trans_b, int64_t m, int64_t n, int64_t k, const float * a, int64_t lda, const float * b,
               int64_t ldb, float beta, float * c, int64_t ldc) {
    SY_ASSERT_MSG(beta == 0.0f || beta == 1.0f, "gemm_bf16: beta must be 0 or 1");
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (beta == 0.0f)
            for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
        return;
    }
    if (!gemm_bf16_native()) {
        gemm_bf16_rounded(trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    const int64_t k2 = (k + 1) / 2, mb = (m + kBf16Mr - 1) / kBf16Mr;
    g_apack.resize((size_t)(mb * kBf16Mr * k2));
    uint32_t * apack = g_apack.data();
    PoolLease lease;
    ThreadPool & tp = lease.pool();
    tp.parallel_for(mb, [&](int64_t b0, int64_t b1, int) {
        bf16_pack_a_avx512(a, lda, m, k, b0 * kBf16Mr, b1 * kBf16Mr, apack);
    });
    const int64_t panels = (n + kBf16Nr - 1) / kBf16Nr;
    tp.parallel_for(panels, [&](int64_t p0, int64_t p1, int) {
        bf16_gemm_cols_avx512(apack, m, k, trans_b, b, ldb, p0 * kBf16Nr, std::min(n, p1 * kBf16Nr), beta, c, ldc);
    });
}

namespace {

// C = A · B + beta · C over whole-panel packed B (n columns, k2 pairs): A converted once, then work units
// of (row chunk, panel) claimed from a shared counter so a descheduled thread on a shared machine holds up
// nobody (every C element is computed by one unit in a fixed order: results do not depend on scheduling).
void gemm_packed(int64_t m, int64_t k, const float * a, int64_t lda, const uint32_t * bpack, int64_t n, float beta,
                 float * c, int64_t ldc, const LowRankTerm * lr, const InputProduct * ip) {
    if (m <= 0 || n <= 0) return;
    const int64_t k2 = (k + 1) / 2, mb = (m + kBf16Mr - 1) / kBf16Mr, panels = (n + kBf16Nr - 1) / kBf16Nr;
    g_apack.resize((size_t)(mb * kBf16Mr * k2));
    uint32_t * apack = g_apack.data();
    PoolLease lease;
    ThreadPool & tp = lease.pool();
    // A's rows (and the input product) in a few chunks per thread, claimed like the product's units below.
    const int64_t a_units = std::min<int64_t>(mb, 4 * (int64_t)tp.size());
    std::atomic<int64_t> next_a{0};
    tp.run([&](int, int) {
        for (int64_t u; (u = next_a.fetch_add(1, std::memory_order_relaxed)) < a_units;) {
            const int64_t b0 = mb * u / a_units, b1 = mb * (u + 1) / a_units;
            bf16_pack_a_avx512(a, lda, m, k, b0 * kBf16Mr, b1 * kBf16Mr, apack);
            if (ip && ip->rank > 0) bf16_input_product_avx512(a, lda, k, b0 * kBf16Mr, std::min(m, b1 * kBf16Mr), *ip);
        }
    });
    // Few panels (a narrow W): split the rows too, so every thread gets several units. A long k (the head's
    // backward, k = n_vocab): A no longer fits in L2 and streams from memory once per unit, so a unit takes
    // a run of panels (the kernel walks k blocks outside its panels) and each thread about two units.
    const int64_t want = 4 * (int64_t)tp.size();
    const int64_t chunks = panels >= want ? 1 : std::min(mb, (want + panels - 1) / panels);
    const int64_t rows_per = ((mb + chunks - 1) / chunks) * kBf16Mr;
    const bool long_k = chunks == 1 && mb * kBf16Mr * k2 * (int64_t)sizeof(uint32_t) > (int64_t(1) << 21);
    const int64_t per_unit = long_k ? std::max<int64_t>(1, panels / (2 * (int64_t)tp.size())) : 1;
    const int64_t groups = (panels + per_unit - 1) / per_unit, units = groups * chunks;
    std::atomic<int64_t> next{0};
    tp.run([&](int, int) {
        for (int64_t u; (u = next.fetch_add(1, std::memory_order_relaxed)) < units;) {
            const int64_t q = (u % groups) * per_unit, i0 = (u / groups) * rows_per;
            if (i0 < m)
                bf16_gemm_packed_avx512(apack, i0, std::min(m, i0 + rows_per), k2, bpack, n, q,
                                        std::min(panels, q + per_unit), beta, c, ldc, lr && lr->rank > 0 ? lr : nullptr);
        }
    });
}

uint32_t * alloc_pairs(size_t n) {
    return static_cast<uint32_t *>(::operator new[](n * sizeof(uint32_t), std::align_val_t(64)));
}

}  // namespace

std::unique_ptr<PackedBf16> PackedBf16::pack(int64_t n_out, int64_t n_in, const RowSource & rows) {
    if (!gemm_bf16_native())
        throw Error(ErrorKind::ErrorKind_unsupported,
                    "bf16 weight packs need the AVX-512 BF16 kernel (CPU or SWITCHYARD_ISA)");
    SY_ASSERT(n_out > 0 && n_in > 0);
    std::unique_ptr<PackedBf16> w(new PackedBf16());
    w->n_out_ = n_out;
    w->n_in_ = n_in;
    const int64_t fwd_panels = (n_out + kBf16Nr - 1) / kBf16Nr, bwd_panels = (n_in + kBf16Nr - 1) / kBf16Nr;
    const int64_t k2_in = (n_in + 1) / 2, k2_out = (n_out + 1) / 2;
    w->fwd_size_ = (size_t)(fwd_panels * k2_in * kBf16Nr);
    w->bwd_size_ = (size_t)(bwd_panels * k2_out * kBf16Nr);
    w->fwd_ = alloc_pairs(w->fwd_size_);
    w->bwd_ = alloc_pairs(w->bwd_size_);
    // The last forward panel's columns past n_out are never written by a row: zeros.
    std::fill(w->fwd_ + (fwd_panels - 1) * k2_in * kBf16Nr, w->fwd_ + w->fwd_size_, 0u);
    // Tiles of whole forward panels (an even row count, so the backward's row pairs never straddle two).
    const int64_t tile = kBf16Nr * std::max<int64_t>(1, (int64_t(1) << 18) / (kBf16Nr * n_in));
    const int64_t tiles = (n_out + tile - 1) / tile;
    std::atomic<int64_t> next{0};
    PoolLease lease;
    lease.pool().run([&](int, int) {
        std::vector<float> buf((size_t)(std::min(tile, n_out) * n_in));
        for (int64_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < tiles;) {
            const int64_t r0 = t * tile, r1 = std::min(n_out, r0 + tile);
            rows(r0, r1, buf.data());
            bf16_pack_w_fwd_avx512(buf.data(), n_in, r0, r1, n_in, w->fwd_);
            bf16_pack_w_bwd_avx512(buf.data(), n_in, r0, r1, n_out, n_in, w->bwd_);
        }
    });
    return w;
}

PackedBf16::~PackedBf16() {
    ::operator delete[](fwd_, std::align_val_t(64));
    ::operator delete[](bwd_, std::align_val_t(64));
}

void PackedBf16::forward(int64_t m, const float * x, int64_t ldx, float * y, int64_t ldy, const LowRankTerm * lr,
                         const InputProduct * ip) const {
    gemm_packed(m, n_in_, x, ldx, fwd_, n_out_, 0.0f, y, ldy, lr, ip);
}

void PackedBf16::backward(int64_t m, const float * dy, int64_t lddy, float * dx, int64_t lddx,
                          const LowRankTerm * lr, const InputProduct * ip) const {
    gemm_packed(m, n_out_, dy, lddy, bwd_, n_in_, 1.0f, dx, lddx, lr, ip);
}

namespace {
std::once_flag g_mode_once;
FrozenMatmul g_mode = FrozenMatmul::FrozenMatmul_f32;
bool g_mode_set = false;

void init_mode() {
    std::call_once(g_mode_once, [] {
        if (g_mode_set) return;
        const char * env = std::getenv("SY_TRAIN_MATMUL");
        g_mode = env && *env ? frozen_matmul_from_name(env)
                             : (gemm_bf16_native() ? FrozenMatmul::FrozenMatmul_bf16 : FrozenMatmul::FrozenMatmul_f32);
    });
}
}  // namespace

FrozenMatmul frozen_matmul() {
    init_mode();
    return g_mode;
}

void set_frozen_matmul(FrozenMatmul m) {
    g_mode_set = true;
    init_mode();
    g_mode = m;
}

FrozenMatmul frozen_matmul_from_name(const std::string & name) {
    if (name == "f32") return FrozenMatmul::FrozenMatmul_f32;
    if (name == "bf16") return FrozenMatmul::FrozenMatmul_bf16;
    throw Error(ErrorKind::ErrorKind_invalid_argument, "matmul '" + name + "' is not one of bf16, f32");
}

const char * frozen_matmul_name(FrozenMatmul m) { return m == FrozenMatmul::FrozenMatmul_bf16 ? "bf16" : "f32"; }

}  // namespace sy::train
