// Copy-constrained strings (grammar/copy.h): the span rule, tagging by path, the mask at every position of
// random decodes against a brute-force reference (every escaped span of the sources enumerated), rollback,
// and the fallback to the plain grammar when no source can continue.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "grammar/copy.h"
#include "test_util.h"

namespace sy::grammar {
namespace {

using test::byte_vocab;
using test::kEos;

const ojson & tools() {
    static const ojson t = ojson::parse(R"([
      {"type":"function","function":{"name":"create_task","parameters":{"type":"object","properties":{
        "title":{"type":"string"},"priority":{"type":"string","enum":["low","high"]},
        "tags":{"type":"array","items":{"type":"string"}}},"required":["title"]}}},
      {"type":"function","function":{"name":"search","parameters":{"type":"object","properties":{
        "query":{"type":"string","maxLength":4},"id":{"type":"integer"}},"required":["query"]}}}])");
    return t;
}

const std::set<std::string> kFields = {"create_task.title", "create_task.tags[]", "search.query"};

std::string esc(const std::string & s) {
    std::string q = json_quote(s);
    return q.substr(1, q.size() - 2);
}

TEST(GrammarCopy, SpanRule) {
    const std::vector<std::string> src = {"Add \"buy milk\" to my list", "café-au-lait x"};
    EXPECT_TRUE(is_copy_span(src, "buy"));
    EXPECT_TRUE(is_copy_span(src, "buy milk"));
    EXPECT_TRUE(is_copy_span(src, "\"buy milk\""));
    EXPECT_TRUE(is_copy_span(src, "my list"));
    EXPECT_TRUE(is_copy_span(src, "café"));
    EXPECT_TRUE(is_copy_span(src, "au-lait x"));
    EXPECT_FALSE(is_copy_span(src, "uy"));
    EXPECT_FALSE(is_copy_span(src, "buy mi"));
    EXPECT_FALSE(is_copy_span(src, "caf"));  // é is a word character
    EXPECT_FALSE(is_copy_span(src, ""));
    EXPECT_FALSE(is_copy_span(src, "milk to"));
}

TEST(GrammarCopy, FieldsAreTaggedByPath) {
    auto g = compile_tool_grammar(tools(), "required", false, ToolCallFormat::compact(), kFields);
    int copy_tags = 0;
    for (const TagInfo & t : g->tags())
        if (t.kind == TagKind::TagKind_copy) {
            ++copy_tags;
            EXPECT_TRUE(t.arg == "title" || t.arg == "tags" || t.arg == "query") << t.arg;
        }
    EXPECT_EQ(copy_tags, 3);
    // The enum, the integer and unlisted strings are untouched; the key changes with the copy fields.
    auto plain = compile_tool_grammar(tools(), "required", false, ToolCallFormat::compact());
    for (const TagInfo & t : plain->tags()) EXPECT_NE(t.kind, TagKind::TagKind_copy);
    EXPECT_NE(tool_grammar_key(tools(), "required", false, ToolCallFormat::compact(), kFields),
              tool_grammar_key(tools(), "required", false, ToolCallFormat::compact()));
    EXPECT_EQ(tool_grammar_key(tools(), "required", false, ToolCallFormat::compact(), {}),
              tool_grammar_key(tools(), "required", false, ToolCallFormat::compact()));
    // Schemas: paths relative to the root.
    SchemaOptions so;
    so.copy_fields = {"a.b", "c[]"};
    auto sg = compile_json_schema(ojson::parse(R"({"type":"object","properties":{
        "a":{"type":"object","properties":{"b":{"type":"string"}}},"c":{"type":"array","items":{"type":"string"}}}})"), so);
    int n = 0;
    for (const TagInfo & t : sg->tags()) n += t.kind == TagKind::TagKind_copy;
    EXPECT_EQ(n, 2);
}

