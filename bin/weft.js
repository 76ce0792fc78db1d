#!/usr/bin/env node
// The `weft` command. Node 24 runs our TypeScript directly (type stripping), so
// there is no build step between a checkout and a working CLI.
import { main } from '../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
