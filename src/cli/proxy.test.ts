import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { Command } from 'commander';
import { UsageError } from '../errors/index.ts';
import { parseProxyArgs, registerProxy } from './proxy.ts';

/** What commander's `weft proxy` hands its action for `args` (the action itself is replaced). */
async function commanderFlags(args: string[], env: Record<string, string>): Promise<unknown> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const program = new Command('weft').exitOverride();
    registerProxy(program);
    let flags: unknown;
    program.commands[0]!.action((f: unknown) => { flags = f; });
    await program.parseAsync(['proxy', ...args], { from: 'user' });
    return flags;
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

test('the lean entry point reads flags, environment and defaults as weft proxy does', async () => {
  const cases: Array<[string[], Record<string, string>]> = [
    [[], {}],
    [['--key-file', 'k.pem', '--cert-file=c.pem', '--dst', 'a:1=127.0.0.1:2', '--dst', 'b:1=127.0.0.1:3', '--transparent'], {}],
    [['--transparent', 'false', '--log-level', 'debug'], { WEFT_PROXY_LOG_LEVEL: 'warn', WEFT_PROXY_OUTBOUND_TARGETS: '9000=web:80,9001=api:80', WEFT_PROXY_DETECT_TIMEOUT: '1s' }],
  ];
  for (const [args, env] of cases) {
    assert.deepEqual({ ...(parseProxyArgs(args, env) as object) }, await commanderFlags(args, env), args.join(' '));
  }
});

test('flags win over the environment, which wins over defaults', () => {
  const flags = parseProxyArgs(['--admin-addr', '127.0.0.1:9'], { WEFT_PROXY_ADMIN_ADDR: '127.0.0.1:8', WEFT_PROXY_INBOUND_ADDR: '127.0.0.1:7' });
  assert.ok(flags !== 'help');
  assert.equal(flags.adminAddr, '127.0.0.1:9');
  assert.equal(flags.inboundAddr, '127.0.0.1:7');
  assert.equal(flags.outboundAddr, '127.0.0.1:4140');
});

test('an unknown option or a missing value is a usage error', () => {
  assert.throws(() => parseProxyArgs(['--no-such-flag', 'x'], {}), UsageError);
  assert.throws(() => parseProxyArgs(['stray'], {}), UsageError);
  assert.throws(() => parseProxyArgs(['--key-file'], {}), UsageError);
  assert.equal(parseProxyArgs(['--help'], {}), 'help');
});

test('the lean entry point does not load commander', () => {
  // A resolve hook reports every bare specifier the entry point imports.
  const hook = `data:text/javascript,${encodeURIComponent(`
    import { registerHooks } from 'node:module';
    registerHooks({ resolve(s, c, next) { if (!s.startsWith('.') && !s.startsWith('node:') && !s.startsWith('file:')) process.stderr.write('BARE ' + s + '\\n'); return next(s, c); } });`)}`;
  const r = spawnSync(process.execPath, ['--import', hook, new URL('./proxy.ts', import.meta.url).pathname, '--no-such-flag'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /Remove "--no-such-flag"/);
  assert.doesNotMatch(r.stderr, /BARE commander/);
});

test('the control-plane clients the sidecar loads bring no service code, no src/pki and no gRPC library', () => {
  // The proxy imports these two doors when it has --identity-addr / --destination-addr
  // (always, on the platform); through the areas' index.ts it loaded zod's schemas,
  // node:sqlite and the service side, ~25 MB per sidecar.
  const hook = `data:text/javascript,${encodeURIComponent(`
    import { registerHooks } from 'node:module';
    registerHooks({ resolve(s, c, next) { const r = next(s, c); process.stderr.write('LOADED ' + r.url + '\\n'); return r; } });`)}`;
  const doors = ['../identity/client.ts', '../destination/client.ts'].map((p) => new URL(p, import.meta.url).href);
  const r = spawnSync(process.execPath, ['--import', hook, '--input-type=module', '-e', doors.map((d) => `await import(${JSON.stringify(d)});`).join('\n')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const loaded = r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7));
  assert.ok(loaded.some((u) => u.endsWith('/src/identity/workload-client.ts')), 'the hook saw the identity client');
  const service = loaded.filter((u) => /\/src\/(api|store|certs|control-plane)\/|\/src\/(identity|destination)\/(service|resolve|issuer|issuer-source|certify|bootstrap|token-key)\.ts$|^zod$|\/zod\/|^node:sqlite$/.test(u));
  assert.deepEqual(service, []);
  // The CSR is DER over node:crypto and the calls are gRPC over node:http2: @peculiar/x509
  // (with its ASN.1 schemas) and @grpc/grpc-js cost a sidecar ~9 MB (docs/embedded-platform.md).
  assert.ok(loaded.some((u) => u.endsWith('/src/grpc-client/channel.ts')), 'the hook saw the gRPC client');
  const heavy = loaded.filter((u) => /\/src\/pki\/|\/node_modules\/(@peculiar|@grpc|asn1js|pvtsutils|reflect-metadata|tsyringe)\/|^@grpc\/|^@peculiar\//.test(u));
  assert.deepEqual(heavy, []);
});
