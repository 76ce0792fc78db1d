/**
 * The weft dashboard: topology, workload detail, certificates and live tap, with
 * hash routes (#/, #/workload/NS/NAME, #/certificates, #/tap) so the server needs
 * no routing and a reload keeps the view.
 */
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { Certificates } from './certificates.tsx';
import { Tap } from './tap.tsx';
import { Topology } from './topology.tsx';
import { Workload } from './workload.tsx';

function useHash(): string {
  const [hash, setHash] = useState(window.location.hash || '#/');
  useEffect(() => {
    const on = (): void => setHash(window.location.hash || '#/');
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function App() {
  const hash = useHash();
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  let view;
  if (parts[0] === 'workload' && parts[1] !== undefined && parts[2] !== undefined) view = <Workload namespace={parts[1]} name={parts[2]} />;
  else if (parts[0] === 'certificates') view = <Certificates />;
  else if (parts[0] === 'tap') view = <Tap />;
  else view = <Topology />;
  const tab = (href: string, label: string, active: boolean) => <a href={href} className={active ? 'tab active' : 'tab'}>{label}</a>;
  return (
    <>
      <header>
        <span className="brand">weft</span>
        <nav>
          {tab('#/', 'Topology', parts[0] === '' || parts[0] === 'workload')}
          {tab('#/certificates', 'Certificates', parts[0] === 'certificates')}
          {tab('#/tap', 'Live tap', parts[0] === 'tap')}
        </nav>
      </header>
      <main>{view}</main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(<StrictMode><App /></StrictMode>);
