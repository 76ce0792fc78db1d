/**
 * End to end in two namespaces joined by a veth pair:
 *
 *   ns A (10.77.0.1, fd77::1)                     ns B (10.77.0.2, fd77::2)
 *   client ──▶ WEFT_OUTPUT ──▶ :4140 "outbound"   PREROUTING ─▶ WEFT_INBOUND ─▶ :4143 "inbound" ─▶ app
 *   client as uid 2102 ───────────────── veth ──────────▶ (inbound redirect)
 *
 * The stand-in proxies answer with the original destination read through the
 * native addon, so each assertion shows where a connection went and what the
 * proxy saw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { connectFrom, netns, sh, startIn, tag, weftIn } from './netns.ts';

const SERVER = fileURLToPath(new URL('./fixtures/server.ts', import.meta.url));
const A4 = '10.77.0.1';
const B4 = '10.77.0.2';
const A6 = 'fd77::1';
const B6 = 'fd77::2';

test('proxy-init redirects between two namespaces and the proxy sees the original destination', async (t) => {
  const a = netns(t, 'e2e-a');
  const b = netns(t, 'e2e-b');
  const id = tag();
  const vethA = `wpa${id}`;
  const vethB = `wpb${id}`;
  // Created inside A, so nothing ever appears in the host's namespace.
  sh(['ip', '-n', a, 'link', 'add', vethA, 'type', 'veth', 'peer', 'name', vethB, 'netns', b]);
  for (const [ns, dev, v4, v6] of [[a, vethA, A4, A6], [b, vethB, B4, B6]] as const) {
    sh(['ip', 'netns', 'exec', ns, 'sysctl', '-q', 'net.ipv6.conf.all.disable_ipv6=0']);
    sh(['ip', '-n', ns, 'addr', 'add', `${v4}/24`, 'dev', dev]);
    // nodad: usable at once, no waiting for duplicate address detection.
    sh(['ip', '-n', ns, 'addr', 'add', `${v6}/64`, 'dev', dev, 'nodad']);
    sh(['ip', '-n', ns, 'link', 'set', dev, 'up']);
  }

  const initA = weftIn(a, ['proxy-init', '--ipv6', 'on', '--outbound-ports-to-ignore', '9001']);
  assert.equal(initA.code, 0, initA.stderr);
  const initB = weftIn(b, ['proxy-init', '--ipv6', 'on', '--inbound-ports-to-ignore', '9002']);
  assert.equal(initB.code, 0, initB.stderr);

  await startIn(t, a, [SERVER, 'outbound', '4140']);
  await startIn(t, b, [SERVER, 'inbound', '4143']);
  await startIn(t, b, [SERVER, 'app', '8080', '9001', '9002', '4191']);

  await t.test('an application in A connecting to B over IPv4 reaches its outbound proxy, which sees B:8080', () => {
    assert.equal(connectFrom(a, B4, 8080), `outbound ${B4} 8080 4\n`);
  });

  await t.test('an application in A connecting to B over IPv6 reaches its outbound proxy, which sees [fd77::2]:8080', () => {
    assert.equal(connectFrom(a, B6, 8080), `outbound ${B6} 8080 6\n`);
  });

  await t.test('the proxy uid bypasses A\'s outbound redirect and B\'s inbound proxy forwards to the application (IPv4)', () => {
    assert.equal(connectFrom(a, B4, 8080, 2102), `inbound ${B4} 8080 4\napp 8080\n`);
  });

  await t.test('the proxy uid bypasses A\'s outbound redirect and B\'s inbound proxy forwards to the application (IPv6)', () => {
    assert.equal(connectFrom(a, B6, 8080, 2102), `inbound ${B6} 8080 6\napp 8080\n`);
  });

  await t.test('an ignored outbound port bypasses A\'s outbound proxy (and meets B\'s inbound proxy)', () => {
    assert.equal(connectFrom(a, B4, 9001), `inbound ${B4} 9001 4\napp 9001\n`);
  });

  await t.test('an ignored inbound port reaches B\'s application directly', () => {
    assert.equal(connectFrom(a, B4, 9002, 2102), 'app 9002\n');
  });

  await t.test('the admin port 4191 is never redirected inbound', () => {
    assert.equal(connectFrom(a, B6, 4191, 2102), 'app 4191\n');
  });

  await t.test('loopback traffic inside B is not redirected', () => {
    assert.equal(connectFrom(b, '127.0.0.1', 8080), 'app 8080\n');
  });
});
