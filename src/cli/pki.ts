import type { Command } from 'commander';

/** `weft pki …`: step-compatible certificate tooling. */
export function registerPki(program: Command): void {
  program.command('pki').description('create, inspect and verify certificates (step-compatible)');
}
