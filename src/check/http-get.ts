import http from 'node:http';

/** What an HTTP GET returned. */
export interface HttpReply {
  readonly status: number;
  readonly body: string;
}

// Admin replies are a few kilobytes; more than this is not an admin endpoint.
const MAX_BODY = 4 * 1024 * 1024;

/**
 * GETs `http://address/path` with a deadline. Admin endpoints answer in
 * milliseconds; the deadline only stops a wedged process from wedging the check.
 * node:http rather than fetch: fetch refuses "unsafe" ports (6000, 10080, …) that
 * a proxy may well be told to use. Rejects with the cause in words
 * (`connection refused`, `no answer within 2000 ms`).
 */
export function httpGet(address: string, path: string, timeoutMs: number): Promise<HttpReply> {
  const url = `http://${address}${path}`;
  return new Promise((resolve, reject) => {
    const failWith = (why: string, cause?: unknown): void => reject(new Error(`cannot GET ${url}: ${why}`, { cause }));
    let req: http.ClientRequest;
    try {
      req = http.get(url, { timeout: timeoutMs }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
          if (body.length > MAX_BODY) req.destroy(new Error('reply too large'));
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', (err) => failWith(err.message, err));
      });
    } catch (err) {
      failWith((err as Error).message, err);
      return;
    }
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => failWith(err.code === 'ECONNREFUSED' ? 'connection refused' : err.message, err));
  });
}
