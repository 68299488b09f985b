// The reader against truncated, corrupt and hostile files: every truncation of a valid file, and one
// hand-made file per check the reader makes. Each case asserts a sy::Error whose message names the field.
// Buffers are copied to exactly-sized heap blocks so an out-of-bounds read shows up under ASan.
#include <limits>

#include "gguf/gguf.h"
#include "gguf_test_util.h"

namespace sy::gguf {
namespace {

using test::Bytes;

constexpr uint32_t kF32 = 0, kF16 = 1, kQ8_0 = 8, kF64 = 28;
constexpr uint32_t kTypeU8 = 0, kTypeU32 = 4, kTypeBool = 7, kTypeString = 8, kTypeArray = 9;

void expect_error(const std::vector<uint8_t> & bytes, const std::string & needle,
                  ErrorKind kind = ErrorKind::ErrorKind_invalid_file) {
    const std::vector<uint8_t> exact(bytes);  // heap block of exactly bytes.size()
    try {
        File::from_memory(exact.data(), exact.size());
        ADD_FAILURE() << "parsed without error; expected one naming '" << needle << "'";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), kind) << e.what();
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
        EXPECT_EQ(std::string(e.what()).rfind("gguf: ", 0), 0u) << e.what();
    }
}

// A small valid file: scalars, a string array, a nested array, an alignment, and three tensors; the last
// tensor's size is a multiple of the alignment, so every proper prefix is missing required bytes.
std::vector<uint8_t> small_valid_file() {
    Writer w;
    w.set("general.architecture", Value::string("llama"));
    w.set("general.alignment", Value::u32(64));
    w.set("llama.block_count", Value::u32(1));
    w.set("flag", Value::boolean(true));
    w.set("tokenizer.ggml.tokens", Value::strings({"<s>", "a", "bc"}));
    w.set("nested", Value::array(ValueType::ValueType_array, {Value::i32s({1, 2}), Value::f32s({})}));
    const int64_t ne_a[] = {32, 2};
    w.add_tensor("a", kQ8_0, ne_a, test::pattern_bytes(68, 1));
    const int64_t ne_b[] = {3};
    w.add_tensor("b", kF16, ne_b, test::pattern_bytes(6, 2));
    const int64_t ne_c[] = {16};
    w.add_tensor("c", kF32, ne_c, test::pattern_bytes(64, 3));
    return w.write_to_memory();
}

TEST(GgufCorrupt, EveryTruncationIsAnError) {
    const std::vector<uint8_t> full = small_valid_file();
    ASSERT_NO_THROW(File::from_memory(full.data(), full.size()));
    ASSERT_EQ(full.size() % 64, 0u);
    for (size_t n = 0; n < full.size(); ++n) {
        const std::vector<uint8_t> cut(full.begin(), full.begin() + (ptrdiff_t)n);
        try {
            File::from_memory(cut.empty() ? nullptr : cut.data(), cut.size());
            ADD_FAILURE() << "prefix of " << n << " bytes parsed without error";
        } catch (const Error & e) {
            EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_invalid_file) << n << ": " << e.what();
            const std::string msg = e.what();
            EXPECT_TRUE(msg.find("truncated") != std::string::npos || msg.find("past end of file") != std::string::npos ||
                        msg.find("left in the file") != std::string::npos || msg.find("cannot fit") != std::string::npos)
                << n << ": " << msg;
        }
    }
}

TEST(GgufCorrupt, TruncationMessageNamesFieldAndOffset) {
    Bytes f;
    f.header(3, 0, 1).str("key").u32(kTypeU32).u8(1).u8(2);
    expect_error(f.b, "truncated: u32 value at offset 39 needs 4 bytes, file size 41");
    expect_error(f.b, "key #0 'key'");
}

TEST(GgufCorrupt, BadMagic) {
    Bytes f;
    f.raw("GGML").u32(3).u64(0).u64(0);
    expect_error(f.b, "bad magic 'GGML' at offset 0");
}

TEST(GgufCorrupt, BadVersions) {
    Bytes v1, v0, v4, be;
    v1.header(1, 0, 0);
    v0.header(0, 0, 0);
    v4.header(4, 0, 0);
    be.header(0x03000000u, 0, 0);
    expect_error(v1.b, "version 1 at offset 4 is not supported", ErrorKind::ErrorKind_unsupported);
    expect_error(v0.b, "version 0 at offset 4");
    expect_error(v4.b, "version 4 at offset 4");
    expect_error(be.b, "big-endian", ErrorKind::ErrorKind_unsupported);
}

