// LoRA adapters over HTTP, black-box: an adapter given at start is listed by /v1/models with its parent and
// answers when named; /admin/adapters loads another at run time and DELETE unloads it; bad requests are 4xx.
#include <gtest/gtest.h>

#include "server/serve_util.h"

namespace sy::test {
namespace {

// A one-step LoRA adapter over the tiny model (written once per test process).
std::string adapter() {
    static std::string path = [] {
        const std::string data = (server_scratch() / "lora.jsonl").string();
        const std::string out = (server_scratch() / "lora.gguf").string();
        const std::string gen = switchyard_bin() + " dataset generate --tools " + tools_file() + " --n 20 --seed 1 --split train -o " +
                                data + " >/dev/null 2>&1";
        const std::string train = switchyard_bin() + " train --data " + data + " --base " + tiny_model() +
                                  " --lora-rank 2 --max-steps 1 -o " + out + " >/dev/null 2>&1";
        if (std::system(gen.c_str()) != 0 || std::system(train.c_str()) != 0) throw std::runtime_error("cannot write the test adapter");
        return out;
    }();
    return path;
}

ojson model_entry(httplib::Client & c, const std::string & id) {
    const ojson j = json_of(c.Get("/v1/models"));
    for (const auto & e : j["data"])
        if (e["id"] == id) return e;
    return nullptr;
}

TEST(Adapters, ListedWithParentAndSelectable) {
    ServeProcess s("-m " + tiny_model() + " -c 256 --lora helper=" + adapter());
    auto c = s.client();
    const ojson e = model_entry(*c, "helper");
    ASSERT_FALSE(e.is_null());
    EXPECT_EQ(e["parent"], "tiny");
    auto r = post_json(*c, "/v1/chat/completions", {{"model", "helper"}, {"messages", ojson::array({{{"role", "user"}, {"content", "hi"}}})}, {"max_tokens", 2}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("X-Switchyard-Model"), "helper");
    c.reset();
}

TEST(Adapters, AdminLoadAndUnload) {
    ServeProcess s("-m " + tiny_model() + " -c 256");
    auto c = s.client();
    auto load = post_json(*c, "/admin/adapters", {{"model", "tiny"}, {"name", "late"}, {"path", adapter()}});
    ASSERT_TRUE(load);
    ASSERT_EQ(load->status, 200) << load->body;
    EXPECT_FALSE(model_entry(*c, "late").is_null());
    auto chat = post_json(*c, "/v1/chat/completions", {{"model", "late"}, {"messages", ojson::array({{{"role", "user"}, {"content", "x"}}})}, {"max_tokens", 2}});
    ASSERT_TRUE(chat);
    EXPECT_EQ(chat->status, 200) << chat->body;

    auto del = c->Delete("/admin/adapters/tiny/late");
    ASSERT_TRUE(del);
    EXPECT_EQ(del->status, 200) << del->body;
    EXPECT_TRUE(model_entry(*c, "late").is_null());
    auto again = c->Delete("/admin/adapters/tiny/late");
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 404) << again->body;

    auto missing = post_json(*c, "/admin/adapters", {{"model", "tiny"}, {"name", "x"}, {"path", (server_scratch() / "none.gguf").string()}});
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 400) << missing->body;
    auto no_name = post_json(*c, "/admin/adapters", {{"model", "tiny"}, {"path", adapter()}});
    ASSERT_TRUE(no_name);
    EXPECT_EQ(no_name->status, 400) << no_name->body;
    c.reset();
}

}  // namespace
}  // namespace sy::test
