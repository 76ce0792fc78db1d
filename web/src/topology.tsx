/**
 * Topology: the workload graph (cytoscape) with each node's success rate and
 * requests/s, each edge's rate and a lock on mTLS edges; a click opens the
 * workload's detail. Below it, the same data as tables, which is what screen
 * readers and the browser test read.
 */
import cytoscape, { type Core, type ElementDefinition } from 'cytoscape';
import { useEffect, useRef } from 'react';
import { healthColour, ms, pct, rps, usePoll, type Overview } from './api.ts';

/** A padlock as an inline SVG (the page loads nothing from elsewhere, and fonts may lack the emoji). */
const LOCK = `data:image/svg+xml;utf8,${encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" viewBox="0 0 20 20"><rect x="3" y="9" width="14" height="10" rx="2" fill="#2e9d5b"/><path d="M6 9V6a4 4 0 0 1 8 0v3" stroke="#2e9d5b" stroke-width="2.2" fill="none"/></svg>')}`;

function elements(o: Overview): ElementDefinition[] {
  const out: ElementDefinition[] = [];
  const seen = new Set<string>();
  for (const n of o.nodes) {
    const id = `${n.namespace}/${n.name}`;
    seen.add(id);
    out.push({ data: { id, label: n.responses > 0 ? `${n.name}\n${pct(n.successRate)} · ${rps(n.rps)}` : `${n.name}\n(serves no requests)`, colour: healthColour(n.successRate), ns: n.namespace, name: n.name } });
  }
  o.edges.forEach((e, i) => {
    const source = `${e.srcNamespace}/${e.src}`;
    const target = `${e.dstNamespace}/${e.dst}`;
    for (const id of [source, target]) if (!seen.has(id)) { seen.add(id); out.push({ data: { id, label: id, colour: '#8a94a6' } }); }
    out.push({ data: { id: `e${i}`, source, target, label: `${rps(e.rps)} · ${pct(e.successRate)}`, colour: e.secured ? '#2e9d5b' : '#d64541', secured: e.secured ? 1 : 0 } });
  });
  return out;
}

function placeLocks(cy: Core): void {
  cy.nodes('.lock').remove();
  cy.edges('[secured = 1]').forEach((e) => {
    cy.add({ group: 'nodes', data: { id: `lock-${e.id()}` }, classes: 'lock', position: e.midpoint(), grabbable: false, selectable: false });
  });
}

/** The topology view. */
export function Topology() {
  const { data, error } = usePoll<Overview>('api/overview?window=60', 5000);
  const box = useRef<HTMLDivElement>(null);
  const cyRef = useRef<Core | null>(null);
  const shape = useRef('');

  useEffect(() => {
    if (box.current === null) return;
    const cy = cytoscape({
      container: box.current,
      wheelSensitivity: 0.3,
      style: [
        { selector: 'node', style: { 'background-color': 'data(colour)', label: 'data(label)', 'text-wrap': 'wrap', 'text-valign': 'center', 'text-halign': 'right', 'text-margin-x': 8, 'font-size': 12, color: '#1d2330', width: 34, height: 34 } },
        { selector: 'edge', style: { width: 2.5, 'line-color': 'data(colour)', 'target-arrow-color': 'data(colour)', 'target-arrow-shape': 'triangle', 'curve-style': 'bezier', label: 'data(label)', 'font-size': 10, 'text-background-color': '#fff', 'text-background-opacity': 0.85, 'text-background-padding': '2px', 'text-rotation': 'autorotate', 'text-margin-y': -10 } },
        { selector: 'edge[secured = 0]', style: { 'line-style': 'dashed' } },
        { selector: 'node.lock', style: { 'background-image': LOCK, 'background-fit': 'contain', 'background-opacity': 0, width: 16, height: 16, label: '', events: 'no' } },
      ],
    });
    cy.on('tap', 'node', (ev) => {
      const d = ev.target.data() as { ns?: string; name?: string };
      if (d.ns !== undefined && d.name !== undefined) window.location.hash = `#/workload/${encodeURIComponent(d.ns)}/${encodeURIComponent(d.name)}`;
    });
    cy.on('drag', 'node', (ev) => { if (!ev.target.hasClass('lock')) placeLocks(cy); });
    cyRef.current = cy;
    (window as unknown as { weftTopology?: Core }).weftTopology = cy;
    return () => { cy.destroy(); cyRef.current = null; };
  }, []);

  useEffect(() => {
    const cy = cyRef.current;
    if (cy === null || data === undefined) return;
    const els = elements(data);
    const key = els.map((e) => e.data.id).join(',');
    if (key !== shape.current) {
      // The graph's shape changed: rebuild and lay it out again.
      shape.current = key;
      cy.elements().remove();
      cy.add(els);
      cy.layout({ name: 'breadthfirst', directed: true, padding: 40, spacingFactor: 1.15, animate: false }).run();
      cy.fit(undefined, 40);
    } else {
      // Same shape: only the numbers move; keep the user's positions and zoom.
      for (const e of els) cy.getElementById(String(e.data.id)).data(e.data);
    }
    placeLocks(cy);
  }, [data]);

  return (
    <section>
      <h1>Topology {data !== undefined && <small>{data.nodes.length} workloads · {data.proxies.length} proxies scraped</small>}</h1>
      {error !== undefined && <p className="warning">Cannot load the topology: {error}</p>}
      <div ref={box} className="graph" data-testid="topology-graph" />
      {data !== undefined && (
        <div className="columns">
          <table data-testid="workloads">
            <thead><tr><th>Workload</th><th>Meshed</th><th>Success</th><th>RPS</th><th>P50</th><th>P99</th></tr></thead>
            <tbody>
              {data.nodes.map((n) => (
                <tr key={`${n.namespace}/${n.name}`} data-workload={n.name}>
                  <td><a href={`#/workload/${encodeURIComponent(n.namespace)}/${encodeURIComponent(n.name)}`}>{n.namespace}/{n.name}</a></td>
                  <td>{n.meshedPods}/{n.totalPods}</td>
                  <td className="success" style={{ color: healthColour(n.successRate) }}>{pct(n.successRate)}</td>
                  <td>{n.responses > 0 ? rps(n.rps) : '-'}</td>
                  <td>{ms(n.p50)}</td>
                  <td>{ms(n.p99)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <table data-testid="edges">
            <thead><tr><th>From</th><th>To</th><th>mTLS</th><th>RPS</th><th>Success</th></tr></thead>
            <tbody>
              {data.edges.map((e) => (
                <tr key={`${e.srcNamespace}/${e.src}>${e.dstNamespace}/${e.dst}`} data-edge={`${e.src}>${e.dst}`} data-secured={String(e.secured)}>
                  <td>{e.src}</td><td>{e.dst}</td>
                  <td title={e.secured ? `${e.clientId ?? ''} → ${e.serverId ?? ''}` : 'plain text'}>{e.secured ? <span className="lock"><img src={LOCK} alt="" width={12} height={12} /> secured</span> : <span className="plain">plain</span>}</td>
                  <td>{rps(e.rps)}</td>
                  <td style={{ color: healthColour(e.successRate) }}>{pct(e.successRate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