TEST(GgufCorrupt, HugeCounts) {
    Bytes kv, tensors;
    kv.header(3, 0, 1ull << 60).zeros(64);
    tensors.header(3, ~0ull, 0).zeros(64);
    expect_error(kv.b, "n_kv 1152921504606846976 at offset 16 cannot fit");
    expect_error(tensors.b, "n_tensors 18446744073709551615 at offset 8 cannot fit");
}

TEST(GgufCorrupt, HugeStringLengths) {
    Bytes key, value, name;
    key.header(3, 0, 1).u64(1ull << 62).u32(kTypeU8).u8(0);
    value.header(3, 0, 1).str("k").u32(kTypeString).u64(~0ull).raw("abc");
    name.header(3, 1, 0).u64(1ull << 40).u32(1).i64(1).u32(kF32).u64(0);
    expect_error(key.b, "key length 4611686018427387904 at offset 24 exceeds the 5 bytes left");
    expect_error(value.b, "key #0 'k': string value length 18446744073709551615 at offset 37");
    expect_error(name.b, "tensor #0: tensor name length 1099511627776 at offset 24");
}

TEST(GgufCorrupt, HugeArrayCount) {
    Bytes f;
    f.header(3, 0, 1).str("tokenizer.ggml.tokens").u32(kTypeArray).u32(kTypeString).u64(1ull << 40).str("a");
    expect_error(f.b, "key #0 'tokenizer.ggml.tokens': array count 1099511627776 at offset 61 cannot fit in the 9 bytes");
}

TEST(GgufCorrupt, MetadataItemLimit) {
    // Every byte is really there, but more array items than the reader will hold in memory.
    const uint64_t n = (1ull << 24) + 1;
    Bytes f;
    f.header(3, 0, 1).str("big").u32(kTypeArray).u32(kTypeU8).u64(n).zeros((size_t)n);
    expect_error(f.b, "key #0 'big': array count 16777217", ErrorKind::ErrorKind_limit);
}

TEST(GgufCorrupt, NestedArrayDepthBomb) {
    Bytes f;
    f.header(3, 0, 1).str("bomb").u32(kTypeArray);
    for (int i = 0; i < 5000; ++i) f.u32(kTypeArray).u64(1);
    f.u32(kTypeU8).u64(1).u8(0);
    expect_error(f.b, "key #0 'bomb': array at offset 232 nested deeper than 16 levels");

    Bytes ok;  // exactly 16 levels is fine
    ok.header(3, 0, 1).str("deep").u32(kTypeArray);
    for (int i = 0; i < 15; ++i) ok.u32(kTypeArray).u64(1);
    ok.u32(kTypeU8).u64(1).u8(42);
    const File g = File::from_memory(ok.b.data(), ok.b.size());
    Value v = *g.find("deep");
    for (int i = 0; i < 15; ++i) v = v.as_array().at(0);
    EXPECT_EQ(v.as_array().at(0).as_u64(), 42u);
}

TEST(GgufCorrupt, BadValueTypesAndBools) {
    Bytes type, elem, boolean, dup;
    type.header(3, 0, 1).str("k").u32(13).u64(0);
    elem.header(3, 0, 1).str("k").u32(kTypeArray).u32(200).u64(0);
    boolean.header(3, 0, 1).str("k").u32(kTypeBool).u8(2);
    dup.header(3, 0, 2).str("k").u32(kTypeU8).u8(1).str("k").u32(kTypeU8).u8(2);
    expect_error(type.b, "key #0 'k': value type 13 at offset 33 is not a GGUF value type");
    expect_error(elem.b, "array element type 200 at offset 37");
    expect_error(boolean.b, "bool value 2 at offset 37 is not 0 or 1");
    expect_error(dup.b, "duplicate key 'k' (keys #0 and #1)");
}

TEST(GgufCorrupt, BadAlignment) {
    for (uint32_t a : {0u, 3u, 48u}) {
        Bytes f;
        f.header(3, 0, 1).str("general.alignment").u32(kTypeU32).u32(a);
        expect_error(f.b, "general.alignment " + std::to_string(a) + " is not a power of two");
    }
    Bytes s;
    s.header(3, 0, 1).str("general.alignment").u32(kTypeString).str("32");
    expect_error(s.b, "general.alignment has type string");
}

