/**
 * Workload detail: golden metrics as uPlot time series, inbound and outbound edges
 * with identities, and the workload's pods with their proxies' certificate expiry.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import { healthColour, ms, pct, relative, rps, usePoll, type WorkloadDetail } from './api.ts';

function Chart(props: { title: string; time: number[]; series: Array<{ label: string; values: Array<number | null>; colour: string }>; unit: (v: number) => string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { title, time, series, unit } = props;
  useEffect(() => {
    if (box.current === null) return;
    const data = [time, ...series.map((s) => s.values)] as uPlot.AlignedData;
    if (plot.current === null || plot.current.series.length !== series.length + 1) {
      plot.current?.destroy();
      plot.current = new uPlot({
        width: Math.max(280, box.current.clientWidth),
        height: 170,
        legend: { show: true },
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.colour, width: 2, spanGaps: true }))],
        axes: [{}, { values: (_u: uPlot, vals: number[]) => vals.map(unit), size: 64 }],
      }, data, box.current);
    } else {
      plot.current.setData(data);
    }
  }, [time, series, unit]);
  useEffect(() => () => { plot.current?.destroy(); plot.current = null; }, []);
  return <div className="chart"><h3>{title}</h3><div ref={box} /></div>;
}

/** The workload detail view. */
export function Workload(props: { namespace: string; name: string }) {
  const { namespace, name } = props;
  const { data, error } = usePoll<WorkloadDetail>(`api/workload?kind=deploy&ns=${encodeURIComponent(namespace)}&name=${encodeURIComponent(name)}&window=60&range=3600`, 5000);
  const s = data?.stat ?? null;
  const inbound = data?.edges.filter((e) => e.dst === name && e.dstNamespace === namespace) ?? [];
  const outbound = data?.edges.filter((e) => e.src === name && e.srcNamespace === namespace) ?? [];
  return (
    <section>
      <h1><a href="#/">Topology</a> / {namespace}/{name}</h1>
      {error !== undefined && <p className="warning">Cannot load {name}: {error}</p>}
      {s !== null && (
        <div className="cards" data-testid="golden">
          <div className="card"><span>Success</span><b style={{ color: healthColour(s.successRate) }}>{pct(s.successRate)}</b></div>
          <div className="card"><span>Requests</span><b>{rps(s.rps)}</b></div>
          <div className="card"><span>P50 / P95 / P99</span><b>{ms(s.p50)} / {ms(s.p95)} / {ms(s.p99)}</b></div>
          <div className="card"><span>TCP connections</span><b>{s.tcpConnections}</b></div>
          <div className="card"><span>Meshed pods</span><b>{s.meshedPods}/{s.totalPods}</b></div>
        </div>
      )}
      {data !== undefined && (
        <div className="charts">
          <Chart title="Success rate" time={data.series.time} unit={(v) => `${(v * 100).toFixed(0)}%`} series={[{ label: 'success', values: data.series.successRate, colour: '#2e9d5b' }]} />
          <Chart title="Requests per second" time={data.series.time} unit={(v) => v.toFixed(1)} series={[{ label: 'rps', values: data.series.rps, colour: '#3a6fd8' }]} />
          <Chart title="Latency (ms)" time={data.series.time} unit={(v) => `${v.toFixed(0)}`} series={[
            { label: 'p50', values: data.series.p50, colour: '#3a6fd8' },
            { label: 'p95', values: data.series.p95, colour: '#d49a1c' },
            { label: 'p99', values: data.series.p99, colour: '#d64541' },
          ]} />
        </div>
      )}
      <div className="columns">
        {[['Inbound', inbound, 'src'], ['Outbound', outbound, 'dst']].map(([title, rows, end]) => (
          <table key={String(title)}>
            <caption>{String(title)}</caption>
            <thead><tr><th>{end === 'src' ? 'From' : 'To'}</th><th>mTLS</th><th>Client identity</th><th>Server identity</th><th>RPS</th><th>Success</th></tr></thead>
            <tbody>
              {(rows as WorkloadDetail['edges']).map((e) => (
                <tr key={`${e.src}>${e.dst}`}>
                  <td><a href={`#/workload/${encodeURIComponent(end === 'src' ? e.srcNamespace : e.dstNamespace)}/${encodeURIComponent(end === 'src' ? e.src : e.dst)}`}>{end === 'src' ? e.src : e.dst}</a></td>
                  <td>{e.secured ? 'secured' : 'plain'}</td><td className="id">{e.clientId ?? '-'}</td><td className="id">{e.serverId ?? '-'}</td>
                  <td>{rps(e.rps)}</td><td style={{ color: healthColour(e.successRate) }}>{pct(e.successRate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
      </div>
      {data !== undefined && (
        <table>
          <caption>Pods</caption>
          <thead><tr><th>Pod</th><th>IP</th><th>Identity</th><th>Proxy certificate expires</th><th>Last scrape</th></tr></thead>
          <tbody>
            {data.pods.map((p) => (
              <tr key={p.pod}>
                <td>{p.pod}</td><td>{p.ip}</td><td className="id">{p.identity}</td>
                <td>{p.certNotAfterMs === null ? '-' : `${new Date(p.certNotAfterMs).toISOString().replace('.000Z', 'Z')} (${relative(p.certNotAfterMs, data.nowMs)})`}</td>
                <td>{p.error !== null ? <span className="warning">{p.error}</span> : p.lastScrapeMs === null ? '-' : relative(p.lastScrapeMs, data.nowMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