// Brute-force reference: every escaped span of the sources, and whether a byte was read in a copy string.
struct Reference {
    std::set<std::string> spans;        // escaped, complete
    std::set<std::string> prefixes;     // escaped prefixes of spans (incl. complete ones)
    explicit Reference(const std::vector<std::string> & sources) {
        for (const std::string & s : sources)
            for (size_t a = 0; a < s.size(); ++a)
                for (size_t b = a + 1; b <= s.size(); ++b) {
                    const std::string v = s.substr(a, b - a);
                    if (!is_copy_span(sources, v)) continue;
                    const std::string e = esc(v);
                    spans.insert(e);
                    for (size_t k = 0; k <= e.size(); ++k) prefixes.insert(e.substr(0, k));
                }
    }
};

// Per byte of `text`, whether it is read inside a copy string (tag of the position), and the same for the end.
std::vector<uint8_t> copy_flags(const std::shared_ptr<const CompiledGrammar> & cg, const std::string & text, bool & end_in) {
    GrammarMatcher m(cg);
    std::vector<uint8_t> out;
    for (char c : text) {
        EXPECT_TRUE(m.accept_bytes(std::string(1, c)));
        out.push_back(cg->grammar().tags()[m.last_step_tags()[0]].kind == TagKind::TagKind_copy);
    }
    // The end: does the next byte of some continuation read in a copy state? Probe with one content byte.
    end_in = false;
    for (int b : std::initializer_list<int>{'a', 'b', 'x', '"', '\\', 'n', 't', 'u', '0', 0x80, 0x90, 0xA0, 0xBF}) {
        if (m.accept_bytes(std::string(1, (char)b))) {
            end_in = end_in || cg->grammar().tags()[m.last_step_tags()[0]].kind == TagKind::TagKind_copy;
            m.rollback(1);
        }
    }
    return out;
}

// Whether the copy strings of `text` touched by bytes at or after `from` keep the rule; `free_from` is the
// start of a string that fell back (exempt), or npos.
bool reference_ok(const Reference & ref, const std::string & text, const std::vector<uint8_t> & flags, bool end_in,
                  size_t from, size_t free_from) {
    for (size_t i = 0; i < text.size();) {
        if (!flags[i]) {
            ++i;
            continue;
        }
        size_t j = i;
        while (j < text.size() && flags[j]) ++j;
        const bool open = j == text.size() && end_in;
        if (j > from && i != free_from) {
            if (open) {
                if (!ref.prefixes.count(text.substr(i, j - i))) return false;
            } else if (!ref.spans.count(text.substr(i, j - i - 1))) {
                return false;
            }
        }
        i = j;
    }
    return true;
}

