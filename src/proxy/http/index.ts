/**
 * HTTP/1 stage: the framing-aware session, its head parser and body framer, and proxy errors.
 */
export { H1Session } from './h1-session.ts';
export type { H1SessionOptions } from './h1-session.ts';
export { ProxyHttpError } from './proxy-error.ts';
export { parseRequestHead, parseResponseHead, headEnd } from './h1-head.ts';
export type { RequestHead, ResponseHead, BodyKind } from './h1-head.ts';
export { BodyFramer } from './body-framer.ts';
