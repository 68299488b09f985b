// Copy-field detection over training chats (share of values copied from the user's text, minimum count),
// the --copy-fields spec, and the GGUF metadata round trip of a saved model and adapter.
#include <gtest/gtest.h>

#include "gguf/gguf.h"
#include "grammar/copy.h"
#include "train/outputs.h"
#include "train/presets.h"
#include "train_test_util.h"

namespace sy::train {
namespace {

using ojson = nlohmann::ordered_json;

const ojson & tools() {
    static const ojson t = ojson::parse(R"([
      {"type":"function","function":{"name":"create_task","parameters":{"type":"object","properties":{
        "title":{"type":"string"},"priority":{"type":"string","enum":["low","high"]},
        "due":{"type":"string","format":"date"},"tags":{"type":"array","items":{"type":"string"}},
        "meta":{"type":"object","properties":{"note":{"type":"string"}}}},"required":["title"]}}},
      {"type":"function","function":{"name":"search","parameters":{"type":"object","properties":{
        "query":{"type":"string"},"limit":{"type":"integer"}},"required":["query"]}}}])");
    return t;
}

chat::Conversation call(const std::string & user, const std::string & name, const ojson & args) {
    chat::Conversation c;
    c.tools = tools();
    c.messages.push_back({"user", user, {}, "", ""});
    chat::Message a;
    a.role = "assistant";
    a.tool_calls.push_back({"call_1", name, args});
    c.messages.push_back(a);
    return c;
}

const CopyFieldStat * find(const std::vector<CopyFieldStat> & s, const std::string & p) {
    for (const auto & x : s)
        if (x.path == p) return &x;
    return nullptr;
}

TEST(CopyFields, CandidatesAndShares) {
    std::vector<chat::Conversation> chats;
    for (int i = 0; i < 30; ++i) {
        const std::string w = "thing" + std::to_string(i);
        // title always copied; query copied 29 of 30 times; tags copied; meta.note never.
        chats.push_back(call("please add " + w + " tagged home", "create_task",
                             {{"title", w}, {"priority", "low"}, {"tags", {"home"}}, {"meta", {{"note", "zz" + w}}}}));
        chats.push_back(call("find " + w + " now, top " + std::to_string(i + 3), "search",
                             {{"query", i == 0 ? "other" : w}, {"limit", i + 3}}));
    }
    chat::ChatFormat fmt(chat::ChatFormatKind::ChatFormatKind_compact);
    const auto stats = copy_field_stats(chats, fmt);
    std::vector<std::string> paths;
    for (const auto & s : stats) paths.push_back(s.path);
    // Strings (plain or with a format) and integers; no enum; nested properties and array items by path.
    EXPECT_EQ(paths, (std::vector<std::string>{"create_task.title", "create_task.due", "create_task.tags[]",
                                               "create_task.meta.note", "search.query", "search.limit"}));
    EXPECT_EQ(find(stats, "create_task.title")->n, 30);
    EXPECT_EQ(find(stats, "create_task.title")->n_copied, 30);
    EXPECT_EQ(find(stats, "create_task.due")->n, 0);
    EXPECT_EQ(find(stats, "search.query")->n_copied, 29);
    EXPECT_EQ(find(stats, "search.limit")->n_copied, 30);
    EXPECT_EQ(find(stats, "create_task.meta.note")->n_copied, 0);
    // 29/30 < 98%; with fewer than 20 occurrences nothing qualifies.
    EXPECT_EQ(select_copy_fields(stats), (std::vector<std::string>{"create_task.title", "create_task.tags[]", "search.limit"}));
    EXPECT_EQ(select_copy_fields(stats, 0.95),
              (std::vector<std::string>{"create_task.title", "create_task.tags[]", "search.query", "search.limit"}));
    EXPECT_TRUE(select_copy_fields(stats, 0.98, 31).empty());

    EXPECT_EQ(resolve_copy_fields("auto", chats, fmt), select_copy_fields(stats));
    EXPECT_TRUE(resolve_copy_fields("none", chats, fmt).empty());
    EXPECT_EQ(resolve_copy_fields("search.query,create_task.tags[],search.limit", chats, fmt),
              (std::vector<std::string>{"search.query", "create_task.tags[]", "search.limit"}));
    try {
        resolve_copy_fields("create_task.priority", chats, fmt);
        FAIL() << "an enum field is no copy field";
    } catch (const Error & e) {
        EXPECT_NE(std::string(e.what()).find("create_task.priority"), std::string::npos);
        EXPECT_NE(std::string(e.what()).find("create_task.title"), std::string::npos);
    }
}

TEST(CopyFields, WordBoundariesCount) {
    // "milk" inside "buttermilk" is not a span: the value must start and end at word boundaries.
    std::vector<chat::Conversation> chats;
    for (int i = 0; i < 25; ++i) chats.push_back(call("buy buttermilk", "search", {{"query", "milk"}}));
    const auto stats = copy_field_stats(chats, chat::ChatFormat(chat::ChatFormatKind::ChatFormatKind_compact));
    EXPECT_EQ(find(stats, "search.query")->n, 25);
    EXPECT_EQ(find(stats, "search.query")->n_copied, 0);
}

TEST(CopyFields, MetadataRoundTrip) {
    engine::HParams hp = preset_hparams(*find_model_preset("router-tiny"));
    tok::Vocab v = tok::make_synthetic_bpe_vocab(300, 1);
    hp.n_vocab = v.n_tokens();
    auto tm = TrainModel::create(hp, 1);
    SaveModelParams sp;
    sp.copy_fields = {"create_task.title", "create_task.tags[]"};
    const std::string path = test::tmp_path("copy_fields.gguf");
    save_full_model(*tm, v, path, sp);
    gguf::File f = gguf::File::open(path);
    EXPECT_EQ(grammar::read_copy_fields(f), sp.copy_fields);
    const std::string plain = test::tmp_path("copy_fields_none.gguf");
    save_full_model(*tm, v, plain, SaveModelParams{});
    EXPECT_TRUE(grammar::read_copy_fields(gguf::File::open(plain)).empty());
}

}  // namespace
}  // namespace sy::train
