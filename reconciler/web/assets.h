// assets: the page's files, embedded in the binary at build time (embed.py, the genrule
// //reconciler/web:assets_cc). Internal to reconciler/web.
//
//   for (const Asset* a = kAssets; a->path; ++a) Serve(a->path, a->content_type, a->data);
#pragma once

#include <cstddef>

namespace reconciler::web::internal {

struct Asset {
  const char* path;          // URL path, e.g. "/static/app.js"
  const char* content_type;  // e.g. "text/javascript; charset=utf-8"
  const unsigned char* data;
  size_t size;  // bytes
};

// Ends with an entry whose path is null.
extern const Asset kAssets[];

}  // namespace reconciler::web::internal
