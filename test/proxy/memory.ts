/**
 * Reading a process's memory from /proc, for the memory tests and benchmarks: glibc's
 * main arena (the `[heap]` mapping's resident size), where malloc'ed native memory
 * (OpenSSL, libuv, node's C++ objects) lives.
 */
import { readFileSync } from 'node:fs';

/** MB of `pid`'s main arena (`[heap]` Rss in /proc/<pid>/smaps); `self` for this process. */
export function mainArenaMb(pid: number | 'self' = 'self'): number {
  let kb = 0;
  let inHeap = false;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inHeap = line.endsWith('[heap]');
    else if (inHeap && line.startsWith('Rss:')) kb += Number(line.split(/\s+/)[1]);
  }
  return kb / 1024;
}