void random_decodes(const std::vector<std::string> & sources, const std::vector<std::string> & extra, int n_runs) {
    auto vocab = byte_vocab(extra);
    auto g = compile_tool_grammar(tools(), "required", true, ToolCallFormat::compact(), kFields);
    auto cg = std::make_shared<CompiledGrammar>(g, vocab);
    auto cc = std::make_shared<CopyConstraint>(vocab, sources);
    Reference ref(sources);
    const int32_t nw = mask_words(vocab->n_tokens());
    for (int run = 0; run < n_runs; ++run) {
        std::mt19937 rng(run);
        GrammarMatcher m(cg), plain(cg);
        m.set_copy_constraint(cc);
        std::string text;
        size_t free_from = std::string::npos;
        std::vector<std::vector<uint32_t>> masks;
        for (int step = 0; step < 80; ++step) {
            std::vector<uint32_t> got(nw), gm(nw);
            m.fill_mask(got.data());
            plain.fill_mask(gm.data());
            // Reference: grammar tokens whose copy strings keep the rule; all grammar tokens if none does.
            bool fe = false;
            const std::vector<uint8_t> fl0 = copy_flags(cg, text, fe);
            const size_t open_start = [&] {
                if (!fe) return std::string::npos;
                size_t i = text.size();
                while (i > 0 && fl0[i - 1]) --i;
                return i;
            }();
            std::vector<uint32_t> want(nw, 0);
            bool any = false;
            for (TokenId id = 0; id < vocab->n_tokens(); ++id) {
                if (!mask_test(gm.data(), id) || vocab->is_stop(id)) continue;
                bool end_in = false;
                const std::string t = text + vocab->bytes(id);
                const std::vector<uint8_t> fl = copy_flags(cg, t, end_in);
                const size_t fr = free_from != std::string::npos && free_from == open_start ? free_from : std::string::npos;
                if (reference_ok(ref, t, fl, end_in, text.size(), fr)) {
                    want[id >> 5] |= 1u << (id & 31);
                    any = true;
                }
            }
            if (!any) {
                want = gm;
                free_from = open_start;
            }
            for (TokenId s : vocab->stop_ids())
                if (mask_test(gm.data(), s)) want[s >> 5] |= 1u << (s & 31);
            for (TokenId id = 0; id < vocab->n_tokens(); ++id)
                ASSERT_EQ(mask_test(got.data(), id), mask_test(want.data(), id))
                    << "run " << run << " after '" << text << "' token '" << vocab->bytes(id) << "'";
            masks.push_back(got);
            std::vector<TokenId> allowed;
            for (TokenId id = 0; id < vocab->n_tokens(); ++id)
                if (mask_test(got.data(), id)) allowed.push_back(id);
            ASSERT_FALSE(allowed.empty());
            // Prefer multi-byte tokens so runs reach closing quotes and later fields.
            TokenId pick = allowed[rng() % allowed.size()];
            for (int tries = 0; tries < 3 && vocab->bytes(pick).size() < 2 && pick != kEos; ++tries)
                pick = allowed[rng() % allowed.size()];
            if (pick == kEos) break;
            ASSERT_TRUE(m.accept_token(pick));
            ASSERT_TRUE(plain.accept_token(pick));
            text += vocab->bytes(pick);
        }
        // Rollback restores the copy state with the grammar state.
        const int32_t back = std::min<int32_t>(m.n_steps(), 7);
        m.rollback(back);
        std::vector<uint32_t> again(nw);
        m.fill_mask(again.data());
        EXPECT_EQ(again, masks[masks.size() - 1 - (size_t)back]) << "run " << run;
    }
}

TEST(GrammarCopy, MaskMatchesBruteForceWithEscapesAndUtf8) {
    const std::vector<std::string> sources = {"Add \"buy milk\" to groceries, tag home",
                                              "café über\tx\\y naïve 42"};
    const std::vector<std::string> extra = {
        "{\"name\":\"create_task\",\"arguments\":{\"title\":\"", "{\"name\":\"search\",\"arguments\":{\"query\":\"",
        "\"buy", "buy", " milk", "buy milk", "milk\"", "milk\\\"", "\\\"buy", "\\\"", "gro", "ceries", "groceries\"",
        "\",\"", "\"}", "\"}}", "\",\"tags\":[\"", "home\"]", "\"]", "caf", "é", "café", "\\t", "\\\\", "über", "na",
        "ïve", "\\ty", "x\\\\y", "\xc3", "\xa9", "tag", " home", "42\"", "\",\"priority\":\"low\"", "to gro"};
    random_decodes(sources, extra, 12);
}

