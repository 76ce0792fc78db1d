/** What an HTTP GET returned. */
export interface HttpReply {
  readonly status: number;
  readonly body: string;
}

/**
 * GETs `http://address/path` with a deadline. Admin endpoints answer in
 * milliseconds; the deadline only stops a wedged process from wedging the check.
 * Throws with the cause in words (`connection refused`, `timed out after 2000 ms`).
 */
export async function httpGet(address: string, path: string, timeoutMs: number): Promise<HttpReply> {
  const url = `http://${address}${path}`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    throw new Error(`cannot GET ${url}: ${reason(err, timeoutMs)}`, { cause: err });
  }
}

function reason(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `timed out after ${timeoutMs} ms`;
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}
