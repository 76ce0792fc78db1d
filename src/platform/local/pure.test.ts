import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressPlan, chooseAddressIndex, meshAddressPlan } from './address-plan.ts';
import { controlPlaneAddresses } from './control-plane-addresses.ts';
import { restartDelay } from './backoff.ts';
import { containerCommand } from './container-command.ts';
import { hostsFile } from './hosts-file.ts';
import { checkPlatformPrivileges } from './privileges.ts';
import { serviceEnv } from './service-env.ts';
import { rotationSettings } from './rotation-settings.ts';
import { serviceRulesRestore } from './service-rules.ts';

const web = { metadata: { name: 'web-svc', namespace: 'shop' }, spec: { clusterIP: '10.96.7.10', ports: [{ name: 'http', port: 80 }] } };
const other = { metadata: { name: 'db', namespace: 'data' }, spec: { clusterIP: '10.96.7.11', ports: [{ port: 5432 }] } };

test('hostsFile() maps every Service name to its ClusterIP, the short name only in the same namespace', () => {
  const text = hostsFile([other, web], 'shop', { podName: 'p', podIp: '10.244.7.2' });
  assert.match(text, /^10\.96\.7\.10\tweb-svc\.shop\.svc\.cluster\.local web-svc\.shop\.svc web-svc\.shop web-svc$/m);
  assert.match(text, /^10\.96\.7\.11\tdb\.data\.svc\.cluster\.local db\.data\.svc db\.data$/m);
  assert.match(text, /^10\.244\.7\.2\tp$/m);
});

test('serviceEnv() gives Kubernetes service variables for the pod\'s namespace only', () => {
  const env = serviceEnv([web, other], 'shop');
  assert.equal(env['WEB_SVC_SERVICE_HOST'], '10.96.7.10');
  assert.equal(env['WEB_SVC_SERVICE_PORT'], '80');
  assert.equal(env['WEB_SVC_SERVICE_PORT_HTTP'], '80');
  assert.equal(env['WEB_SVC_PORT_80_TCP_ADDR'], '10.96.7.10');
  assert.equal(env['DB_SERVICE_HOST'], undefined);
});

test('serviceRulesRestore() spreads evenly over ready endpoints and confines egress to the pod range', () => {
  const text = serviceRulesRestore([{ label: 'shop/web:80', clusterIp: '10.96.7.10', port: 80, endpoints: [
    { ip: '10.244.7.2', port: 8080, ready: true, pod: 'a' }, { ip: '10.244.7.3', port: 8080, ready: true, pod: 'b' }, { ip: '10.244.7.4', port: 8080, ready: true, pod: 'c' },
  ] }], { podCidr: '10.244.7.0/24' });
  const dnat = text.split('\n').filter((l) => l.includes('DNAT'));
  assert.equal(dnat.length, 3);
  assert.match(dnat[0] ?? '', /--probability 0\.33333 -j DNAT --to-destination 10\.244\.7\.2:8080$/);
  assert.match(dnat[1] ?? '', /--probability 0\.50000 -j DNAT --to-destination 10\.244\.7\.3:8080$/);
  assert.doesNotMatch(dnat[2] ?? '', /statistic/);
  // Regression (injected pods could not connect): proxy-init's REDIRECT leaves OUTPUT's
  // interface as eth0, so the egress chain must accept by the new address, 127.0.0.1.
  assert.match(text, /-A WEFT_EGRESS -d 127\.0\.0\.0\/8 -j RETURN\n/);
  assert.match(text, /-A WEFT_EGRESS -d 10\.244\.7\.0\/24 -j RETURN\n-A WEFT_EGRESS -p tcp -j REJECT --reject-with tcp-reset\n-A WEFT_EGRESS -j REJECT\nCOMMIT/);
});

