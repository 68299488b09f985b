// Writes a few small valid GGUF files into DIR, the seed corpus for fuzz_gguf: metadata of every value type
// (nested arrays included), tensors of plain and block-quantized types, and a non-default alignment.
#include <cstdio>
#include <string>
#include <vector>

#include "gguf/gguf.h"

using sy::gguf::Value;
using sy::gguf::ValueType;
using sy::gguf::Writer;

int main(int argc, char ** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    try {
        Writer a;
        a.set("general.architecture", Value::string("llama"));
        a.set("llama.block_count", Value::u32(1));
        a.set("llama.rope.freq_base", Value::f32(10000.0f));
        a.set("tokenizer.ggml.tokens", Value::strings({"<unk>", "<s>", "</s>", "a", "b"}));
        a.set("tokenizer.ggml.scores", Value::f32s({0, 0, 0, -1, -2}));
        a.set("tokenizer.ggml.token_type", Value::i32s({2, 3, 3, 1, 1}));
        a.set("tokenizer.ggml.add_bos_token", Value::boolean(true));
        const int64_t emb[] = {8, 5};
        a.add_tensor("token_embd.weight", 0, emb, std::vector<uint8_t>(8 * 5 * 4, 0x3f));
        const int64_t q[] = {32, 2};
        a.add_tensor("blk.0.attn_q.weight", 8, q, std::vector<uint8_t>(2 * 34, 0x11));  // q8_0
        const int64_t norm[] = {8};
        a.add_tensor("output_norm.weight", 1, norm, std::vector<uint8_t>(16, 0));  // f16
        a.write(dir + "/seed_llama.gguf");

        Writer b;
        b.set("general.alignment", Value::u32(64));
        b.set("u8", Value::u8(1));
        b.set("i8", Value::i8(-1));
        b.set("u16", Value::u16(2));
        b.set("i16", Value::i16(-2));
        b.set("u64", Value::u64(3));
        b.set("i64", Value::i64(-3));
        b.set("f64", Value::f64(0.5));
        b.set("nested", Value::array(ValueType::ValueType_array, {Value::i32s({1}), Value::strings({"x"})}));
        const int64_t k[] = {256, 1, 1};
        b.add_tensor("blk.0.ffn_down.weight", 12, k, std::vector<uint8_t>(144, 0x22));  // q4_K
        b.write(dir + "/seed_types.gguf");

        Writer c;  // metadata only
        c.set("general.name", Value::string("empty"));
        c.write(dir + "/seed_empty.gguf");
    } catch (const std::exception & e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
