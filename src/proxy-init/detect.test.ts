import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseBackend, parseSave, type BackendEvidence, type TablesEvidence } from './detect.ts';

const empty: TablesEvidence = { readable: true, rules: 0, weft: false };
const evidence = (legacy: Partial<TablesEvidence>, nft: Partial<TablesEvidence>, binaries = { legacy: true, nft: true }): BackendEvidence =>
  ({ binaries, tables: { legacy: { ...empty, ...legacy }, nft: { ...empty, ...nft } } });

const cases: Array<{ name: string; e: BackendEvidence; backend: 'legacy' | 'nft'; reason: RegExp }> = [
  { name: 'only iptables-legacy is installed', e: evidence({}, { rules: 9 }, { legacy: true, nft: false }), backend: 'legacy', reason: /only iptables-legacy is installed/ },
  { name: 'weft chains are in legacy', e: evidence({ weft: true, rules: 9 }, { rules: 20 }), backend: 'legacy', reason: /earlier run are in the legacy tables/ },
  { name: 'only nft holds rules', e: evidence({}, { rules: 3 }), backend: 'nft', reason: /nft tables hold 3 rule\(s\) and the legacy tables none/ },
  { name: 'only legacy holds rules', e: evidence({ rules: 1 }, {}), backend: 'legacy', reason: /legacy tables hold 1 rule/ },
  { name: 'both hold rules, legacy more', e: evidence({ rules: 40 }, { rules: 2 }), backend: 'legacy', reason: /legacy holds more/ },
  { name: 'nothing anywhere, nf_tables works', e: evidence({}, {}), backend: 'nft', reason: /kernel supports nf_tables/ },
  { name: 'nothing anywhere, nf_tables does not answer', e: evidence({}, { readable: false, error: 'Protocol not supported' }), backend: 'legacy', reason: /nf_tables does not answer \(Protocol not supported\)/ },
];

for (const c of cases) {
  test(`chooseBackend() picks ${c.backend} when ${c.name}`, () => {
    const choice = chooseBackend(c.e);
    assert.equal(choice.backend, c.backend);
    assert.match(choice.reason, c.reason);
  });
}

test('chooseBackend() names the package to install when no iptables exists', () => {
  assert.throws(() => chooseBackend(evidence({}, {}, { legacy: false, nft: false })),
    { code: 'WEFT_ERR_PROXY_INIT_MISSING_BINARY', message: /^Install iptables: .*apt-get install iptables/ });
});

test('parseSave() counts rules and spots weft chains, ignoring comments', () => {
  const text = [
    '# Warning: iptables-legacy tables present, use iptables-legacy-save to see them',
    '*nat', ':PREROUTING ACCEPT [0:0]', ':WEFT_INBOUND - [0:0]',
    '-A PREROUTING -p tcp -j WEFT_INBOUND', '-A WEFT_INBOUND -p tcp -j REDIRECT --to-ports 4143', 'COMMIT',
  ].join('\n');
  assert.deepEqual(parseSave(text), { rules: 2, weft: true });
  assert.deepEqual(parseSave('*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n'), { rules: 0, weft: false });
});