TEST(GrammarCopy, TokensEnteringACopyStringAreChecked) {
    // From the structure before a title, `"buy` enters the string with a valid span start, `"uy` does not.
    auto vocab = byte_vocab({"\"buy", "\"uy", ":\"buy", ":\"uy"});
    auto g = compile_tool_grammar(tools(), "required", false, ToolCallFormat::compact(), kFields);
    auto cg = std::make_shared<CompiledGrammar>(g, vocab);
    GrammarMatcher m(cg);
    m.set_copy_constraint(std::make_shared<CopyConstraint>(vocab, std::vector<std::string>{"buy milk"}));
    ASSERT_TRUE(m.accept_bytes("{\"name\":\"create_task\",\"arguments\":{\"title\""));
    std::vector<uint32_t> w(mask_words(vocab->n_tokens()));
    m.fill_mask(w.data());
    EXPECT_TRUE(mask_test(w.data(), 258 + 2));   // :"buy
    EXPECT_FALSE(mask_test(w.data(), 258 + 3));  // :"uy
    ASSERT_TRUE(m.accept_bytes(":"));
    m.fill_mask(w.data());
    EXPECT_TRUE(mask_test(w.data(), 258 + 0));
    EXPECT_FALSE(mask_test(w.data(), 258 + 1));
    EXPECT_TRUE(mask_test(w.data(), '"'));
    ASSERT_TRUE(m.accept_bytes("\""));
    EXPECT_TRUE(m.copy_active());
    m.fill_mask(w.data());
    EXPECT_TRUE(mask_test(w.data(), 'b'));
    EXPECT_TRUE(mask_test(w.data(), 'm'));
    EXPECT_FALSE(mask_test(w.data(), 'u'));
    EXPECT_FALSE(mask_test(w.data(), '"'));  // no empty span
    ASSERT_TRUE(m.accept_bytes("bu"));
    m.fill_mask(w.data());
    EXPECT_FALSE(mask_test(w.data(), '"'));  // not at a word end
    ASSERT_TRUE(m.accept_bytes("y"));
    m.fill_mask(w.data());
    EXPECT_TRUE(mask_test(w.data(), '"'));
    EXPECT_TRUE(mask_test(w.data(), ' '));
}

TEST(GrammarCopy, FieldSourcesAreCopiedWhole) {
    // A slot tagger's spans for `title` (chat/slot_tagger.h): the title is one of them, whole; other copy
    // fields keep the request's spans.
    auto vocab = byte_vocab();
    auto g = compile_tool_grammar(tools(), "required", false, ToolCallFormat::compact(), kFields);
    auto cg = std::make_shared<CompiledGrammar>(g, vocab);
    std::vector<uint32_t> w(mask_words(vocab->n_tokens()));
    GrammarMatcher m(cg);
    m.set_copy_constraint(std::make_shared<CopyConstraint>(vocab, std::vector<std::string>{"add buy milk to my list"}));
    m.set_field_copy_sources({{"title", std::make_shared<CopyConstraint>(vocab, std::vector<std::string>{"buy milk", "my list"}, true)}});
    ASSERT_TRUE(m.accept_bytes("{\"name\":\"create_task\",\"arguments\":{\"title\":\""));
    m.fill_mask(w.data());
    EXPECT_TRUE(mask_test(w.data(), 'b'));
    EXPECT_TRUE(mask_test(w.data(), 'm'));
    EXPECT_FALSE(mask_test(w.data(), 'a'));  // "add" starts a request span, not a tagged one
    EXPECT_FALSE(mask_test(w.data(), 'l'));  // "list" is inside a tagged span
    ASSERT_TRUE(m.accept_bytes("buy"));
    m.fill_mask(w.data());
    EXPECT_FALSE(mask_test(w.data(), '"'));  // a word end, but not the span's end
    ASSERT_TRUE(m.accept_bytes(" milk"));
    m.fill_mask(w.data());
    EXPECT_TRUE(mask_test(w.data(), '"'));
    ASSERT_TRUE(m.accept_bytes("\",\"tags\":[\""));
    m.fill_mask(w.data());
    EXPECT_TRUE(mask_test(w.data(), 'a'));  // tags: any span of the request
    EXPECT_TRUE(mask_test(w.data(), 'l'));
    ASSERT_TRUE(m.accept_bytes("list\"]}}"));
    EXPECT_TRUE(m.can_terminate());
}