// One tensor info after an empty metadata section, then data at the default alignment.
std::vector<uint8_t> one_tensor(std::vector<int64_t> ne, uint32_t type, uint64_t offset, size_t data_bytes) {
    Bytes f;
    f.header(3, 1, 0).tensor("blk.0.attn_q.weight", std::move(ne), type, offset).pad_to(32).zeros(data_bytes);
    return f.b;
}

TEST(GgufCorrupt, TensorShapeAndType) {
    expect_error(one_tensor({}, kF32, 0, 32), "tensor 'blk.0.attn_q.weight': n_dims 0 at offset 51 is not in 1..4");
    expect_error(one_tensor({1, 1, 1, 1, 1}, kF32, 0, 32), "n_dims 5");
    expect_error(one_tensor({4, -1}, kF32, 0, 32), "ne[1] = -1 at offset 63 is negative");
    expect_error(one_tensor({1ll << 32, 1ll << 32}, kF32, 0, 32), "element count overflows");
    // Found by fuzzing: a zero ne[0] hid the overflow of ne[1] * ne[2].
    expect_error(one_tensor({0, 1ll << 56, 1ll << 16}, kF32, 0, 32), "element count overflows");
    expect_error(one_tensor({1ll << 61}, kF64, 0, 32), "byte size of shape overflows");
    expect_error(one_tensor({4}, 99, 0, 32), "tensor 'blk.0.attn_q.weight': unknown or unsupported ggml type id 99",
                 ErrorKind::ErrorKind_unsupported);
    expect_error(one_tensor({33, 2}, kQ8_0, 0, 96), "ne[0] = 33 is not a multiple of the q8_0 block size 32");
}

TEST(GgufCorrupt, TensorExtents) {
    // 4 f32 = 16 bytes at offset 0 is fine; the data section starts at 96.
    ASSERT_NO_THROW({
        const auto ok = one_tensor({4}, kF32, 0, 16);
        File::from_memory(ok.data(), ok.size());
    });
    expect_error(one_tensor({4}, kF32, 0, 15),
                 "gguf: tensor 'blk.0.attn_q.weight': data [96, 112) extends past end of file (size 111)");
    expect_error(one_tensor({4}, kF32, 1ull << 62, 16), "extends past end of file");
    expect_error(one_tensor({4}, kF32, ~0ull << 5, 16), "extends past end of file");  // offset + base wraps
    expect_error(one_tensor({4}, kF32, 16, 64), "data offset 16 at offset 67 is not a multiple of the alignment 32");
}

TEST(GgufCorrupt, OverlappingAndDuplicateTensors) {
    Bytes overlap;
    overlap.header(3, 2, 0).tensor("a", {16}, kF32, 0).tensor("b", {8}, kF32, 32).pad_to(32).zeros(128);
    expect_error(overlap.b, "tensor 'a' data [0, 64) overlaps tensor 'b' data [32, 64)");

    // An overlap hidden behind a zero-sized tensor between the two.
    Bytes hidden;
    hidden.header(3, 3, 0)
        .tensor("a", {32}, kF32, 0)
        .tensor("z", {0}, kF32, 64)
        .tensor("b", {8}, kF32, 96)
        .pad_to(32)
        .zeros(256);
    expect_error(hidden.b, "tensor 'a' data [0, 128) overlaps tensor 'b'");

    Bytes dup;
    dup.header(3, 2, 0).tensor("w", {8}, kF32, 0).tensor("w", {8}, kF32, 32).pad_to(32).zeros(64);
    expect_error(dup.b, "duplicate tensor name 'w' (tensors #0 and #1)");
}

TEST(GgufCorrupt, OpenNamesThePath) {
    const std::string path = test::temp_path(".gguf");
    const auto bytes = one_tensor({4}, kF32, 0, 15);
    std::FILE * fp = std::fopen(path.c_str(), "wb");
    ASSERT_NE(fp, nullptr);
    std::fwrite(bytes.data(), 1, bytes.size(), fp);
    std::fclose(fp);
    try {
        File::open(path);
        ADD_FAILURE() << "no error";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), ErrorKind::ErrorKind_invalid_file);
        EXPECT_EQ(std::string(e.what()).rfind(path + ": gguf: tensor 'blk.0.attn_q.weight': data [96, 112)", 0), 0u)
            << e.what();
    }
    std::remove(path.c_str());
}

}  // namespace
}  // namespace sy::gguf
