/**
 * Protocol detection stage: pure functions that classify a connection's first bytes.
 */
export { detect, DETECT_CAPACITY, H2_PREFACE } from './detect.ts';
export type { Detection, DetectOutcome } from './detect.ts';
export { parseClientHello } from './client-hello.ts';
export type { ClientHelloInfo } from './client-hello.ts';
export { detectionDecided, readDetect } from './read-detect.ts';
export type { SocketDetection } from './read-detect.ts';
