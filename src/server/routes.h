// Route tables of the handler files (internal to server/): one function per API, called by server.cpp.
#pragma once

#include "server/context.h"

namespace sy::server {

void add_openai_routes(httplib::Server & http, ServerContext & ctx);  // openai_api.cpp: /v1/*
void add_ollama_routes(httplib::Server & http, ServerContext & ctx);  // ollama_api.cpp: /api/*
void add_admin_routes(httplib::Server & http, ServerContext & ctx);   // admin_api.cpp: /admin/*

}  // namespace sy::server
