/**
 * Certificates: the trust chain on one timeline — trust anchors, the issuer
 * Certificates with their next renewal and past rotations, and each proxy's workload
 * certificate — with warnings where a renewal failed or would come late. The
 * timeline shows two days back and three ahead: long-lived anchors are clipped, with
 * their dates written out. A workload certificate is drawn over the lifetime the
 * server reports (identity's issuanceLifetime), not an assumed day.
 */
import { relative, usePoll, type ChainView } from './api.ts';

const DAY = 86_400_000;

function iso(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z').replace('T', ' ');
}

/** `24h`, `90m`, `45s`: the largest unit that divides the lifetime, as identity's config spells durations. */
function lifetimeText(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

function Bar(props: { from: number; to: number; now: number; notBefore?: number | undefined; notAfter?: number | undefined; renewal?: number | undefined; marks?: number[]; colour: string }) {
  const { from, to } = props;
  const x = (t: number): number => Math.min(100, Math.max(0, ((t - from) / (to - from)) * 100));
  const nb = props.notBefore ?? from;
  const na = props.notAfter ?? to;
  return (
    <div className="bar">
      <div className="validity" style={{ left: `${x(nb)}%`, width: `${Math.max(0.5, x(na) - x(nb))}%`, background: props.colour }} />
      {(props.marks ?? []).map((m) => <div key={m} className="mark" style={{ left: `${x(m)}%` }} title={`rotated ${iso(m)}`} />)}
      {props.renewal !== undefined && <div className="renewal" style={{ left: `${x(props.renewal)}%` }} title={`renews ${iso(props.renewal)}`} />}
      <div className="now" style={{ left: `${x(props.now)}%` }} />
    </div>
  );
}

/** The certificates view. */
export function Certificates() {
  const { data, error } = usePoll<ChainView>('api/certificates', 10_000);
  if (data === undefined) return <section><h1>Certificates</h1>{error !== undefined ? <p className="warning">Cannot load the certificates: {error}</p> : <p>Loading…</p>}</section>;
  const from = data.nowMs - 2 * DAY;
  const to = data.nowMs + 3 * DAY;
  return (
    <section>
      <h1>Certificates <small>trust chain, {iso(from)} → {iso(to)}</small></h1>
      {data.warnings.length > 0 && (
        <ul className="warnings" data-testid="cert-warnings">{data.warnings.map((w) => <li key={w}>{w}</li>)}</ul>
      )}
      {data.warnings.length === 0 && <p className="ok">Every certificate is current and renews on time.</p>}
      <div className="legend"><span className="lg validity-lg" /> validity <span className="lg renewal-lg" /> next renewal <span className="lg mark-lg" /> past rotation <span className="lg now-lg" /> now</div>
      <table className="timeline" data-testid="chain">
        <thead><tr><th>Certificate</th><th>Valid</th><th>Next renewal</th><th className="tl">Timeline</th></tr></thead>
        <tbody>
          {data.anchors.map((a) => (
            <tr key={a.fingerprint} data-kind="anchor">
              <td><b>Trust anchor</b><br /><span className="id">{a.subject}</span></td>
              <td>{iso(a.notBeforeMs)}<br />→ {iso(a.notAfterMs)}</td>
              <td>-</td>
              <td><Bar from={from} to={to} now={data.nowMs} notBefore={a.notBeforeMs} notAfter={a.notAfterMs} colour="#6c5ce7" /></td>
            </tr>
          ))}
          {data.issuers.map((c) => (
            <tr key={`${c.namespace}/${c.name}`} data-kind="issuer" data-name={c.name}>
              <td><b>{c.isCA ? 'Issuer' : 'Certificate'}</b> {c.namespace}/{c.name}<br /><span className="id">revision {c.revision ?? '-'} · {c.ready ? 'Ready' : 'not ready'} · {c.rotations.filter((r) => r.reason === 'Issued').length} issuances seen</span></td>
              <td>{iso(c.notBeforeMs)}<br />→ {iso(c.notAfterMs)}</td>
              <td className="renewal-cell">{c.renewalTimeMs === undefined ? '-' : <>{iso(c.renewalTimeMs)}<br />({relative(c.renewalTimeMs, data.nowMs)})</>}</td>
              <td><Bar from={from} to={to} now={data.nowMs} notBefore={c.notBeforeMs} notAfter={c.notAfterMs} renewal={c.renewalTimeMs} marks={c.rotations.map((r) => r.timeMs)} colour={c.warnings.length > 0 ? '#d64541' : '#3a6fd8'} /></td>
            </tr>
          ))}
          {data.workloads.map((w) => (
            <tr key={w.pod} data-kind="workload" data-pod={w.pod}>
              <td>Workload {w.pod}<br /><span className="id">{w.identity} · {lifetimeText(w.lifetimeMs)} lifetime</span></td>
              <td>{iso(w.notBeforeMs)}<br />→ {iso(w.notAfterMs)}</td>
              <td className="renewal-cell">{iso(w.renewalTimeMs)}<br />({relative(w.renewalTimeMs, data.nowMs)}, at 70% of its lifetime)</td>
              <td><Bar from={from} to={to} now={data.nowMs} notAfter={w.notAfterMs} notBefore={w.notBeforeMs} renewal={w.renewalTimeMs} colour={w.warnings.length > 0 ? '#d64541' : '#2e9d5b'} /></td>
            </tr>
          ))}
        </tbody>
      </table>
      {data.issuers.some((c) => c.rotations.length > 0) && (
        <table>
          <caption>Past rotations (store Events)</caption>
          <thead><tr><th>When</th><th>Certificate</th><th>Reason</th><th>Message</th></tr></thead>
          <tbody>
            {data.issuers.flatMap((c) => c.rotations.map((r) => ({ c, r }))).sort((a, b) => b.r.timeMs - a.r.timeMs).slice(0, 30).map(({ c, r }, i) => (
              <tr key={i} className={r.type === 'Warning' ? 'warning' : ''}><td>{iso(r.timeMs)}</td><td>{c.namespace}/{c.name}</td><td>{r.reason}</td><td>{r.message}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
