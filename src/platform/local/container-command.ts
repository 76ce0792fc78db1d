import { dirname, join } from 'node:path';

/** This repository's CLI entry point. */
export const WEFT_BIN = join(dirname(new URL(import.meta.url).pathname), '../../../bin/weft.js');

/**
 * The argv a container runs on this machine. A command whose first word is `weft`
 * means this repository's CLI, run by the Node that runs the platform: the image
 * (which would put `weft` on its PATH) is ignored locally, and no global `weft` is
 * installed. Everything else runs as written.
 */
export function containerCommand(argv: readonly string[], options: { nodePath?: string; weftBin?: string } = {}): string[] {
  const [first, ...rest] = argv;
  if (first !== 'weft') return [...argv];
  return [options.nodePath ?? process.execPath, options.weftBin ?? WEFT_BIN, ...rest];
}
