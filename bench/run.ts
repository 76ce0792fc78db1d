/**
 * `npm run bench [-- --duration 10 --warmup 1 --connections 16,64 --runs 1 --rate 1000 --protocols http1,h2,grpc,tcp --alternatives --json --node-flags '…']`:
 * runs every benchmark (today: the data plane, also `npm run bench:dataplane`). Not
 * part of `npm test`: benchmarks print numbers, tests never assert wall-clock times.
 * Without `--node-flags` the weft proxies run with the platform's flags (PROXY_NODE_FLAGS).
 */
import { dataplaneOptions, runDataplane } from './dataplane.ts';

await runDataplane(dataplaneOptions(process.argv.slice(2)));
