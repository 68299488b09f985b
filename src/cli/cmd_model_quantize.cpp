// `switchyard model quantize IN OUT TYPE [--threads N]`: rewrites a GGUF model with its weights in another
// type: a plain type (every weight in that type) or a llama.cpp-style mixed recipe such as Q4_K_M (the
// per-tensor choice is engine/quantize_recipe.h). All metadata is copied; general.file_type and
// general.quantization_version are set the way llama.cpp sets them.
//
// Memory: each converted tensor is processed row by row (one f32 row per thread), and only the quantized
// output is held until the file is written; tensors that keep their type are written straight from the
// input mapping.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "common/error.h"
#include "engine/quantize_recipe.h"
#include "gguf/gguf.h"
#include "tensor/quant.h"

namespace sy::cli {
namespace {

struct QuantizeArgs {
    std::string in_path;
    std::string out_path;
    std::string type;
    int n_threads = 0;  // 0: all hardware threads
};

std::string shape_string(const gguf::TensorInfo & t) {
    std::string s = "[";
    for (uint32_t d = 0; d < t.n_dims; ++d) s += (d ? ", " : "") + std::to_string(t.ne[d]);
    return s + "]";
}

double mib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

// Converts n_rows rows of n_cols from `src` (type `from`) into `dst` (type `to`), rows split over threads.
void convert_rows(DType from, const uint8_t * src, DType to, uint8_t * dst, int64_t n_rows, int64_t n_cols,
                  int n_threads) {
    const size_t src_rb = *row_bytes(from, n_cols);
    const size_t dst_rb = *row_bytes(to, n_cols);
    std::atomic<int64_t> next{0};
    const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(64, n_rows / (4 * (int64_t)n_threads) + 1));
    auto work = [&] {
        std::vector<float> row((size_t)n_cols);  // one f32 row: [n_cols]
        for (;;) {
            const int64_t r0 = next.fetch_add(chunk);
            if (r0 >= n_rows) break;
            const int64_t r1 = std::min(n_rows, r0 + chunk);
            for (int64_t r = r0; r < r1; ++r) {
                dequantize_row(from, src + (size_t)r * src_rb, row.data(), n_cols);
                quantize_row(to, row.data(), dst + (size_t)r * dst_rb, n_cols);
            }
        }
    };
    const int n = (int)std::min<int64_t>(n_threads, std::max<int64_t>(1, n_rows / chunk));
    std::vector<std::thread> pool;
    for (int i = 1; i < n; ++i) pool.emplace_back(work);
    work();
    for (auto & t : pool) t.join();
}

int layer_count(const gguf::File & in) {
    if (auto arch = in.get_string("general.architecture"))
        if (auto n = in.get_u64(*arch + ".block_count")) return (int)*n;
    int n = 0;  // no block_count: infer from the tensor names
    for (const auto & t : in.tensors())
        if (auto il = quant_layer_index(t.name)) n = std::max(n, *il + 1);
    return n;
}

void run_quantize(const QuantizeArgs & a) {
    const QuantRecipe recipe = parse_quant_recipe(a.type);
    const int n_threads = a.n_threads > 0 ? a.n_threads : (int)std::max(1u, std::thread::hardware_concurrency());
    const auto t_start = std::chrono::steady_clock::now();

    gguf::File in = gguf::File::open(a.in_path);
    const int n_layer = layer_count(in);
    const bool has_output = in.find_tensor("output.weight") != nullptr;

    gguf::Writer out;
    out.copy_metadata(in);
    out.set("general.quantization_version", gguf::Value::u32(2));
    out.set("general.file_type", gguf::Value::u32(recipe.file_type));
    for (const char * key : {"split.no", "split.count", "split.tensors.count"}) out.remove(key);

    std::printf("quantizing %s -> %s as %s (%d layers, %d threads)\n", a.in_path.c_str(), a.out_path.c_str(),
                recipe.name, n_layer, n_threads);
    std::deque<std::vector<uint8_t>> converted;  // outputs kept alive until write (deque: stable addresses)
    uint64_t bytes_before = 0, bytes_after = 0;
    const size_t n_tensors = in.tensors().size();
    size_t idx = 0;
    for (const gguf::TensorInfo & t : in.tensors()) {
        ++idx;
        const auto src_info = dtype_info(t.type);
        SY_ASSERT(src_info.has_value());  // the reader rejects unknown type ids
        const DType src = src_info->type;
        QuantTensor qt;
        qt.name = t.name;
        qt.n_dims = (int)t.n_dims;
        qt.ne0 = t.ne[0];
        qt.type = src;
        qt.i_layer = quant_layer_index(t.name);
        qt.n_layer = n_layer;
        qt.model_has_output = has_output;
        DType dst = quant_tensor_type(recipe, qt);
        if (dst != src && !dtype_supported(src)) {
            std::fprintf(stderr, "warning: %s is %s, which cannot be converted; copied unchanged\n", t.name.c_str(),
                         src_info->name);
            dst = src;
        }
        const std::span<const int64_t> ne(t.ne, t.n_dims);
        uint64_t new_bytes = t.n_bytes;
        if (dst == src) {
            out.add_tensor_ref(t.name, t.type, ne, t.data, t.n_bytes);
        } else {
            const int64_t n_cols = t.ne[0];
            const int64_t n_rows = n_cols > 0 ? t.n_elements() / n_cols : 0;
            std::vector<uint8_t> & buf = converted.emplace_back((size_t)n_rows * *row_bytes(dst, n_cols));
            convert_rows(src, t.data, dst, buf.data(), n_rows, n_cols, n_threads);
            out.add_tensor_ref(t.name, (uint32_t)dst, ne, buf.data(), buf.size());
            new_bytes = buf.size();
        }
        bytes_before += t.n_bytes;
        bytes_after += new_bytes;
        std::printf("[%4zu/%4zu] %-36s %-20s %5s -> %-5s %9.3f MiB -> %9.3f MiB\n", idx, n_tensors, t.name.c_str(),
                    shape_string(t).c_str(), src_info->name, dtype_info(dst).name, mib(t.n_bytes), mib(new_bytes));
    }
    out.write(a.out_path);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    std::printf("model size: %.2f MiB -> %.2f MiB (%.1f%%), %zu tensors, %.1f s\n", mib(bytes_before),
                mib(bytes_after), bytes_before ? 100.0 * (double)bytes_after / (double)bytes_before : 0.0, n_tensors,
                secs);
}

}  // namespace

void add_model_quantize(CLI::App & model) {
    auto a = std::make_shared<QuantizeArgs>();
    CLI::App * cmd = model.add_subcommand(
        "quantize",
        "Rewrite a GGUF model with its weights in another type. TYPE is a plain type (every weight in that type: " +
            std::string("f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q2_K q3_K q4_K q5_K q6_K) or a llama.cpp mix ") +
            "(Q4_K_M Q4_K_S Q5_K_M Q5_K_S Q3_K_S Q3_K_M Q3_K_L Q6_K Q8_0), case-insensitive. Norms and biases keep "
            "their type; rows that do not fit the block size fall back to a 32-element type.");
    cmd->add_option("IN", a->in_path, "Input GGUF model")->required()->check(CLI::ExistingFile);
    cmd->add_option("OUT", a->out_path, "Output GGUF path (written atomically)")->required();
    cmd->add_option("TYPE", a->type, "Target type or recipe, e.g. Q4_K_M")->required();
    cmd->add_option("-t,--threads", a->n_threads, "Threads for quantization (default: all)")->check(CLI::NonNegativeNumber);
    cmd->callback([a] { run_quantize(*a); });
}

}  // namespace sy::cli
