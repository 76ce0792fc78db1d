/**
 * `weft proxy-init --dry-run` prints the exact commands; the output is
 * golden-tested. Regenerate after a deliberate change with
 * `WEFT_UPDATE_GOLDEN=1 node --test test/proxy-init/dry-run.test.ts` and review the diff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { weft } from './netns.ts';

const cases: Array<{ golden: string; args: string[] }> = [
  { golden: 'legacy-defaults.txt', args: ['--backend', 'legacy', '--ipv6', 'off'] },
  { golden: 'nft-defaults.txt', args: ['--backend', 'nft', '--ipv6', 'on'] },
  {
    golden: 'legacy-ignores.txt',
    args: ['--backend', 'legacy', '--ipv6', 'on', '--proxy-uid', '1337', '--inbound-port', '15006', '--outbound-port', '15001',
      '--inbound-ports-to-ignore', '22,8000-8100', '--outbound-ports-to-ignore', '3306', '--outbound-ports-to-ignore', '5432,6379',
      '--subnets-to-ignore', '10.96.0.0/12,fd00::/8', '--subnets-to-ignore', '192.168.0.0/16'],
  },
  { golden: 'nft-clean.txt', args: ['--backend', 'nft', '--ipv6', 'on', '--clean'] },
];

for (const c of cases) {
  test(`weft proxy-init --dry-run ${c.args.join(' ')} prints ${c.golden}`, () => {
    const r = weft(['proxy-init', '--dry-run', ...c.args]);
    assert.equal(r.code, 0, r.stderr);
    const file = fileURLToPath(new URL(`./golden/${c.golden}`, import.meta.url));
    if (process.env['WEFT_UPDATE_GOLDEN'] === '1') writeFileSync(file, r.stdout);
    assert.equal(r.stdout, readFileSync(file, 'utf8'));
  });
}

test('weft proxy-init rejects a bad flag value with a one-line message and exit 2', () => {
  const r = weft(['proxy-init', '--dry-run', '--backend', 'nft', '--ipv6', 'off', '--outbound-ports-to-ignore', '80,99999']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'error: Give --outbound-ports-to-ignore ports between 1 and 65535, ranges as "1000-2000": got "99999"\n');
});
