/*
 * weft_native: what Node's own modules cannot do, one function per file
 * (weft_native.h lists them). This file registers them and holds the one
 * errno-to-exception helper they share.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <node_api.h>
#include "weft_native.h"

napi_value weft_throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  const char *code = err == ENOENT ? "ENOENT"
                   : err == ENOTCONN ? "ENOTCONN"
                   : err == EBADF ? "EBADF"
                   : err == ENOTSOCK ? "ENOTSOCK"
                   : err == ENOPROTOOPT ? "ENOPROTOOPT"
                   : err == EOPNOTSUPP ? "EOPNOTSUPP"
                   : err == EINVAL ? "EINVAL"
                   : err == EACCES ? "EACCES"
                   : err == ENOMEM ? "ENOMEM"
                   : err == EMFILE ? "EMFILE"
                   : err == ENFILE ? "ENFILE"
                   : "EUNKNOWN";
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, code, msg);
  return NULL;
}

static void export_function(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

static napi_value init(napi_env env, napi_value exports) {
  export_function(env, exports, "getOriginalDst", weft_get_original_dst);
  export_function(env, exports, "releaseUnusedPages", weft_release_unused_pages);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
