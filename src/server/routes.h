// Route tables of the handler files (internal to server/): one function per API, called by server.cpp.
#pragma once

#include <memory>

#include "server/context.h"

namespace sy::server {

void add_openai_routes(httplib::Server & http, ServerContext & ctx);  // openai_api.cpp: /v1/*
void add_ollama_routes(httplib::Server & http, ServerContext & ctx);  // ollama_api.cpp: /api/*
void add_admin_routes(httplib::Server & http, ServerContext & ctx);   // admin_api.cpp: /admin/*

// dashboard_api.cpp: the page at / (and /dashboard/FILE) and /admin/dashboard/*. make_dashboard returns
// nullptr when dashboard.enabled is false; dashboard_observe feeds its live numbers from the HTTP logger.
class Dashboard;
std::shared_ptr<Dashboard> make_dashboard(ServerContext & ctx);
void add_dashboard_routes(httplib::Server & http, Dashboard & dash);
void dashboard_observe(Dashboard & dash, const std::string & route, const httplib::Response & res, double secs);

}  // namespace sy::server
