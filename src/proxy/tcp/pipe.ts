/**
 * Joins two sockets byte for byte (opaque TCP), propagating half-close and tearing
 * both down when either fails.
 *
 * Each direction is a `data` listener writing straight into the other socket, with
 * pause/resume on backpressure: the same work as `Readable.pipe()` without its
 * per-chunk bookkeeping (measured in bench/README.md). Bytes are not counted per
 * chunk: `tcp_*_bytes_total` come from the sockets' own counters at close.
 */
import type { Opener } from './pool.ts';
import type { Duplex } from 'node:stream';

/** Forwards `from` → `to` until `from` ends (then half-closes `to`). */
function forward(from: Duplex, to: Duplex): void {
  const onDrain = (): void => {
    from.resume();
  };
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', onDrain);
  from.once('end', () => {
    to.removeListener('drain', onDrain);
    to.end();
  });
}

/** Pipes `a` ⇄ `b`; `initial` (bytes already read from `a`) goes to `b` first. `done` runs once both are closed. */
export function pipeSockets(a: Duplex, b: Duplex, initial?: Buffer, done?: () => void): void {
  if (initial !== undefined && initial.length > 0) b.write(initial);
  let closed = 0;
  const onClose = (): void => {
    if (++closed === 2) done?.();
  };
  const fail = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', fail);
  b.on('error', fail);
  a.once('close', () => { onClose(); if (!b.writableEnded) b.destroy(); });
  b.once('close', () => { onClose(); if (!a.writableEnded) a.destroy(); });
  forward(a, b);
  forward(b, a);
  a.resume();
  b.resume();
}

/**
 * Opens an upstream with `open` and pipes `socket` ⇄ it (`initial` first). When the
 * upstream cannot be opened, `socket` is destroyed after `onFailure` hears why; when
 * the client left while the upstream was opening, the upstream is closed.
 */
export function pipeWhenOpen(
  socket: Duplex,
  initial: Buffer | undefined,
  open: Opener,
  onFailure: (err: Error | null) => void,
): void {
  open((err, up) => {
    if (err !== null || up === undefined) {
      onFailure(err);
      socket.destroy();
      return;
    }
    if (socket.destroyed) {
      up.destroy();
      return;
    }
    pipeSockets(socket, up, initial);
  });
}
