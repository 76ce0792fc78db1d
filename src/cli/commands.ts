/**
 * Every `weft` subcommand, one file each. Adding a command is one line here.
 *
 * Each entry loads its file only when that command runs: a CLI call then pays for
 * its own imports (the proxy's, gRPC's, the store's…), not for every command's.
 * `weft --help` loads them all.
 */
import type { Command } from 'commander';

/** A subcommand: its name as typed, and how to load the function that registers it. */
export interface CommandEntry {
  readonly name: string;
  readonly load: () => Promise<(program: Command) => void>;
}

/** Every subcommand, in the order `weft --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'pki', load: async () => (await import('./pki.ts')).registerPki },
  { name: 'proxy', load: async () => (await import('./proxy.ts')).registerProxy },
  { name: 'proxy-init', load: async () => (await import('./proxy-init.ts')).registerProxyInit },
  { name: 'apply', load: async () => (await import('./apply.ts')).registerApply },
  { name: 'get', load: async () => (await import('./get.ts')).registerGet },
  { name: 'describe', load: async () => (await import('./describe.ts')).registerDescribe },
  { name: 'delete', load: async () => (await import('./delete.ts')).registerDelete },
  { name: 'create', load: async () => (await import('./create.ts')).registerCreate },
  { name: 'certs', load: async () => (await import('./certs.ts')).registerCerts },
  { name: 'control-plane', load: async () => (await import('./control-plane.ts')).registerControlPlane },
  { name: 'identity', load: async () => (await import('./identity.ts')).registerIdentity },
  { name: 'token', load: async () => (await import('./token.ts')).registerToken },
  { name: 'check', load: async () => (await import('./check.ts')).registerCheck },
  { name: 'demo-app', load: async () => (await import('./demo-app.ts')).registerDemoApp },
  { name: 'up', load: async () => (await import('./up.ts')).registerUp },
  { name: 'down', load: async () => (await import('./down.ts')).registerDown },
  { name: 'exec', load: async () => (await import('./exec.ts')).registerExec },
  { name: 'logs', load: async () => (await import('./logs.ts')).registerLogs },
  { name: 'viz', load: async () => (await import('./viz.ts')).registerViz },
];
