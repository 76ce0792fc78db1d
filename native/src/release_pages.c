/*
 * releaseUnusedPages() -> Promise<{ mappings, fileBytes }>
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
 * copy-on-write copies of pages, which would lose data; on a range that another
 * thread has meanwhile unmapped and reused it would zero live memory. So a range
 * is released only when both hold:
 * - smaps says it is backed by a file (a path, not /dev/), private, not
 *   writable, and has no anonymous pages at all, resident or swapped
 *   ("Anonymous: 0 kB", "Swap: 0 kB"): no copy-on-write copy, such as a page a
 *   debugger patched;
 * - it lies inside a read-only PT_LOAD segment of a loaded object (the node
 *   binary, a shared library), outside the object's RELRO range (relocated data
 *   the loader made read-only afterwards), checked and released while
 *   dl_iterate_phdr holds the loader's lock, so the object cannot be unloaded
 *   and its range reused in between.
 * What is released then reads back exactly as before. A mapping the kernel
 * refuses (EINVAL: locked, or special) is skipped.
 *
 * `fileBytes` is what the released mappings had resident before the call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <link.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>
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
  unsigned long anon_kb = 1, swap_kb = 1;
  int cut = 0; /* the previous fgets stopped inside a line longer than `line` */
  *count = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    /* The rest of a long line (a long path) is not a line of its own: skip it, so
     * nothing in a file name can be read as a mapping's header. */
    int was_cut = cut;
    cut = strchr(line, '\n') == NULL && !feof(f);
    if (was_cut) continue;
    unsigned long start, end;
    char perms[8];
    int name_at = 0;
    /* A mapping's header: "start-end perms offset dev inode   path". */
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &name_at) == 3 && name_at > 0) {
      char *name = line + name_at;
      name[strcspn(name, "\n")] = '\0';
      candidate = !cut && name[0] == '/' && strncmp(name, "/dev/", 5) != 0 && perms[1] != 'w' && perms[3] == 'p';
      cur.start = start;
      cur.end = end;
      cur.rss_kb = 0;
      anon_kb = swap_kb = 1;
      continue;
    }
    if (!candidate) continue;
    unsigned long kb;
    if (sscanf(line, "Rss: %lu kB", &kb) == 1) cur.rss_kb = kb;
    else if (sscanf(line, "Anonymous: %lu kB", &kb) == 1) anon_kb = kb;
    else if (sscanf(line, "Swap: %lu kB", &kb) == 1) swap_kb = kb;
    else if (strncmp(line, "VmFlags:", 8) == 0) {
      /* The record's last line. A copy-on-write page that was swapped out counts
       * under Swap, not Anonymous: both must be zero. */
      if (anon_kb == 0 && swap_kb == 0 && cur.rss_kb > 0 && *count < MAX_RANGES) out[(*count)++] = cur;
      candidate = 0;
    }
  }
  fclose(f);
  return 0;
}

/* One release on libuv's thread pool: reading smaps and unmapping ~50 MB take 3-9 ms,
 * which would otherwise stall the event loop and every request in it. */
struct release_work {
  napi_async_work work;
  napi_deferred deferred;
  int err;             /* errno of the failure, 0 if none */
  const char *what;    /* the call that failed */
  int released;
  double bytes;
};

/* What the dl_iterate_phdr callback needs: the smaps candidates and the result. */
struct release_pass {
  struct range *ranges;
  int count;
  struct release_work *w;
};

/*
 * Releases the candidates that lie inside one loaded object's read-only PT_LOAD
 * segments, outside its RELRO range. dl_iterate_phdr holds the loader's lock
 * while this runs, so no object can be unloaded (dlclose) and its addresses reused
 * between the check and the madvise; the program's own image is never unmapped at
 * all. A candidate outside every loaded object (V8's remapped copy of the built-ins,
 * a file another thread mapped itself) is left alone: nothing guarantees it stays
 * what smaps said it was.
 */
static int release_in_object(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  struct release_pass *pass = data;
  unsigned long page = (unsigned long)sysconf(_SC_PAGESIZE);
  unsigned long relro_start = 0, relro_end = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_GNU_RELRO) {
      relro_start = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
      relro_end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + page - 1) & ~(page - 1);
    }
  }
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W) != 0) continue;
    unsigned long seg_start = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
    unsigned long seg_end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + page - 1) & ~(page - 1);
    for (int r = 0; r < pass->count; r++) {
      struct range *c = &pass->ranges[r];
      if (c->start < seg_start || c->end > seg_end) continue;
      if (relro_end > relro_start && c->start < relro_end && c->end > relro_start) continue;
      if (madvise((void *)c->start, c->end - c->start, MADV_DONTNEED) != 0) {
        if (errno == EINVAL) continue;
        pass->w->err = errno;
        pass->w->what = "madvise(MADV_DONTNEED)";
        return 1;
      }
      pass->w->released++;
      pass->w->bytes += (double)c->rss_kb * 1024;
      c->start = c->end = 0; /* released once, even if two objects' segments overlap */
    }
  }
  return 0;
}

static void release_execute(napi_env env, void *data) {
  (void)env;
  struct release_work *w = data;
  struct range ranges[MAX_RANGES];
  int count = 0;
  w->err = find_ranges(ranges, &count);
  if (w->err != 0) {
    w->what = "open /proc/self/smaps";
    return;
  }
  struct release_pass pass = { ranges, count, w };
  dl_iterate_phdr(release_in_object, &pass);
  if (w->err != 0) return;
  malloc_trim(0);
}

static void release_complete(napi_env env, napi_status status, void *data) {
  struct release_work *w = data;
  if (status != napi_ok) {
    napi_value msg, error;
    napi_create_string_utf8(env, "releaseUnusedPages was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &error);
    napi_reject_deferred(env, w->deferred, error);
  } else if (w->err != 0) {
    weft_throw_errno(env, w->what, w->err);
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_reject_deferred(env, w->deferred, error);
  } else {
    napi_value obj, v;
    napi_create_object(env, &obj);
    napi_create_int32(env, w->released, &v);
    napi_set_named_property(env, obj, "mappings", v);
    napi_create_double(env, w->bytes, &v);
    napi_set_named_property(env, obj, "fileBytes", v);
    napi_resolve_deferred(env, w->deferred, obj);
  }
  napi_delete_async_work(env, w->work);
  free(w);
}

napi_value weft_release_unused_pages(napi_env env, napi_callback_info info) {
  (void)info;
  struct release_work *w = calloc(1, sizeof *w);
  if (w == NULL) return weft_throw_errno(env, "calloc", ENOMEM);
  napi_value promise, name;
  if (napi_create_promise(env, &w->deferred, &promise) != napi_ok) {
    free(w);
    return NULL; /* an exception is pending */
  }
  if (napi_create_string_utf8(env, "weft:releaseUnusedPages", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, release_execute, release_complete, w, &w->work) != napi_ok ||
      napi_queue_async_work(env, w->work) != napi_ok) {
    napi_value msg, error;
    napi_create_string_utf8(env, "releaseUnusedPages could not queue its work", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &error);
    napi_reject_deferred(env, w->deferred, error);
    if (w->work != NULL) napi_delete_async_work(env, w->work);
    free(w);
  }
  return promise;
}
