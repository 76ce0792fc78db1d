/**
 * `npm run bench [-- --duration 10 --warmup 2 --connections 16,64 --runs 1 --json --node-flags '…']`:
 * runs every benchmark (today: the data plane). Not part of `npm test`: benchmarks
 * print numbers, tests never assert wall-clock times.
 */
import { parseArgs } from 'node:util';
import { runDataplane } from './dataplane.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '16,64' },
    runs: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
    'node-flags': { type: 'string', default: '' },
  },
});

await runDataplane({
  durationS: Number(values.duration),
  warmupS: Number(values.warmup),
  connections: values.connections.split(',').map(Number),
  runs: Number(values.runs),
  json: values.json,
  nodeFlags: values['node-flags'].split(' ').filter((f) => f !== ''),
});
