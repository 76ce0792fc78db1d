/*
 * The functions of weft's one native addon, each in its own file; addon.c
 * registers them. Plain C against Node-API version 8.
 */
#ifndef WEFT_NATIVE_H
#define WEFT_NATIVE_H

#include <node_api.h>

/* Throws a JS Error whose `code` is the errno name (ENOENT, EINVAL, ...) and returns NULL. */
napi_value weft_throw_errno(napi_env env, const char *what, int err);

/* getOriginalDst(fd) -> { address, port, family }: original_dst.c. */
napi_value weft_get_original_dst(napi_env env, napi_callback_info info);

/* releaseUnusedPages() -> Promise<{ mappings, fileBytes }>: release_pages.c. */
napi_value weft_release_unused_pages(napi_env env, napi_callback_info info);

#endif
