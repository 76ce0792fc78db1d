/**
 * Errors the proxy itself answers with. Each carries `l5d-proxy-error` so a client
 * (and an operator reading a trace) can tell a proxy failure from an application's.
 */
import { WeftError } from '../../errors/index.ts';

const REASONS: Record<number, string> = {
  400: 'Bad Request', 403: 'Forbidden', 431: 'Request Header Fields Too Large',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/** A failure the proxy reports to the HTTP client with `status`. */
export class ProxyHttpError extends WeftError {
  readonly status: number;
  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super('WEFT_ERR_PROXY_HTTP', message, options);
    this.name = 'ProxyHttpError';
    this.status = status;
  }

  /** The HTTP/1.1 response (connection: close) carrying this error. */
  toResponse(): Buffer {
    const body = `${this.message}\n`;
    const reason = this.message.replace(/[^\x20-\x7e]/g, ' ');
    return Buffer.from(
      `HTTP/1.1 ${this.status} ${REASONS[this.status] ?? 'Error'}\r\nl5d-proxy-error: ${reason}\r\n`
      + `content-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
      'latin1',
    );
  }
}
