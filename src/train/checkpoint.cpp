// Checkpoint files. Layout (little-endian): "SYCKPT01", u64 n_params, the CheckpointState fields
// (i64 step, i32 epoch, i64 batch_in_epoch, i64 adam_t, f64 best_valid, i64 best_step, i32 bad_evals), then
// per parameter: u32 name length, name bytes, u64 n, n f32 weights, n f32 first moments, n f32 second
// moments. Written to a temporary file and renamed, so an interrupted write never leaves a torn checkpoint.
#include <cstdio>
#include <cstring>

#include "train/trainer.h"

namespace sy::train {
namespace {

constexpr char kMagic[8] = {'S', 'Y', 'C', 'K', 'P', 'T', '0', '1'};

struct FileCloser {
    void operator()(std::FILE * f) const { if (f) std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

template <typename V>
void put(std::FILE * f, const V & v) { std::fwrite(&v, sizeof v, 1, f); }

template <typename V>
void get(std::FILE * f, V & v, const std::string & path) {
    if (std::fread(&v, sizeof v, 1, f) != 1) throw Error(ErrorKind::ErrorKind_invalid_file, path + ": truncated checkpoint");
}

void get_floats(std::FILE * f, std::vector<float> & v, const std::string & path) {
    if (!v.empty() && std::fread(v.data(), sizeof(float), v.size(), f) != v.size())
        throw Error(ErrorKind::ErrorKind_invalid_file, path + ": truncated checkpoint");
}

}  // namespace

void save_checkpoint(const std::string & path, const TrainModel & m, AdamW & opt, const CheckpointState & st) {
    const std::string tmp = path + ".tmp";
    {
        FilePtr f(std::fopen(tmp.c_str(), "wb"));
        if (!f) throw Error(ErrorKind::ErrorKind_io, "cannot write checkpoint '" + tmp + "'");
        std::fwrite(kMagic, 1, sizeof kMagic, f.get());
        put(f.get(), (uint64_t)m.params().size());
        put(f.get(), st.step);
        put(f.get(), st.epoch);
        put(f.get(), st.batch_in_epoch);
        put(f.get(), st.adam_t);
        put(f.get(), st.best_valid);
        put(f.get(), st.best_step);
        put(f.get(), st.bad_evals);
        for (size_t k = 0; k < m.params().size(); ++k) {
            const Param & p = *m.params()[k];
            put(f.get(), (uint32_t)p.name.size());
            std::fwrite(p.name.data(), 1, p.name.size(), f.get());
            put(f.get(), (uint64_t)p.w.size());
            std::fwrite(p.w.data(), sizeof(float), p.w.size(), f.get());
            std::fwrite(opt.m()[k].data(), sizeof(float), p.w.size(), f.get());
            std::fwrite(opt.v()[k].data(), sizeof(float), p.w.size(), f.get());
        }
        if (std::ferror(f.get()) || std::fflush(f.get()) != 0)
            throw Error(ErrorKind::ErrorKind_io, "failed writing checkpoint '" + tmp + "'");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
        throw Error(ErrorKind::ErrorKind_io, "cannot rename checkpoint to '" + path + "'");
}

CheckpointState load_checkpoint(const std::string & path, TrainModel & m, AdamW & opt) {
    FilePtr f(std::fopen(path.c_str(), "rb"));
    if (!f) throw Error(ErrorKind::ErrorKind_io, "cannot open checkpoint '" + path + "'");
    char magic[8];
    if (std::fread(magic, 1, 8, f.get()) != 8 || std::memcmp(magic, kMagic, 8) != 0)
        throw Error(ErrorKind::ErrorKind_invalid_file, path + ": not a Switchyard checkpoint");
    uint64_t n_params = 0;
    get(f.get(), n_params, path);
    if (n_params != m.params().size())
        throw Error(ErrorKind::ErrorKind_invalid_argument, path + ": checkpoint has " + std::to_string(n_params) +
                                                               " tensors, the model being trained has " +
                                                               std::to_string(m.params().size()));
    CheckpointState st;
    get(f.get(), st.step, path);
    get(f.get(), st.epoch, path);
    get(f.get(), st.batch_in_epoch, path);
    get(f.get(), st.adam_t, path);
    get(f.get(), st.best_valid, path);
    get(f.get(), st.best_step, path);
    get(f.get(), st.bad_evals, path);
    for (size_t k = 0; k < n_params; ++k) {
        Param & p = *m.params()[k];
        uint32_t len = 0;
        get(f.get(), len, path);
        if (len > 4096) throw Error(ErrorKind::ErrorKind_invalid_file, path + ": bad tensor name length");
        std::string name(len, '\0');
        if (std::fread(name.data(), 1, len, f.get()) != len)
            throw Error(ErrorKind::ErrorKind_invalid_file, path + ": truncated checkpoint");
        uint64_t n = 0;
        get(f.get(), n, path);
        if (name != p.name || n != p.w.size())
            throw Error(ErrorKind::ErrorKind_invalid_argument,
                        path + ": tensor '" + name + "' does not match the model being trained ('" + p.name + "')");
        get_floats(f.get(), p.w, path);
        get_floats(f.get(), opt.m()[k], path);
        get_floats(f.get(), opt.v()[k], path);
    }
    opt.set_n_steps(st.adam_t);
    return st;
}

}  // namespace sy::train
