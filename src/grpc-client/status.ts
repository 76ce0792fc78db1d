/**
 * gRPC status codes and how a call's outcome becomes one: from the `grpc-status`
 * and `grpc-message` trailers, from a non-200 HTTP status, or from an HTTP/2 reset
 * (the mappings of gRPC's doc/http-grpc-status-mapping.md and PROTOCOL-HTTP2.md).
 */
import { constants } from 'node:http2';
import { WeftError } from '../errors/index.ts';

/** The gRPC status codes, numbered as on the wire (and as @grpc/grpc-js's `status`). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** One of the {@link GrpcCode} values. */
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

const NAMES = new Map<number, string>(Object.entries(GrpcCode).map(([k, v]) => [v, k]));

/** `UNAVAILABLE` for 14; the number itself for a code gRPC does not define. */
export function grpcCodeName(code: number): string {
  return NAMES.get(code) ?? String(code);
}

/** How a call ended: its code and the server's (or our) explanation. */
export interface GrpcStatus {
  readonly code: number;
  readonly details: string;
}

/** A call that did not end OK; `grpcCode` is its status, `details` the reason. */
export class GrpcStatusError extends WeftError {
  readonly grpcCode: number;
  readonly details: string;

  constructor(status: GrpcStatus) {
    super('WEFT_ERR_GRPC_STATUS', `gRPC call failed with ${grpcCodeName(status.code)}: ${status.details}`);
    this.name = 'GrpcStatusError';
    this.grpcCode = status.code;
    this.details = status.details;
  }
}

/** A response whose HTTP status is not 200 never reached a gRPC server: what that status means as a gRPC code. */
export function grpcCodeOfHttpStatus(httpStatus: number): GrpcCode {
  switch (httpStatus) {
    case 400: return GrpcCode.INTERNAL;
    case 401: return GrpcCode.UNAUTHENTICATED;
    case 403: return GrpcCode.PERMISSION_DENIED;
    case 404: return GrpcCode.UNIMPLEMENTED;
    case 429: case 502: case 503: case 504: return GrpcCode.UNAVAILABLE;
    default: return GrpcCode.UNKNOWN;
  }
}

/** A stream reset by the server (RST_STREAM) without a status: what its error code means as a gRPC code. */
export function grpcCodeOfReset(rstCode: number): GrpcCode {
  switch (rstCode) {
    case constants.NGHTTP2_REFUSED_STREAM: return GrpcCode.UNAVAILABLE;
    case constants.NGHTTP2_CANCEL: return GrpcCode.CANCELLED;
    case constants.NGHTTP2_ENHANCE_YOUR_CALM: return GrpcCode.RESOURCE_EXHAUSTED;
    case constants.NGHTTP2_INADEQUATE_SECURITY: return GrpcCode.PERMISSION_DENIED;
    default: return GrpcCode.INTERNAL;
  }
}

/** The status a `grpc-status`/`grpc-message` header pair carries; undefined when there is no `grpc-status`. */
export function statusOfTrailers(headers: Readonly<Record<string, string | string[] | number | undefined>>): GrpcStatus | undefined {
  const raw = headers['grpc-status'];
  if (raw === undefined) return undefined;
  const code = Number(Array.isArray(raw) ? raw[0] : raw);
  const message = headers['grpc-message'];
  const text = Array.isArray(message) ? message.join(',') : message === undefined ? '' : String(message);
  if (!Number.isInteger(code) || code < 0) return { code: GrpcCode.UNKNOWN, details: `malformed grpc-status "${String(raw)}"` };
  return { code, details: decodeGrpcMessage(text) };
}

/** `grpc-message` is percent-encoded UTF-8; a malformed escape is kept as sent rather than lost. */
export function decodeGrpcMessage(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
