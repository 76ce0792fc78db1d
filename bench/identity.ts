/**
 * Identity benchmark: Certify requests per second and p50/p99 latency with 1, 16
 * and 64 concurrent clients, next to the machine's own ceiling for the same
 * cryptography — `openssl speed ecdsap256`, combined for what one Certify needs:
 * one ECDSA P-256 signature (the leaf) plus two verifications (the CSR's
 * proof of possession and the token's ES256 signature).
 *
 *   node bench/identity.ts [--duration 5] [--warmup 1] [--clients 1,16,64] [--json]
 *
 * The service runs in a child process (as in `weft control-plane`), the clients in
 * this one, each with its own gRPC/TLS channel and its own key and CSR.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { createCsr, generateKeyPair } from '../src/pki/index.ts';
import { openStore } from '../src/store/index.ts';
import { createServiceAccountToken, identityName, IdentityRpcClient, startIdentityService } from '../src/identity/index.ts';
import { controlPlane, ManualClock } from '../test/identity/helpers.ts';

const { values } = parseArgs({
  options: {
    serve: { type: 'string' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    clients: { type: 'string', default: '1,16,64' },
    json: { type: 'boolean', default: false },
  },
});

if (values.serve !== undefined) {
  // Child mode: serve identity over the given state directory until killed.
  const store = openStore({ stateDir: values.serve });
  const svc = await startIdentityService(store, { addr: '127.0.0.1:0' });
  process.stdout.write(`${JSON.stringify({ address: svc.address, serverName: svc.serverName })}\n`);
  process.on('SIGTERM', () => void svc.close().then(() => process.exit(0)));
} else {
  await bench();
}

/** openssl's single-core P-256 sign and verify rates. */
function opensslCeiling(): { sign: number; verify: number; certify: number } {
  const out = execFileSync('openssl', ['speed', '-seconds', '2', 'ecdsap256'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const m = /256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)/.exec(out);
  if (m === null) throw new Error(`Cannot read openssl speed output:\n${out}`);
  const sign = Number(m[1]);
  const verify = Number(m[2]);
  return { sign, verify, certify: 1 / (1 / sign + 2 / verify) };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function bench(): Promise<void> {
  const durationMs = Number(values.duration) * 1000;
  const warmupMs = Number(values.warmup) * 1000;
  const levels = values.clients.split(',').map(Number);
  const maxClients = Math.max(...levels);

  const cp = await controlPlane(new ManualClock(Date.now()));
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--serve', cp.dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const info = await new Promise<{ address: string; serverName: string }>((resolve, reject) => {
      child.stdout.once('data', (b: Buffer) => resolve(JSON.parse(b.toString()) as { address: string; serverName: string }));
      child.once('exit', (code) => reject(new Error(`identity server exited with ${code}`)));
    });
    const identity = identityName({ namespace: 'emojivoto', serviceAccount: 'web' });
    const token = Buffer.from(await createServiceAccountToken(cp.store, { namespace: 'emojivoto', serviceAccount: 'web', ttlMs: 3_600_000, now: Date.now() }));
    const clients = await Promise.all(Array.from({ length: maxClients }, async () => ({
      rpc: new IdentityRpcClient({ addr: info.address, serverName: info.serverName, trustAnchorsPem: cp.anchor.certificate.pem }),
      csr: (await createCsr({ subject: identity, keyPair: await generateKeyPair(), sans: [{ type: 'dns', value: identity }] })).der,
    })));

    const run = async (n: number, ms: number): Promise<{ count: number; errors: number; latencies: number[]; seconds: number }> => {
      const latencies: number[] = [];
      let errors = 0;
      const start = performance.now();
      const end = start + ms;
      await Promise.all(clients.slice(0, n).map(async ({ rpc, csr }) => {
        while (performance.now() < end) {
          const t0 = performance.now();
          try {
            await rpc.certify({ identity, token, certificateSigningRequest: csr });
            latencies.push(performance.now() - t0);
          } catch {
            errors++;
          }
        }
      }));
      return { count: latencies.length, errors, latencies: latencies.sort((a, b) => a - b), seconds: (performance.now() - start) / 1000 };
    };

    const ceiling = opensslCeiling();
    const rows = [];
    for (const n of levels) {
      await run(n, warmupMs);
      const r = await run(n, durationMs);
      const rps = r.count / r.seconds;
      rows.push({
        clients: n, requests: r.count, errors: r.errors, rps: Math.round(rps),
        p50ms: Number(percentile(r.latencies, 50).toFixed(2)), p99ms: Number(percentile(r.latencies, 99).toFixed(2)),
        ratioToCeiling: Number((rps / ceiling.certify).toFixed(3)),
      });
    }
    for (const { rpc } of clients) rpc.close();

    const result = {
      cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
      node: process.version,
      ceiling: { signPerS: ceiling.sign, verifyPerS: ceiling.verify, certifyPerS: Math.round(ceiling.certify), note: '1 sign + 2 verify, one core' },
      rows,
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    process.stdout.write(`identity Certify benchmark (${result.cpus}, node ${result.node})\n`);
    process.stdout.write(`ceiling: openssl speed ecdsap256 = ${ceiling.sign.toFixed(0)} sign/s, ${ceiling.verify.toFixed(0)} verify/s `
      + `-> ${Math.round(ceiling.certify)} Certify/s per core (1 sign + 2 verify)\n\n`);
    process.stdout.write('clients  req/s   p50 ms   p99 ms  errors  ratio to ceiling\n');
    for (const r of rows) {
      process.stdout.write(`${String(r.clients).padStart(7)}  ${String(r.rps).padStart(5)}  ${r.p50ms.toFixed(2).padStart(7)}  ${r.p99ms.toFixed(2).padStart(7)}  ${String(r.errors).padStart(6)}  ${r.ratioToCeiling.toFixed(3)}\n`);
    }
  } finally {
    child.kill('SIGTERM');
    cp.cleanup();
  }
}
