/**
 * Every `weft` subcommand, one file each. Adding a command is one line here.
 */
import type { Command } from 'commander';
import { registerApply } from './apply.ts';
import { registerCerts } from './certs.ts';
import { registerCheck } from './check.ts';
import { registerControlPlane } from './control-plane.ts';
import { registerCreate } from './create.ts';
import { registerDelete } from './delete.ts';
import { registerDemoApp } from './demo-app.ts';
import { registerDescribe } from './describe.ts';
import { registerGet } from './get.ts';
import { registerIdentity } from './identity.ts';
import { registerPki } from './pki.ts';
import { registerProxy } from './proxy.ts';
import { registerProxyInit } from './proxy-init.ts';
import { registerToken } from './token.ts';

/** Registers each subcommand on `program`, in the order `weft --help` lists them. */
export const registerCommands: Array<(program: Command) => void> = [
  registerPki,
  registerProxy,
  registerProxyInit,
  registerApply,
  registerGet,
  registerDescribe,
  registerDelete,
  registerCreate,
  registerCerts,
  registerControlPlane,
  registerIdentity,
  registerToken,
  registerCheck,
  registerDemoApp,
];