TEST(GrammarCopy, FallsBackWhenNoSourceCanContinue) {
    auto vocab = byte_vocab();
    auto g = compile_tool_grammar(tools(), "required", false, ToolCallFormat::compact(), kFields);
    auto cg = std::make_shared<CompiledGrammar>(g, vocab);
    std::vector<uint32_t> w(mask_words(vocab->n_tokens()));
    {
        // query has maxLength 4: after "hell" the grammar needs the quote, the copy rule needs "o".
        GrammarMatcher m(cg);
        m.set_copy_constraint(std::make_shared<CopyConstraint>(vocab, std::vector<std::string>{"hello world"}));
        ASSERT_TRUE(m.accept_bytes("{\"name\":\"search\",\"arguments\":{\"query\":\"hell"));
        EXPECT_TRUE(m.copy_active());
        m.fill_mask(w.data());
        EXPECT_TRUE(mask_test(w.data(), '"'));
        EXPECT_TRUE(m.copy_fallback());
        ASSERT_TRUE(m.accept_bytes("\"}}"));
        EXPECT_TRUE(m.can_terminate());
    }
    {
        // No source text at all: the string is free from its first byte.
        GrammarMatcher m(cg);
        m.set_copy_constraint(std::make_shared<CopyConstraint>(vocab, std::vector<std::string>{}));
        ASSERT_TRUE(m.accept_bytes("{\"name\":\"search\",\"arguments\":{\"query\":\""));
        EXPECT_TRUE(m.copy_fallback());
        m.fill_mask(w.data());
        EXPECT_TRUE(mask_test(w.data(), 'q'));
    }
    {
        // An accept outside the rule (e.g. forced by a caller) frees the rest of that string, not the next.
        GrammarMatcher m(cg);
        m.set_copy_constraint(std::make_shared<CopyConstraint>(vocab, std::vector<std::string>{"tag home now"}));
        ASSERT_TRUE(m.accept_bytes("{\"name\":\"create_task\",\"arguments\":{\"title\":\"zz"));
        EXPECT_TRUE(m.copy_fallback());
        ASSERT_TRUE(m.accept_bytes("\",\"tags\":[\""));
        EXPECT_TRUE(m.copy_active());
        m.fill_mask(w.data());
        EXPECT_FALSE(mask_test(w.data(), 'z'));
        EXPECT_TRUE(mask_test(w.data(), 'h'));
    }
}

