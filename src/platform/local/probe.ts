import { connect } from 'node:net';
import { request } from 'node:http';
import type { Probe } from '../../api/index.ts';
import { runCommand } from './run-command.ts';

/**
 * Runs one readiness check. tcpSocket and httpGet connect from the host to the pod
 * address (the host's address is exempt from proxy-init's inbound redirect, as
 * kubelet probes are in Linkerd); exec runs the command inside the namespace.
 * `port` is already resolved from a name to a number.
 */
export async function runProbe(probe: Probe, target: { ip: string; port: number | undefined; netns: string }): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.exec !== undefined) {
    const r = await runCommand(['ip', 'netns', 'exec', target.netns, ...probe.exec.command], { timeoutMs });
    return r.code === 0;
  }
  if (target.port === undefined) return false;
  const port = target.port;
  if (probe.tcpSocket !== undefined) {
    return new Promise((resolve) => {
      const s = connect({ host: probe.tcpSocket?.host ?? target.ip, port, timeout: timeoutMs });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('timeout', () => { s.destroy(); resolve(false); });
      s.once('error', () => resolve(false));
    });
  }
  if (probe.httpGet !== undefined) {
    const get = probe.httpGet;
    return new Promise((resolve) => {
      const req = request({ host: get.host ?? target.ip, port, path: get.path ?? '/', method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400);
      });
      req.once('timeout', () => { req.destroy(); resolve(false); });
      req.once('error', () => resolve(false));
      req.end();
    });
  }
  return false;
}
