// Write -> read round trips of the GGUF writer and reader: every value type (incl. nested and empty arrays,
// extreme values), every tensor type at alignments 32 and 64, file and memory paths, a hand-written v2
// file, and the value accessors' conversions and mismatch errors.
#include <cmath>
#include <filesystem>
#include <limits>

#include "gguf/gguf.h"
#include "gguf/types.h"
#include "gguf_test_util.h"

namespace sy::gguf {
namespace {

using test::Bytes;

// Exact structural equality (type, elem type, value bits for floats).
void expect_same(const Value & a, const Value & b, const std::string & where) {
    ASSERT_EQ(a.type, b.type) << where;
    switch (a.type) {
        case ValueType::ValueType_f32:
        case ValueType::ValueType_f64: {
            const double x = std::get<double>(a.v), y = std::get<double>(b.v);
            if (std::isnan(x)) {
                EXPECT_TRUE(std::isnan(y)) << where;
            } else {
                EXPECT_EQ(x, y) << where;
            }
            break;
        }
        case ValueType::ValueType_array: {
            const Array & x = a.as_array(), & y = b.as_array();
            ASSERT_EQ(x.elem_type(), y.elem_type()) << where;
            ASSERT_EQ(x.size(), y.size()) << where;
            for (size_t i = 0; i < x.size(); ++i) expect_same(x.at(i), y.at(i), where + "[" + std::to_string(i) + "]");
            break;
        }
        default: EXPECT_TRUE(a.v == b.v) << where; break;
    }
}

// Every scalar type at its extremes, strings with NUL and non-UTF-8 bytes, arrays of every type, nested
// arrays, empty arrays.
std::vector<KeyValue> every_value_type() {
    using L8 = std::numeric_limits<int8_t>;
    using L16 = std::numeric_limits<int16_t>;
    using L32 = std::numeric_limits<int32_t>;
    using L64 = std::numeric_limits<int64_t>;
    std::vector<KeyValue> kv = {
        {"t.u8", Value::u8(255)},
        {"t.i8", Value::i8(L8::min())},
        {"t.u16", Value::u16(65535)},
        {"t.i16", Value::i16(L16::min())},
        {"t.u32", Value::u32(0xffffffffu)},
        {"t.i32", Value::i32(L32::min())},
        {"t.u64", Value::u64(std::numeric_limits<uint64_t>::max())},
        {"t.i64", Value::i64(L64::min())},
        {"t.f32", Value::f32(-1.5e-38f)},
        {"t.f32.nan", Value::f32(std::numeric_limits<float>::quiet_NaN())},
        {"t.f64", Value::f64(3.141592653589793)},
        {"t.f64.inf", Value::f64(-std::numeric_limits<double>::infinity())},
        {"t.bool.true", Value::boolean(true)},
        {"t.bool.false", Value::boolean(false)},
        {"t.string", Value::string("llama")},
        {"t.string.empty", Value::string("")},
        {"t.string.bytes", Value::string(std::string("a\0b\xff\xfe", 5))},
        {"", Value::string("an empty key is legal")},
        {"t.arr.u8", Value::array(ValueType::ValueType_u8, {Value::u8(0), Value::u8(7), Value::u8(255)})},
        {"t.arr.i8", Value::array(ValueType::ValueType_i8, {Value::i8(-128), Value::i8(127)})},
        {"t.arr.u16", Value::array(ValueType::ValueType_u16, {Value::u16(1), Value::u16(65535)})},
        {"t.arr.i16", Value::array(ValueType::ValueType_i16, {Value::i16(-2), Value::i16(32767)})},
        {"t.arr.u32", Value::array(ValueType::ValueType_u32, {Value::u32(3)})},
        {"t.arr.i32", Value::i32s({-1, 0, 1, L32::max()})},
        {"t.arr.u64", Value::array(ValueType::ValueType_u64, {Value::u64(1ull << 63)})},
        {"t.arr.i64", Value::array(ValueType::ValueType_i64, {Value::i64(L64::max()), Value::i64(-5)})},
        {"t.arr.f32", Value::f32s({0.5f, -0.0f, 1e30f})},
        {"t.arr.f64", Value::array(ValueType::ValueType_f64, {Value::f64(1e-300)})},
        {"t.arr.bool", Value::array(ValueType::ValueType_bool, {Value::boolean(true), Value::boolean(false)})},
        {"t.arr.string", Value::strings({"<unk>", "", "\xe2\x96\x81the"})},
        {"t.arr.empty", Value::array(ValueType::ValueType_string, {})},
        {"t.arr.nested",
         Value::array(ValueType::ValueType_array,
                      {Value::i32s({1, 2, 3}), Value::i32s({}),
                       Value::array(ValueType::ValueType_i32, {Value::i32(4)})})},
        {"t.arr.nested3",
         Value::array(ValueType::ValueType_array,
                      {Value::array(ValueType::ValueType_array, {Value::strings({"x", "yz"})}),
                       Value::array(ValueType::ValueType_array, {})})},
    };
    return kv;
}

struct BuiltTensor {
    std::string name;
    uint32_t type;
    std::vector<int64_t> ne;
    std::vector<uint8_t> data;
};

// One tensor of every known ggml type, 2 blocks per row, shapes of 1 to 4 dims.
std::vector<BuiltTensor> every_tensor_type() {
    std::vector<BuiltTensor> out;
    for (uint32_t id = 0; id < 64; ++id) {
        const auto dt = dtype_info(id);
        if (!dt) continue;
        std::vector<int64_t> ne = {2 * dt->block_size};
        for (size_t d = 1; d < 1 + out.size() % 4; ++d) ne.push_back((int64_t)d + 1);
        int64_t rows = 1;
        for (size_t d = 1; d < ne.size(); ++d) rows *= ne[d];
        const size_t n = *row_bytes(dt->type, ne[0]) * (size_t)rows;
        out.push_back({std::string("blk.") + std::to_string(id) + "." + dt->name, id, ne, test::pattern_bytes(n, id)});
    }
    return out;
}

void check_file(const File & f, const std::vector<KeyValue> & kv, const std::vector<BuiltTensor> & ts, size_t align,
                const uint8_t * base) {
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.alignment(), align);
    EXPECT_EQ(f.data_offset() % align, 0u);
    ASSERT_EQ(f.metadata().size(), kv.size());
    for (size_t i = 0; i < kv.size(); ++i) {
        EXPECT_EQ(f.metadata()[i].key, kv[i].key);
        expect_same(f.metadata()[i].value, kv[i].value, kv[i].key);
        ASSERT_NE(f.find(kv[i].key), nullptr) << kv[i].key;
        EXPECT_EQ(f.find(kv[i].key), &f.metadata()[i].value);
    }
    ASSERT_EQ(f.tensors().size(), ts.size());
    uint64_t expect_offset = 0;
    for (size_t i = 0; i < ts.size(); ++i) {
        const TensorInfo & t = f.tensors()[i];
        EXPECT_EQ(t.name, ts[i].name);
        EXPECT_EQ(t.type, ts[i].type);
        EXPECT_EQ(t.n_dims, ts[i].ne.size());
        int64_t n_el = 1;
        for (size_t d = 0; d < 4; ++d) {
            EXPECT_EQ(t.ne[d], d < ts[i].ne.size() ? ts[i].ne[d] : 1) << t.name << " dim " << d;
            n_el *= d < ts[i].ne.size() ? ts[i].ne[d] : 1;
        }
        EXPECT_EQ(t.n_elements(), n_el);
        EXPECT_EQ(t.n_bytes, ts[i].data.size());
        EXPECT_EQ(t.offset, expect_offset) << "packed in insertion order like llama.cpp";
        expect_offset += (t.n_bytes + align - 1) / align * align;
        EXPECT_EQ(t.data, base + f.data_offset() + t.offset) << "zero-copy";
        EXPECT_EQ((uintptr_t)(t.data - base) % align, 0u);
        EXPECT_EQ(std::memcmp(t.data, ts[i].data.data(), ts[i].data.size()), 0) << t.name;
        EXPECT_EQ(f.find_tensor(t.name), &t);
    }
    EXPECT_EQ(f.find_tensor("missing"), nullptr);
    EXPECT_EQ(f.find("missing"), nullptr);
    EXPECT_EQ(f.file_size(), f.data_offset() + expect_offset) << "every tensor padded, the last one too";
}

class RoundTrip : public ::testing::TestWithParam<size_t> {};

TEST_P(RoundTrip, EveryValueAndTensorType) {
    const size_t align = GetParam();
    auto kv = every_value_type();
    if (align != 32) kv.insert(kv.begin() + 3, KeyValue{"general.alignment", Value::u32((uint32_t)align)});
    const auto ts = every_tensor_type();
    ASSERT_EQ(ts.size(), 20u);

    Writer w;
    for (const auto & x : kv) w.set(x.key, x.value);
    for (const auto & t : ts) w.add_tensor(t.name, t.type, t.ne, t.data);
    const std::vector<uint8_t> bytes = w.write_to_memory();
    {
        SCOPED_TRACE("memory");
        const File f = File::from_memory(bytes.data(), bytes.size());
        check_file(f, kv, ts, align, bytes.data());
        EXPECT_EQ(f.path(), "");
    }

    const std::string path = test::temp_path(".gguf");
    w.write(path);
    {
        SCOPED_TRACE("file");
        const File f = File::open(path);
        EXPECT_EQ(f.path(), path);
        EXPECT_EQ(f.file_size(), bytes.size());
        const std::vector<uint8_t> on_disk(f.tensors()[0].data - f.data_offset(),
                                           f.tensors()[0].data - f.data_offset() + f.file_size());
        EXPECT_EQ(on_disk, bytes) << "file and memory writers produce the same bytes";
        check_file(f, kv, ts, align, f.tensors()[0].data - f.data_offset());
        f.prefetch();

        // Re-writing a read file (metadata copied, tensors by reference) reproduces it byte for byte.
        Writer again;
        again.copy_metadata(f);
        for (const TensorInfo & t : f.tensors())
            again.add_tensor_ref(t.name, t.type, std::span<const int64_t>(t.ne, t.n_dims), t.data, t.n_bytes);
        EXPECT_EQ(again.write_to_memory(), bytes);
    }
    std::filesystem::remove(path);
    for (const auto & e : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()))
        EXPECT_EQ(e.path().string().rfind(path + ".", 0), std::string::npos) << "temporary file left: " << e.path();
}

