/**
 * weft's PKI: keys, certificates, CSRs, chains and PEM, with step-compatible
 * profiles. Pure functions plus WebCrypto; no file or network I/O (callers read and
 * write files). Every other part of weft makes and checks certificates through here.
 */
export { formatDuration, parseDuration } from './duration.ts';
