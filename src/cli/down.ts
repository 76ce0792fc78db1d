import { resolve } from 'node:path';
import type { Command } from 'commander';
import { cleanupMesh } from '../platform/index.ts';
import { stateDirOf, withStateDir } from './state-dir.ts';

/** `weft down`: stops the mesh of a state directory and removes everything it created. */
export function registerDown(program: Command): void {
  withStateDir(program.command('down'))
    .description('stop the mesh started by weft up and remove its namespaces, veths, bridge, rules and processes')
    .action(async (_opts: unknown, command: Command) => {
      const stateDir = resolve(stateDirOf(command));
      const r = await cleanupMesh(stateDir);
      if (r.stoppedPid !== undefined) process.stdout.write(`Stopped the mesh (pid ${r.stoppedPid}).\n`);
      else if (r.leftovers) process.stdout.write('Removed what a mesh that was no longer running left behind.\n');
      else process.stdout.write('No mesh was running; checked that nothing is left behind.\n');
    });
}