INSTANTIATE_TEST_SUITE_P(Alignments, RoundTrip, ::testing::Values(size_t{32}, size_t{64}));

TEST(GgufWriter, SetReplacesInPlaceRemoveAndPrefixCopy) {
    Writer w;
    w.set("a", Value::u32(1));
    w.set("tokenizer.x", Value::string("x"));
    w.set("b", Value::u32(2));
    w.set("a", Value::string("replaced"));
    w.remove("b");
    w.remove("not-there");
    ASSERT_NE(w.find("a"), nullptr);
    EXPECT_EQ(w.find("a")->as_string(), "replaced");
    EXPECT_EQ(w.find("b"), nullptr);
    const auto bytes = w.write_to_memory();
    const File f = File::from_memory(bytes.data(), bytes.size());
    ASSERT_EQ(f.metadata().size(), 2u);
    EXPECT_EQ(f.metadata()[0].key, "a");
    EXPECT_EQ(f.metadata()[1].key, "tokenizer.x");
    EXPECT_TRUE(f.tensors().empty());
    EXPECT_EQ(f.data_offset() % 32, 0u);

    Writer only_tok;
    only_tok.set("tokenizer.x", Value::string("old"));
    only_tok.copy_metadata(f, "tokenizer.");
    ASSERT_NE(only_tok.find("tokenizer.x"), nullptr);
    EXPECT_EQ(only_tok.find("tokenizer.x")->as_string(), "x");
    EXPECT_EQ(only_tok.find("a"), nullptr);
}

