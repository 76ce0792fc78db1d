{
  # One small addon: what Node cannot do (src/weft_native.h lists the functions).
  # Plain C against the stable Node-API (NAPI_VERSION 8), so the same build runs on
  # any Node >= 16 and the headers of any of them will do (see build.mjs: no header
  # download).
  "targets": [
    {
      "target_name": "weft_native",
      "sources": ["src/addon.c", "src/original_dst.c", "src/release_pages.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
