/**
 * `npm start`: the demo mesh on this machine, in the foreground.
 *
 *   weft up -f examples/emojivoto.yaml  (control plane, four meshed pods, vote-bot voting)
 *     with the issuer shortened so rotation shows within minutes:
 *     issuer Certificate 1h, renewBefore 55m  → a new issuer every 5 minutes
 *     workload certificates 2m                → each proxy renews about every 84 s
 *
 * Ctrl-C stops the mesh and removes everything it created. Extra arguments go to
 * `weft up` (e.g. `npm start -- --state-dir /tmp/weft-demo`). The durations apply
 * when the state directory is new; an existing store keeps the settings it has (the
 * `rotation` line says which).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const weft = join(root, 'bin', 'weft.js');

/** The demo's rotation settings (docs/demo.md, "Rotation you can watch"). */
const ROTATION = ['--issuer-duration', '1h', '--issuer-renew-before', '55m', '--issuance-lifetime', '2m'];

const extra = process.argv.slice(2);
const stateDirFlag = extra.includes('--state-dir') ? ` --state-dir ${extra[extra.indexOf('--state-dir') + 1] ?? ''}` : '';

const S = stateDirFlag;
const look: Array<[string, string]> = [
  ['pods, their IPs, READY, RESTARTS, MESHED', `npx weft get pods -n emojivoto${S}`],
  ['the leaderboard, from inside the mesh', `npx weft exec${S} deploy/vote-bot -n emojivoto -- curl -s http://web-svc/api/leaderboard`],
  ['a vote for :doughnut: (always 500)', `npx weft exec${S} deploy/vote-bot -n emojivoto -- curl -s -w ' %{http_code}\\n' 'http://web-svc/api/vote?choice=:doughnut:'`],
  ['vote-bot\'s counts every 10 s (-c weft-proxy: its proxy)', `npx weft logs${S} -n emojivoto -f POD`],
  ['the issuer\'s validity and next renewal', `npx weft certs status weft-identity-issuer -n weft${S}`],
  ['a proxy\'s metrics (mTLS: tls="true", client_id, server_id)', 'curl -s http://POD_IP:4191/metrics | grep request_total'],
  ['the voting page in a browser on this host (straight to web\'s pod, like kubectl port-forward)', 'http://WEB_POD_IP:8080/'],
  ['the dashboard: topology, mTLS edges, certificates (weft up serves it; the URL is printed below)', 'http://127.0.0.1:50750/'],
];
process.stdout.write(`weft demo: the emojivoto mesh (web, emoji, voting, vote-bot), every hop mutual TLS.
Issuer Certificate 1h with renewBefore 55m: a new issuer every 5 minutes; workload
certificates live 2 minutes (proxies renew them about every 84 s). Starting…

Where to look, from another terminal in this checkout (as root):
${look.map(([what, cmd]) => `  # ${what}\n  ${cmd}`).join('\n')}

`);

const child = spawn(process.execPath, [weft, 'up', '-f', join(root, 'examples', 'emojivoto.yaml'), ...ROTATION, ...extra], { stdio: 'inherit' });
// Ctrl-C reaches weft up directly (same process group); relaying it as well is
// harmless (weft up ignores a second signal while it cleans up) and covers a
// signal sent to this process alone.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => { child.kill(sig); });
}
child.once('exit', (code, signal) => {
  process.exitCode = code ?? (signal === null ? 1 : 128);
});
