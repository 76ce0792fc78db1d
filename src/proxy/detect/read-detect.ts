/**
 * Runs `detect` on a live socket: reads until detection decides, the buffer is full,
 * the client half-closes, or the timeout fires (then opaque: a server-speaks-first
 * protocol such as MySQL or SMTP sends nothing until it is connected through).
 */
import type { Duplex } from 'node:stream';
import { detect, type Detection } from './detect.ts';

/** Sockets whose detection has decided (a property of the socket, so no registry to clean up). */
const decided = new WeakSet<Duplex>();

/**
 * Whether `readDetect` has decided what `socket` carries. False before detection
 * starts (a connection waiting for discovery) and while it reads: such a connection
 * has not been served yet, and a stopping proxy refuses it.
 */
export function detectionDecided(socket: Duplex): boolean {
  return decided.has(socket);
}

/** The outcome of reading a connection's first bytes. */
export type SocketDetection = Exclude<Detection, { kind: 'incomplete' }> | { kind: 'timeout'; ms: number };

/**
 * Calls `cb` once with the decision and the bytes read so far (the caller forwards
 * or unshifts them). The socket is left paused. Nothing is called if the socket
 * closes (or is destroyed) first.
 */
export function readDetect(socket: Duplex, options: { timeoutMs: number; initial?: Buffer | undefined }, cb: (d: SocketDetection, buffered: Buffer | undefined) => void): void {
  let buf: Buffer | undefined;
  let done = false;
  const finish = (d: SocketDetection): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.removeListener('close', onClose);
    socket.pause();
    // Destroyed meanwhile (a stopping proxy refused it): nothing to serve.
    if (socket.destroyed) return;
    decided.add(socket);
    cb(d, buf);
  };
  const onData = (chunk: Buffer): void => {
    buf = buf === undefined ? chunk : Buffer.concat([buf, chunk]);
    const d = detect(buf);
    if (d.kind !== 'incomplete') finish(d);
  };
  const onEnd = (): void => finish({ kind: 'opaque' });
  const onClose = (): void => {
    done = true;
    clearTimeout(timer);
  };
  const timer = setTimeout(() => finish({ kind: 'timeout', ms: options.timeoutMs }), options.timeoutMs);
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('close', onClose);
  // Bytes already read (after CONNECT) count as the first read.
  if (options.initial !== undefined && options.initial.length > 0) onData(options.initial);
  if (!done) socket.resume();
}
