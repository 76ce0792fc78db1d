/**
 * HTTP stage: the HTTP/1 framing-aware session, the HTTP/2 proxy and proxy errors.
 */
export { H1Session } from './h1-session.ts';
export type { H1SessionOptions } from './h1-session.ts';
export { H2Proxy, loadHttp2, connectH2 } from './h2-proxy.ts';
export type { H2ConnectionOptions, H2Target } from './h2-proxy.ts';
export { ProxyHttpError } from './proxy-error.ts';
export { parseRequestHead, parseResponseHead, headEnd } from './h1-head.ts';
export type { RequestHead, ResponseHead, BodyKind } from './h1-head.ts';
export { BodyFramer } from './body-framer.ts';
