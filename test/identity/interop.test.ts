import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCsr, generateKeyPair, parseCertificates } from '../../src/pki/index.ts';
import { createServiceAccountToken, identityName, startIdentityService } from '../../src/identity/index.ts';
import { controlPlane, ManualClock, tempDir } from './helpers.ts';

// Python grpcio (C-core gRPC), installed by .ci/setup-extra: an independent client
// that compiles identity.proto with grpcio-tools and knows nothing of our codec.
const PYTHON = process.env.WEFT_GRPCIO_PYTHON ?? '/opt/weft-grpcio/bin/python';
// The server runs in this process: call the client asynchronously, never with execFileSync.
const run = async (args: string[]): Promise<string> => (await promisify(execFile)(PYTHON, args, { encoding: 'utf8' })).stdout.trim();

const CLIENT = `
import sys, grpc
sys.path.insert(0, sys.argv[1])
import identity_pb2, identity_pb2_grpc
d = sys.argv[1]
anchors = open(d + '/anchors.pem', 'rb').read()
creds = grpc.ssl_channel_credentials(root_certificates=anchors)
with grpc.secure_channel(sys.argv[2], creds, options=[('grpc.ssl_target_name_override', sys.argv[3])]) as ch:
    stub = identity_pb2_grpc.IdentityStub(ch)
    req = identity_pb2.CertifyRequest(identity=sys.argv[4], token=open(d + '/token', 'rb').read(),
                                      certificate_signing_request=open(d + '/csr.der', 'rb').read())
    try:
        res = stub.Certify(req, timeout=10)
    except grpc.RpcError as e:
        print('ERROR', e.code().name, e.details())
        sys.exit(0)
    open(d + '/leaf.der', 'wb').write(res.leaf_certificate)
    open(d + '/issuer.der', 'wb').write(res.intermediate_certificates[0])
    print('OK', len(res.intermediate_certificates), res.valid_until.seconds)
`;

test('a standard gRPC client (Python grpcio, compiled from identity.proto) calls Certify over TLS and gets a certificate', async (t) => {
  const clock = new ManualClock(Date.now());
  const cp = await controlPlane(clock);
  t.after(() => cp.cleanup());
  const svc = await startIdentityService(cp.store, { addr: '127.0.0.1:0', clock });
  t.after(() => svc.close());
  const files = tempDir('interop');
  t.after(files.cleanup);
  const d = files.dir;
  copyFileSync(new URL('../../src/identity/identity.proto', import.meta.url), join(d, 'identity.proto'));
  execFileSync(PYTHON, ['-m', 'grpc_tools.protoc', `-I${d}`, `--python_out=${d}`, `--grpc_python_out=${d}`, join(d, 'identity.proto')]);
  writeFileSync(join(d, 'client.py'), CLIENT);
  writeFileSync(join(d, 'anchors.pem'), cp.anchor.certificate.pem);
  const web = identityName({ namespace: 'emojivoto', serviceAccount: 'web' });
  writeFileSync(join(d, 'csr.der'), (await createCsr({ subject: web, keyPair: await generateKeyPair(), sans: [{ type: 'dns', value: web }] })).der);
  writeFileSync(join(d, 'token'), await createServiceAccountToken(cp.store, { namespace: 'emojivoto', serviceAccount: 'web', ttlMs: 3_600_000, now: clock.now() }));

  const out = await run([join(d, 'client.py'), d, svc.address, svc.serverName, web]);
  assert.match(out, /^OK/);
  const leaf = parseCertificates(readFileSync(join(d, 'leaf.der')))[0];
  assert.ok(leaf !== undefined);
  assert.equal(out, `OK 1 ${Math.floor(leaf.notAfter.getTime() / 1000)}`);
  assert.deepEqual(leaf.sans.map((s) => s.value), [web, 'spiffe://cluster.local/ns/emojivoto/sa/web']);
  assert.equal(parseCertificates(readFileSync(join(d, 'issuer.der')))[0]?.serialNumber, cp.issuer.certificate.serialNumber);

  // And a refusal reaches it as a gRPC status with our message.
  writeFileSync(join(d, 'token'), 'not-a-token');
  const refused = await run([join(d, 'client.py'), d, svc.address, svc.serverName, web]);
  assert.match(refused, /^ERROR UNAUTHENTICATED token rejected \(malformed\)/);
});