TEST(GrammarCopy, IntegersAndDatesAreSpansToo) {
    // An integer copy field takes a whole number the sources wrote; a format:date copy field an ISO date
    // they wrote (the compact format's date line), under both its own rule and the span rule.
    const ojson t = ojson::parse(R"([{"type":"function","function":{"name":"move","parameters":{"type":"object",
        "properties":{"id":{"type":"integer"},"due":{"type":"string","format":"date"},"n":{"type":"integer","minimum":1}},
        "required":["id"]}}}])");
    std::vector<ToolSpec> specs = parse_tools(t);
    EXPECT_EQ(copy_candidate_fields(specs), (std::vector<std::string>{"move.id", "move.due", "move.n"}));
    std::vector<std::pair<std::string, std::string>> seen;
    for_each_copy_candidate(specs[0], ojson::parse(R"({"id":572,"due":"2026-11-27"})"),
                            [&](const std::string & p, const std::string & v) { seen.emplace_back(p, v); });
    EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{{"id", "572"}, {"due", "2026-11-27"}}));

    auto vocab = byte_vocab({"57", "72", "2}", "5,", "2,", "7,"});
    auto g = compile_tool_grammar(t, "required", false, ToolCallFormat::compact(), {"move.id", "move.due", "move.n"});
    int n_int = 0, n_str = 0;
    for (const TagInfo & ti : g->tags())
        if (ti.kind == TagKind::TagKind_copy) (ti.copy_integer ? n_int : n_str) += 1;
    EXPECT_EQ(n_int, 2);
    EXPECT_EQ(n_str, 1);
    auto cg = std::make_shared<CompiledGrammar>(g, vocab);
    const std::vector<std::string> sources = {"move task 572 to friday, not 57 or 5x", "2026-11-27"};
    std::vector<uint32_t> w(mask_words(vocab->n_tokens()));
    auto allowed = [&](GrammarMatcher & m, const std::string & tok) {
        m.fill_mask(w.data());
        for (TokenId id = 0; id < vocab->n_tokens(); ++id)
            if (vocab->bytes(id) == tok) return mask_test(w.data(), id);
        ADD_FAILURE() << "no token " << tok;
        return false;
    };
    GrammarMatcher m(cg);
    m.set_copy_constraint(std::make_shared<CopyConstraint>(vocab, sources));
    ASSERT_TRUE(m.accept_bytes("{\"name\":\"move\",\"arguments\":{\"id\":"));
    EXPECT_TRUE(m.copy_active());
    EXPECT_TRUE(allowed(m, "5"));
    EXPECT_TRUE(allowed(m, "57"));
    EXPECT_FALSE(allowed(m, "7"));   // not at a word start
    EXPECT_TRUE(allowed(m, "2"));    // 2026 is a whole number too ('-' is no word byte)
    EXPECT_FALSE(allowed(m, "6"));
    EXPECT_FALSE(allowed(m, "-"));
    ASSERT_TRUE(m.accept_bytes("5"));
    EXPECT_FALSE(allowed(m, ","));   // "5" is no whole number of the sources ("5x" is one word)
    EXPECT_FALSE(allowed(m, "5,"));
    EXPECT_TRUE(allowed(m, "72"));
    EXPECT_TRUE(allowed(m, "7,"));   // "57", whole
    ASSERT_TRUE(m.accept_bytes("7"));
    EXPECT_TRUE(allowed(m, ","));
    EXPECT_TRUE(allowed(m, "}"));
    EXPECT_TRUE(allowed(m, "2"));
    EXPECT_TRUE(allowed(m, "2,"));
    EXPECT_TRUE(allowed(m, "2}"));
    EXPECT_FALSE(allowed(m, "0"));
    ASSERT_TRUE(m.accept_bytes("2,"));
    EXPECT_FALSE(m.copy_active());
    // The date: only the date the sources name (the format's rule alone would allow any date).
    ASSERT_TRUE(m.accept_bytes("\"due\":\""));
    EXPECT_TRUE(m.copy_active());
    EXPECT_TRUE(allowed(m, "2"));
    EXPECT_FALSE(allowed(m, "3"));   // a date, but no span start
    EXPECT_FALSE(allowed(m, "m"));   // a span start, but no date
    ASSERT_TRUE(m.accept_bytes("2026-11-2"));
    EXPECT_TRUE(allowed(m, "7"));
    EXPECT_FALSE(allowed(m, "8"));
    ASSERT_TRUE(m.accept_bytes("7\""));
    EXPECT_FALSE(m.copy_active());
    // A number the request does not contain cannot be written while a source number can.
    GrammarMatcher m2(cg);
    m2.set_copy_constraint(std::make_shared<CopyConstraint>(vocab, sources));
    ASSERT_TRUE(m2.accept_bytes("{\"name\":\"move\",\"arguments\":{\"id\":"));
    EXPECT_FALSE(allowed(m2, "9"));
    // Without numbers in the sources the integer falls back to the plain grammar.
    GrammarMatcher m3(cg);
    m3.set_copy_constraint(std::make_shared<CopyConstraint>(vocab, std::vector<std::string>{"no numbers here"}));
    ASSERT_TRUE(m3.accept_bytes("{\"name\":\"move\",\"arguments\":{\"id\":"));
    EXPECT_TRUE(allowed(m3, "9"));
    EXPECT_TRUE(m3.copy_fallback());
    ASSERT_TRUE(m3.accept_bytes("9}}"));
    EXPECT_TRUE(m3.can_terminate());
}

}  // namespace
}  // namespace sy::grammar
