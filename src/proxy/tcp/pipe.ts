/**
 * Joins two sockets byte for byte (opaque TCP), propagating half-close and tearing
 * both down when either fails.
 *
 * Each direction reads with a `BorrowedReader` (one reused buffer per socket, no
 * Readable machinery; see borrowed-reader.ts) when the source is a socket with a
 * native handle, else with a `data` listener, and writes each chunk straight into the
 * other socket without copying it: a plain TCP target through `writeDirect` while
 * nothing is queued (a write the kernel takes whole is done with the view), a TLS
 * target through its `TlsDirectWriter` (encrypted before the call returns, no
 * completion callback per write), else through `writeBorrowed`.
 * Only a write that keeps the view (queued in libuv or the Writable) makes the reader
 * move to fresh memory (`retain`). Reading stops while the target holds a pending
 * direct write or its write buffer is over the high-water mark, resuming when the
 * write completes or on 'drain' (so a slow reader on one side bounds what the proxy
 * holds for it). Bytes are not counted per chunk: `tcp_*_bytes_total` come from the
 * sockets' own counters at close.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { BorrowedReader, writeBorrowed } from './borrowed-reader.ts';
import { directWriteSupported, writeDirect } from './direct-write.ts';
import { TlsDirectWriter } from './tls-direct-write.ts';
import type { Opener } from './pool.ts';

/** Forwards `from` → `to` until `from` ends (then half-closes `to`), and starts reading. */
function forward(from: Duplex, to: Duplex): void {
  const onDrain = (): void => {
    from.resume();
  };
  // Plain TCP targets take writes straight to their handle while nothing is queued.
  const direct = to instanceof net.Socket && (to as { encrypted?: boolean }).encrypted !== true && directWriteSupported();
  const onDirectWritten = (err: Error | null): void => {
    if (err === null) from.resume();
  };
  // TLS targets (the mesh side) take writes straight to TLSWrap, without a callback per write.
  const tlsWriter = direct ? undefined : TlsDirectWriter.for(to);
  const adopted = BorrowedReader.adopt(from, (view) => {
    if (tlsWriter !== undefined) return tlsWriter.write(view, onDrain);
    if (direct) {
      const r = writeDirect(to as net.Socket, view, onDirectWritten);
      if (r === 'done') return true;
      if (r === 'pending') {
        // libuv holds the view until the write completes; a TLS source may deliver
        // more records before reading stops, so they must land elsewhere.
        adopted?.reader.retain();
        return false;
      }
    }
    return writeBorrowed(to, view, adopted?.reader);
  });
  to.on('drain', onDrain);
  let ended = false;
  const endTo = (): void => {
    if (ended) return;
    ended = true;
    to.removeListener('drain', onDrain);
    to.end(); // After a direct TLS write in flight: the writer holds the shutdown until it completes.
  };
  from.once('end', endTo);
  if (adopted === undefined) {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) from.pause();
    });
    // A stream whose 'end' already went by will not emit it again; one that only saw
    // EOF emits it once its buffered bytes have flowed.
    if (from.readableEnded) endTo();
    else from.resume();
    return;
  }
  let more = true;
  for (const b of adopted.queued) more = to.write(b);
  // The client's FIN may have come before the pipe existed (with its last bytes, or
  // during detection): its 'end' is gone or will never come from a stream that no
  // longer reads, so the FIN is passed on here, after the bytes.
  if (sourceEnded(from)) endTo();
  else if (more) from.resume();
  else from.pause();
}

/** True once `s` has read its peer's FIN: 'end' emitted, or EOF seen with 'end' still pending. */
export function sourceEnded(s: Duplex): boolean {
  return s.readableEnded || (s as unknown as { _readableState?: { ended?: boolean } })._readableState?.ended === true;
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
  // Once one side is gone, the other has nobody to read for: it closes, after the
  // bytes (and the FIN) already written to it have gone out. Without this, an
  // upstream that never sends its own FIN would stay half-open after the client went
  // (the idle sweep reclaims only accepted sockets).
  const orphaned = (x: Duplex): void => {
    if (!x.writableEnded || x.writableFinished) x.destroy();
    else x.once('finish', () => x.destroy());
  };
  a.once('close', () => { onClose(); if (!b.readableEnded || !b.writableEnded) orphaned(b); });
  b.once('close', () => { onClose(); if (!a.readableEnded || !a.writableEnded) orphaned(a); });
  forward(a, b);
  forward(b, a);
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
