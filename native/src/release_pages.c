/*
 * releaseUnusedPages() -> { mappings, fileBytes }
 *
 * Why: RSS counts every page of a mapped file that the process has touched.
 * Starting Node touches ~45-50 MB of the node binary (bootstrap, module loading,
 * the compilers, and the kernel's fault-around of each touched page), of which a
 * running proxy then uses a few MB: under load at 64 connections, 2.5-7 MB of the
 * 48 MB resident were referenced in a 4 s window (smaps "Referenced" after
 * clear_refs). This unmaps the process's page-table entries for its mapped files
 * (madvise MADV_DONTNEED); a page used again is mapped back from the page cache on
 * its next touch, a minor fault. The page cache itself is untouched: each file
 * stays cached once, shared by every process that maps it. Then malloc_trim(0)
 * hands glibc's free heap pages back to the kernel.
 *
 * Safety: on a private mapping MADV_DONTNEED also discards the process's own
 * copy-on-write copies of pages, which would lose data. So only mappings that
 * cannot hold such copies are released: backed by a file (a path), private, not
 * writable, and with no anonymous pages at all (smaps "Anonymous: 0 kB").
 * Relocated data that the loader made read-only afterwards (RELRO) has anonymous
 * pages and is skipped; so is any page a debugger patched. What is released then
 * reads back exactly as before. Device mappings (/dev/...) are left alone, and a
 * mapping the kernel refuses (EINVAL: locked, or special) is skipped.
 *
 * `fileBytes` is what the released mappings had resident before the call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/mman.h>
#include <node_api.h>
#include "weft_native.h"

#define MAX_RANGES 256

struct range {
  unsigned long start, end;
  unsigned long rss_kb;
};

/* Reads /proc/self/smaps; fills `out` with the releasable mappings. */
static int find_ranges(struct range *out, int *count) {
  FILE *f = fopen("/proc/self/smaps", "re");
  if (f == NULL) return errno;
  char line[4096];
  struct range cur = {0, 0, 0};
  int candidate = 0;
  *count = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long start, end;
    char perms[8];
    int name_at = 0;
    /* A mapping's header: "start-end perms offset dev inode   path". */
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &name_at) == 3 && name_at > 0) {
      char *name = line + name_at;
      name[strcspn(name, "\n")] = '\0';
      candidate = name[0] == '/' && strncmp(name, "/dev/", 5) != 0 && perms[1] != 'w' && perms[3] == 'p';
      cur.start = start;
      cur.end = end;
      cur.rss_kb = 0;
      continue;
    }
    if (!candidate) continue;
    unsigned long kb;
    if (sscanf(line, "Rss: %lu kB", &kb) == 1) {
      cur.rss_kb = kb;
    } else if (sscanf(line, "Anonymous: %lu kB", &kb) == 1) {
      if (kb == 0 && cur.rss_kb > 0 && *count < MAX_RANGES) out[(*count)++] = cur;
      candidate = 0;
    }
  }
  fclose(f);
  return 0;
}

napi_value weft_release_unused_pages(napi_env env, napi_callback_info info) {
  (void)info;
  struct range ranges[MAX_RANGES];
  int count = 0;
  int err = find_ranges(ranges, &count);
  if (err != 0) return weft_throw_errno(env, "open /proc/self/smaps", err);

  int released = 0;
  double bytes = 0;
  for (int i = 0; i < count; i++) {
    if (madvise((void *)ranges[i].start, ranges[i].end - ranges[i].start, MADV_DONTNEED) != 0) {
      if (errno == EINVAL) continue;
      return weft_throw_errno(env, "madvise(MADV_DONTNEED)", errno);
    }
    released++;
    bytes += (double)ranges[i].rss_kb * 1024;
  }
  malloc_trim(0);

  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_int32(env, released, &v);
  napi_set_named_property(env, obj, "mappings", v);
  napi_create_double(env, bytes, &v);
  napi_set_named_property(env, obj, "fileBytes", v);
  return obj;
}
