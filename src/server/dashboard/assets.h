// The dashboard's static files (index.html, app.js, style.css of this folder), compiled into the binary as
// byte arrays by cmake/embed_assets.cmake; the generated .cpp defines the table. Served by
// dashboard_api.cpp at / and /dashboard/NAME.
#pragma once

#include <cstddef>

namespace sy::server::dashboard {

struct Asset {
    const char * name;           // file name, e.g. "app.js"
    const unsigned char * data;  // the file's bytes (followed by one 0 byte, not counted in size)
    size_t size;
};

extern const Asset k_assets[];
extern const size_t k_n_assets;

}  // namespace sy::server::dashboard
