// The router's slot tagger (chat/slot_tagger.h): trained on the generated task-agent train split, it must
// find the free-text spans of the held-out split (templates, carrier phrases and entities never seen in
// training), and survive a GGUF round trip unchanged.
#include <gtest/gtest.h>

#include <filesystem>

#include "chat/slot_tagger.h"
#include "chat/text_features.h"
#include "train/datagen.h"
#include "train_test_util.h"

namespace sy::chat {
namespace {

using train::test::generated_chats;
using train::test::task_tools;

struct Recall {
    int found = 0, total = 0;
    double rate() const { return total ? (double)found / total : 0.0; }
};

// Per field: of the values a held-out call copies from its request, the share the tagger found exactly
// (ignoring case) for that field.
std::map<std::string, Recall> held_out_recall(const SlotTagger & t, const std::vector<Conversation> & test) {
    std::map<std::string, Recall> out;
    for (const Conversation & c : test)
        for (size_t i = 1; i < c.messages.size(); ++i) {
            const Message & m = c.messages[i];
            if (m.role != "assistant" || c.messages[i - 1].role != "user") continue;
            const auto spans = t.tag(c.messages[i - 1].content);
            auto lower = [](std::string s) {
                for (char & ch : s) ch = (char)std::tolower((unsigned char)ch);
                return s;
            };
            for (const ToolCall & call : m.tool_calls)
                for (auto it = call.arguments.begin(); it != call.arguments.end(); ++it) {
                    const std::string & f = it.key();
                    if (f != "title" && f != "query" && f != "tags") continue;
                    std::vector<std::string> values;
                    if (it.value().is_string()) values.push_back(it.value().get<std::string>());
                    else
                        for (const ojson & x : it.value()) values.push_back(x.get<std::string>());
                    for (const std::string & v : values) {
                        ++out[f].total;
                        auto got = spans.find(f);
                        if (got == spans.end()) continue;
                        for (const std::string & s : got->second)
                            if (lower(s) == lower(v)) {
                                ++out[f].found;
                                break;
                            }
                    }
                }
        }
    return out;
}

TEST(SlotTagger, ThreadsDoNotChangeTheTagger) {
    const std::vector<Conversation> train = generated_chats(600, 1, train::DataSplit::DataSplit_train);
    const std::vector<Conversation> test = generated_chats(60, 3, train::DataSplit::DataSplit_test);
    SlotTaggerOptions one, two;
    one.n_threads = 1;
    two.n_threads = 2;
    const SlotTagger a = SlotTagger::train(train, one), b = SlotTagger::train(train, two);
    for (const Conversation & c : test) EXPECT_EQ(a.tag_request(c), b.tag_request(c));
}

TEST(SlotTagger, WordsAreRunsAndSinglePunctuation) {
    const std::string text = "add \"buy milk\", tags: neighbour's dog!";
    std::vector<std::string> got;
    for (const TaggerWord & w : tagger_words(text)) got.push_back(text.substr(w.begin, w.end - w.begin));
    EXPECT_EQ(got, (std::vector<std::string>{"add", "\"", "buy", "milk", "\"", ",", "tags", ":", "neighbour's", "dog", "!"}));
}

TEST(SlotTagger, FieldsArePlainStringsAndTheirArrays) {
    const ojson params = ojson::parse(R"({"type":"object","properties":{
        "title":{"type":"string"},"priority":{"type":"string","enum":["low","high"]},
        "due":{"type":"string","format":"date"},"tags":{"type":"array","items":{"type":"string"}},
        "id":{"type":"integer"}}})");
    EXPECT_EQ(tagger_fields(params), (std::vector<std::string>{"title", "tags"}));
}

TEST(SlotTagger, FindsHeldOutSpansAndRoundTripsThroughGguf) {
    const std::vector<Conversation> train = generated_chats(3000, 1, train::DataSplit::DataSplit_train);
    const std::vector<Conversation> test = generated_chats(400, 3, train::DataSplit::DataSplit_test);
    const SlotTagger t = SlotTagger::train(train);
    EXPECT_EQ(t.fields(), (std::vector<std::string>{"title", "tags", "query"}));
    EXPECT_EQ(t.number_fields(), std::vector<std::string>{"id"});
    // The number picker: which number of the request is the id (the 13 of "13 aug" is not).
    EXPECT_EQ(t.tag("can you move task number 9 to 13 aug").at("id"), std::vector<std::string>{"9"});
    EXPECT_EQ(t.tag("please make #72 due in 6 days").at("id"), std::vector<std::string>{"72"});
    EXPECT_FALSE(t.tag("remind me in 2 days").count("id"));
    const auto recall = held_out_recall(t, test);
    for (const char * f : {"title", "query", "tags"}) {
        ASSERT_TRUE(recall.count(f)) << f;
        EXPECT_GE(recall.at(f).total, 20) << f;
        std::printf("held-out %s recall %.3f (%d/%d)\n", f, recall.at(f).rate(), recall.at(f).found, recall.at(f).total);
    }
    // Measured: titles 97.6%, queries 83.9%, tags 97.1% (before span edges and the stemmed features
    // of the words before: 94.6%, 83.9%, 82.4%).
    EXPECT_GE(recall.at("title").rate(), 0.93);
    EXPECT_GE(recall.at("query").rate(), 0.80);
    EXPECT_GE(recall.at("tags").rate(), 0.85);

    // Span edges: "to" and "I" are frequent in training requests and (almost) never begin a span, so a
    // carrier phrase training never had cannot pull them into the span ("related to X" read "to X").
    EXPECT_EQ(t.best_span("find anything related to router", "query"), std::optional<std::string>("router"));
    EXPECT_EQ(t.best_span("please create a task so I hang the lights", "title"), std::optional<std::string>("hang the lights"));
    for (const Conversation & c : test)
        for (const auto & [field, spans] : t.tag_request(c))
            for (const std::string & s : spans) {
                const std::vector<TaggerWord> ws = tagger_words(s);
                ASSERT_FALSE(ws.empty());
                const std::string first = s.substr(ws.front().begin, ws.front().end - ws.front().begin);
                const std::string last = s.substr(ws.back().begin, ws.back().end - ws.back().begin);
                for (const char * w : {"to", "i", ","}) EXPECT_NE(fold_lower(first), w) << s;
                for (const char * w : {"to", "and", ","}) EXPECT_NE(fold_lower(last), w) << s;
            }

    // A GGUF file with only the tagger's metadata reads back to the same spans.
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::string("llama"));
    t.write(w);
    const std::string path = (std::filesystem::temp_directory_path() / "sy_slot_tagger_test.gguf").string();
    w.write(path);
    const gguf::File f = gguf::File::open(path);
    const std::optional<SlotTagger> back = SlotTagger::read(f);
    ASSERT_TRUE(back.has_value());
    for (const Conversation & c : test)
        for (const Message & m : c.messages)
            if (m.role == "user") {
                EXPECT_EQ(back->tag(m.content), t.tag(m.content)) << m.content;
            }
    std::filesystem::remove(path);
}

TEST(SlotTagger, RejectsDataWithoutFreeTextFields) {
    Conversation c = parse_conversation(ojson::parse(R"({"messages":[{"role":"user","content":"done with 4"},
        {"role":"assistant","tool_calls":[{"type":"function","function":{"name":"complete","arguments":{"id":4}}}]}],
        "tools":[{"type":"function","function":{"name":"complete","parameters":{"type":"object",
        "properties":{"id":{"type":"integer"}}}}}]})"));
    EXPECT_THROW(SlotTagger::train({c}), Error);
}

}  // namespace
}  // namespace sy::chat
