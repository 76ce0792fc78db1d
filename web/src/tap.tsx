/**
 * Live tap: the requests proxies answered, streamed by the dashboard (Server-Sent
 * Events) from the proxies' /tap streams, one row per request, newest first. A proxy
 * older than /tap shows as batches of like responses per scrape round, without method or path.
 */
import { useEffect, useState } from 'react';
import type { TapEvent } from './api.ts';

const KEEP = 200;

/** The tap view. */
export function Tap() {
  const [events, setEvents] = useState<TapEvent[]>([]);
  const [filter, setFilter] = useState('');
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const source = new EventSource(`api/tap${filter === '' ? '' : `?resource=${encodeURIComponent(filter)}`}`);
    source.onopen = () => setConnected(true);
    source.onerror = () => setConnected(false);
    source.onmessage = (m) => {
      const e = JSON.parse(m.data as string) as TapEvent;
      setEvents((old) => [e, ...old].slice(0, KEEP));
    };
    return () => source.close();
  }, [filter]);
  return (
    <section>
      <h1>Live tap <small>{connected ? 'streaming' : 'connecting…'}</small></h1>
      <form onSubmit={(ev) => { ev.preventDefault(); setEvents([]); setFilter(String(new FormData(ev.currentTarget).get('resource') ?? '').trim()); }}>
        <label>Resource <input name="resource" placeholder="deploy/web (namespace default) — or leave empty" size={36} /></label>
        <button type="submit">Tap</button>
      </form>
      <table data-testid="tap">
        <thead><tr><th>Time</th><th>Proxy</th><th>From</th><th>To</th><th>Method</th><th>Authority</th><th>Path</th><th>Status</th><th>Count</th><th>mTLS</th></tr></thead>
        <tbody>
          {events.map((e, i) => (
            <tr key={`${e.timeMs}-${i}`} className={e.classification === 'failure' ? 'failure' : ''}>
              <td>{new Date(e.timeMs).toLocaleTimeString()}</td><td>{e.proxy}</td><td>{e.src}</td><td>{e.dst}</td><td>{e.method ?? '-'}</td><td>{e.authority}</td><td>{e.path ?? '-'}</td>
              <td>{e.statusCode} {e.classification}</td><td>{e.count}</td><td>{e.tls ? 'secured' : 'plain'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {events.length === 0 && <p>Waiting for requests…</p>}
    </section>
  );
}