test('chooseAddressIndex() skips ranges already on the host and wraps around', () => {
  assert.equal(chooseAddressIndex(5, ['10.244.5.1', '10.96.6.3', '192.168.1.1']), 7);
  assert.equal(chooseAddressIndex(255, ['10.244.255.1']), 0);
  assert.equal(addressPlan(7).gateway, '10.244.7.1');
});

test('restartDelay() doubles from one second up to thirty', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((n) => restartDelay(n)), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
});

test('checkPlatformPrivileges() names every missing capability and changes nothing', async () => {
  await assert.rejects(checkPlatformPrivileges('CapEff:\t0000000000001000\n'), {
    code: 'WEFT_ERR_PLATFORM_PRIVILEGES',
    message: /^Run weft up as root .*lacks CAP_NET_RAW, CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID \(CapEff 0x1000\); nothing was changed$/,
  });
});

test('containerCommand() runs a command named weft with this repository\'s CLI and Node, and leaves others alone', () => {
  assert.deepEqual(containerCommand(['weft', 'demo-app', 'web'], { nodePath: '/n/node', weftBin: '/r/bin/weft.js' }), ['/n/node', '/r/bin/weft.js', 'demo-app', 'web']);
  assert.deepEqual(containerCommand(['node', '-e', 'weft']), ['node', '-e', 'weft']);
  assert.deepEqual(containerCommand(['/usr/bin/weft', 'x']), ['/usr/bin/weft', 'x']);
  assert.deepEqual(containerCommand([]), []);
});

test('rotationSettings() passes shortened issuer and workload lifetimes through and refuses what cert-manager refuses', () => {
  assert.deepEqual(rotationSettings({}), { warnings: [] });
  assert.deepEqual(rotationSettings({ issuerDuration: '1h', issuerRenewBefore: '55m', issuanceLifetime: '2m' }),
    { issuer: { duration: '1h', renewBefore: '55m' }, issuanceLifetimeMs: 120_000, warnings: [] });
  assert.throws(() => rotationSettings({ issuerDuration: '30m', issuerRenewBefore: '10m' }), /at least 1h/);
  assert.throws(() => rotationSettings({ issuerDuration: '1h', issuerRenewBefore: '1m' }), /at least 5m/);
  assert.throws(() => rotationSettings({ issuerDuration: '1h', issuerRenewBefore: '1h' }), /shorter than the issuer's duration/);
  assert.throws(() => rotationSettings({ issuerDuration: '2h' }), /--issuer-renew-before too/);
  assert.throws(() => rotationSettings({ issuanceLifetime: 'soon' }), /a duration such as/);
  assert.match(rotationSettings({ issuerDuration: '1h', issuerRenewBefore: '5m', issuanceLifetime: '10m' }).warnings[0] ?? '', /cut short/);
});

test('meshAddressPlan() takes the last run\'s range back even while its leftover bridge still holds it, and skips other meshes\' ranges', () => {
  const record = { meshId: 'x', pid: 1, addressIndex: 7, bridge: 'b', netns: [], ready: false, pods: [] };
  assert.equal(meshAddressPlan('/var/lib/weft', record, ['10.244.7.1', '10.244.8.1'])?.gateway, '10.244.7.1');
  assert.equal(meshAddressPlan('/var/lib/weft', { ...record, addressIndex: 8 }, ['10.244.7.1', '10.96.9.0'])?.gateway, '10.244.8.1');
  const fresh = meshAddressPlan('/var/lib/weft', undefined, []);
  assert.match(fresh?.gateway ?? '', /^10\.244\.\d+\.1$/);
  assert.notEqual(meshAddressPlan('/var/lib/weft', undefined, [fresh?.gateway ?? ''])?.gateway, fresh?.gateway);
});

test('controlPlaneAddresses() puts identity, destination and admin on the bridge\'s gateway at Linkerd\'s ports', () => {
  assert.deepEqual(controlPlaneAddresses(addressPlan(7)), { identity: '10.244.7.1:8080', destination: '10.244.7.1:8086', admin: '10.244.7.1:9990' });
});
