import { qualifiedPlural, type KindDefinition } from '../api/index.ts';

/** Exit code when what was asked for does not exist (kubectl's 1). */
export const EXIT_NOT_FOUND = 1;

/**
 * Prints kubectl's NotFound line plus what to do, and sets exit code 1. Not thrown:
 * main maps errors to 2 (bad input), and a missing object is not bad input.
 */
export function reportNotFound(def: KindDefinition, name: string, namespace: string | undefined): void {
  const where = def.namespaced ? ` in namespace "${namespace}"` : '';
  const list = `weft get ${def.plural}${def.namespaced ? ' -A' : ''}`;
  process.stderr.write(
    `Error from server (NotFound): ${qualifiedPlural(def)} "${name}" not found${where}: run "${list}" to see what exists\n`,
  );
  process.exitCode = EXIT_NOT_FOUND;
}
