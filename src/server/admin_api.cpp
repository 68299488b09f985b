// Admin routes: POST /admin/adapters {"model", "name", "path"} loads (or atomically replaces) a LoRA adapter
// on a local model; DELETE /admin/adapters/<model>/<adapter> unloads one. Requests in flight finish on the
// adapter they started with. Guarded by the admin keys (server.admin_key_envs; the API keys when none).
#include <httplib.h>

#include "server/routes.h"

namespace sy::server {
namespace {

void handle_load(ServerContext & ctx, const httplib::Request & http_req, httplib::Response & res) {
    const ojson body = parse_json_body(http_req);
    const std::string model = opt_string(body, "model").value_or("");
    const std::string name = opt_string(body, "name").value_or("");
    const std::string path = opt_string(body, "path").value_or("");
    if (model.empty()) bad_request("model", "is required (a local model's name from GET /v1/models)");
    if (name.empty()) bad_request("name", "is required (the adapter's name clients will use)");
    if (path.empty()) bad_request("path", "is required (a GGUF LoRA adapter file on the server)");
    if (!ctx.gateway.provider(model))
        throw HttpError(404, "invalid_request_error", "unknown model '" + model + "'", "model", "model_not_found");
    ctx.gateway.load_adapter(model, name, path);
    res.set_content(dump_json({{"ok", true}, {"model", model}, {"adapter", name}}), "application/json");
}

void handle_unload(ServerContext & ctx, const httplib::Request & http_req, httplib::Response & res) {
    const std::string model = http_req.matches[1];
    const std::string name = http_req.matches[2];
    if (!ctx.gateway.provider(model))
        throw HttpError(404, "invalid_request_error", "unknown model '" + model + "'", "model", "model_not_found");
    ctx.gateway.unload_adapter(model, name);
    res.set_content(dump_json({{"ok", true}, {"model", model}, {"adapter", name}}), "application/json");
}

}  // namespace

void add_admin_routes(httplib::Server & http, ServerContext & ctx) {
    const ApiStyle s = ApiStyle::ApiStyle_openai;
    add_route(http, Method::Method_post, "/admin/adapters", "/admin/adapters", s,
              [&ctx](const httplib::Request & q, httplib::Response & r) { handle_load(ctx, q, r); });
    add_route(http, Method::Method_delete, R"(/admin/adapters/([^/]+)/([^/]+))", "/admin/adapters/:model/:adapter", s,
              [&ctx](const httplib::Request & q, httplib::Response & r) { handle_unload(ctx, q, r); });
}

}  // namespace sy::server