TEST(GgufWriter, RejectsBadTensorsAndValues) {
    Writer w;
    const std::vector<uint8_t> four(4);
    const int64_t ne1[] = {1};
    w.add_tensor("t", 0, ne1, four);
    auto expect_throw = [](auto fn, ErrorKind kind, const std::string & needle) {
        try {
            fn();
            ADD_FAILURE() << "no error, expected one naming " << needle;
        } catch (const Error & e) {
            EXPECT_EQ(e.kind(), kind) << e.what();
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    expect_throw([&] { w.add_tensor("t", 0, ne1, four); }, ErrorKind::ErrorKind_invalid_argument, "duplicate tensor name 't'");
    const int64_t ne2[] = {2};
    expect_throw([&] { w.add_tensor("u", 0, ne2, four); }, ErrorKind::ErrorKind_invalid_argument, "need 8");
    const int64_t ne33[] = {33};
    expect_throw([&] { w.add_tensor("q", 8, ne33, four); }, ErrorKind::ErrorKind_invalid_argument, "block size 32");
    expect_throw([&] { w.add_tensor("x", 99, ne1, four); }, ErrorKind::ErrorKind_unsupported, "99");
    const int64_t ne5[] = {1, 1, 1, 1, 1};
    expect_throw([&] { w.add_tensor("y", 0, ne5, four); }, ErrorKind::ErrorKind_invalid_argument, "5 dims");
    expect_throw([&] { w.add_tensor(std::string(64, 'n'), 0, ne1, four); }, ErrorKind::ErrorKind_invalid_argument,
                 "longer than 63");

    Writer bad_align;
    bad_align.set("general.alignment", Value::u32(48));
    expect_throw([&] { bad_align.write_to_memory(); }, ErrorKind::ErrorKind_invalid_argument, "general.alignment 48");
    bad_align.set("general.alignment", Value::u64(64));
    expect_throw([&] { bad_align.write_to_memory(); }, ErrorKind::ErrorKind_invalid_argument, "must be a u32");

    Writer bad_array;
    bad_array.set("arr", Value::array(ValueType::ValueType_u32, {Value::u32(1), Value::string("no")}));
    expect_throw([&] { bad_array.write_to_memory(); }, ErrorKind::ErrorKind_invalid_argument, "key 'arr'");
    Writer bad_range;
    bad_range.set("r", Value{ValueType::ValueType_u8, uint64_t{300}});
    expect_throw([&] { bad_range.write_to_memory(); }, ErrorKind::ErrorKind_invalid_argument, "300 does not fit u8");

    expect_throw([&] { w.write("/nonexistent-dir/x.gguf"); }, ErrorKind::ErrorKind_io, "/nonexistent-dir/x.gguf");
}

// The writer's exact bytes for a tiny file, built field by field from the format description (this is
// also the layout llama.cpp's writer produces and its reader insists on: offsets packed in order).
TEST(GgufWriter, ExactByteLayout) {
    Writer w;
    w.set("a", Value::u32(7));
    w.set("s", Value::strings({"x"}));
    const int64_t ne_w[] = {2};
    const std::vector<uint8_t> dw = {1, 2, 3, 4, 5, 6, 7, 8};
    w.add_tensor("w", 0, ne_w, dw);
    const int64_t ne_v[] = {1, 1};
    const std::vector<uint8_t> dv = {9, 10};
    w.add_tensor("v", 1, ne_v, dv);

    Bytes e;
    e.header(3, 2, 2);
    e.str("a").u32(4).u32(7);
    e.str("s").u32(9).u32(8).u64(1).str("x");
    e.tensor("w", {2}, 0, 0);
    e.tensor("v", {1, 1}, 1, 32);
    e.pad_to(32);
    e.b.insert(e.b.end(), dw.begin(), dw.end());
    e.pad_to(32);
    e.b.insert(e.b.end(), dv.begin(), dv.end());
    e.pad_to(32);
    EXPECT_EQ(w.write_to_memory(), e.b);
}

// GGUF v2 has the v3 layout (64-bit counts); write one by hand and read it.
TEST(GgufReader, ReadsVersion2) {
    Bytes f;
    f.header(2, 2, 3);
    f.str("general.architecture").u32(8).str("llama");
    f.str("llama.block_count").u32(4).u32(2);
    f.str("tokenizer.ggml.scores").u32(9).u32(6).u64(2).le<float>(-1.0f).le<float>(0.25f);
    f.tensor("token_embd.weight", {4, 2}, 0, 0);
    f.tensor("output_norm.weight", {4}, 1, 32);
    f.pad_to(32);
    const size_t data_at = f.at();
    for (int i = 0; i < 8; ++i) f.le<float>((float)i);
    f.pad_to(32);
    for (int i = 0; i < 4; ++i) f.le<uint16_t>(0x3c00);  // f16 1.0

    const File g = File::from_memory(f.b.data(), f.b.size());
    EXPECT_EQ(g.version(), 2u);
    EXPECT_EQ(g.data_offset(), data_at);
    EXPECT_EQ(g.get_string("general.architecture"), "llama");
    EXPECT_EQ(g.get_u64("llama.block_count"), 2u);
    const Array * scores = g.get_array("tokenizer.ggml.scores");
    ASSERT_NE(scores, nullptr);
    ASSERT_EQ(scores->size(), 2u);
    EXPECT_EQ(scores->at(1).as_f64(), 0.25);
    ASSERT_EQ(g.tensors().size(), 2u);
    const TensorInfo * emb = g.find_tensor("token_embd.weight");
    ASSERT_NE(emb, nullptr);
    EXPECT_EQ(emb->n_elements(), 8);
    EXPECT_EQ(emb->n_bytes, 32u);
    float x5;
    std::memcpy(&x5, emb->data + 5 * 4, 4);
    EXPECT_EQ(x5, 5.0f);
    const TensorInfo * norm = g.find_tensor("output_norm.weight");
    ASSERT_NE(norm, nullptr);
    EXPECT_EQ(norm->data, f.b.data() + data_at + 32);
    EXPECT_EQ(norm->n_bytes, 8u);
}

TEST(GgufReader, ZeroSizedDimensionIsAnEmptyTensor) {
    Writer w;
    const int64_t ne[] = {0, 5};
    w.add_tensor("empty", 0, ne, {});
    const auto bytes = w.write_to_memory();
    const File f = File::from_memory(bytes.data(), bytes.size());
    ASSERT_EQ(f.tensors().size(), 1u);
    EXPECT_EQ(f.tensors()[0].n_elements(), 0);
    EXPECT_EQ(f.tensors()[0].n_bytes, 0u);
}

TEST(GgufReader, MovedFileKeepsMappingAndIndexes) {
    Writer w;
    w.set("general.architecture", Value::string("llama"));
    const int64_t ne[] = {4};
    const std::vector<uint8_t> data = test::pattern_bytes(16, 9);
    w.add_tensor("w", 0, ne, data);
    const std::string path = test::temp_path(".gguf");
    w.write(path);
    File a = File::open(path);
    const uint8_t * p = a.tensors()[0].data;
    File b = std::move(a);
    EXPECT_EQ(b.find_tensor("w")->data, p);
    EXPECT_EQ(std::vector<uint8_t>(p, p + 16), data);
    EXPECT_EQ(b.get_string("general.architecture"), "llama");
    File c = File::open(path);  // a second mapping, released by the move-assignment
    c = std::move(b);
    EXPECT_EQ(c.find_tensor("w")->data, p);
    std::filesystem::remove(path);
}

TEST(GgufValue, AccessorsConvertAndReportMismatches) {
    EXPECT_EQ(Value::u8(200).as_u64(), 200u);
    EXPECT_EQ(Value::i32(7).as_u64(), 7u);
    EXPECT_EQ(Value::u32(7).as_i64(), 7);
    EXPECT_EQ(Value::i16(-3).as_i64(), -3);
    EXPECT_EQ(Value::i16(-3).as_f64(), -3.0);
    EXPECT_EQ(Value::f32(0.5f).as_f64(), 0.5);
    EXPECT_EQ(Value::u64(1ull << 40).as_f64(), 1099511627776.0);
    EXPECT_TRUE(Value::boolean(true).as_bool());
    EXPECT_EQ(Value::string("s").as_string(), "s");
    EXPECT_EQ(Value::strings({"a", "b"}).as_array().size(), 2u);

    auto expect_msg = [](auto fn, const std::string & needle) {
        try {
            fn();
            ADD_FAILURE() << "no error, expected " << needle;
        } catch (const Error & e) {
            EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_invalid_file);
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    expect_msg([] { Value::i8(-1).as_u64("llama.block_count"); }, "key 'llama.block_count': value -1");
    expect_msg([] { Value::u64(~0ull).as_i64("k"); }, "does not fit i64");
    expect_msg([] { Value::string("x").as_u64("general.alignment"); },
               "key 'general.alignment': expected an unsigned integer, got string");
    expect_msg([] { Value::f32(1).as_i64("k"); }, "expected an integer, got f32");
    expect_msg([] { Value::u8(1).as_bool("k"); }, "expected bool, got u8");
    expect_msg([] { Value::f32s({1}).as_string("k"); }, "expected string, got array of f32");
    expect_msg([] { Value::boolean(true).as_f64("k"); }, "expected a number, got bool");
    expect_msg([] { Value::u8(1).as_array(); }, "value: expected array, got u8");

    Writer w;
    w.set("s", Value::string("x"));
    w.set("n", Value::i32(-4));
    const auto bytes = w.write_to_memory();
    const File f = File::from_memory(bytes.data(), bytes.size());
    EXPECT_EQ(f.get_string("s"), "x");
    EXPECT_EQ(f.get_i64("n"), -4);
    EXPECT_EQ(f.get_f64("n"), -4.0);
    EXPECT_EQ(f.get_u64("absent"), std::nullopt);
    EXPECT_EQ(f.get_bool("absent"), std::nullopt);
    EXPECT_EQ(f.get_array("absent"), nullptr);
    expect_msg([&] { f.get_u64("n"); }, "key 'n'");
    expect_msg([&] { f.get_bool("s"); }, "key 's': expected bool, got string");
    expect_msg([&] { f.get_array("s"); }, "key 's'");
}

TEST(GgufReader, OpenReportsMissingFilesAsIo) {
    try {
        File::open("/nonexistent-dir/model.gguf");
        ADD_FAILURE() << "no error";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_io);
        EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/model.gguf"), std::string::npos);
    }
    const std::string path = test::temp_path(".gguf");
    { std::FILE * fp = std::fopen(path.c_str(), "wb"); std::fclose(fp); }
    try {
        File::open(path);
        ADD_FAILURE() << "no error for an empty file";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_invalid_file);
        EXPECT_NE(std::string(e.what()).find("magic"), std::string::npos) << e.what();
    }
    std::filesystem::remove(path);
}

}  // namespace
}  // namespace sy::gguf
