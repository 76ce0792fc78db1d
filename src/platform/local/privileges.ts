import { readFileSync } from 'node:fs';
import { WeftError } from '../../errors/index.ts';
import { effectiveCapabilities, missingCapabilities } from '../../proxy-init/index.ts';
import { runCommand } from './run-command.ts';

/** CAP_SYS_ADMIN: `ip netns add` mounts the namespace file, `ip netns exec` bind-mounts /etc/netns. */
const CAP_SYS_ADMIN = 21n;
/** CAP_SETUID/CAP_SETGID: the proxy is started as uid 2102. */
const CAP_SETUID = 7n;
const CAP_SETGID = 6n;

/** Stable code of {@link checkPlatformPrivileges}'s failure. */
export const ERR_PLATFORM_PRIVILEGES = 'WEFT_ERR_PLATFORM_PRIVILEGES';

/**
 * Fails at once, before anything is created, when this process cannot run the
 * embedded platform: the capabilities proxy-init needs (NET_ADMIN, NET_RAW) plus
 * SYS_ADMIN, SETUID and SETGID, and the `ip`, `iptables` and `setpriv` binaries.
 */
export async function checkPlatformPrivileges(status: string = readFileSync('/proc/self/status', 'utf8')): Promise<void> {
  const capEff = effectiveCapabilities(status);
  const missing = missingCapabilities(capEff);
  if ((capEff & (1n << CAP_SYS_ADMIN)) === 0n) missing.push('CAP_SYS_ADMIN');
  if ((capEff & (1n << CAP_SETUID)) === 0n) missing.push('CAP_SETUID');
  if ((capEff & (1n << CAP_SETGID)) === 0n) missing.push('CAP_SETGID');
  if (missing.length > 0) {
    throw new WeftError(ERR_PLATFORM_PRIVILEGES,
      `Run weft up as root (sudo weft up …): the embedded platform creates network namespaces, a bridge and iptables rules, and this process lacks ${missing.join(', ')} (CapEff 0x${capEff.toString(16)}); nothing was changed`);
  }
  for (const bin of ['ip', 'iptables', 'setpriv']) {
    if ((await runCommand(['sh', '-c', `command -v ${bin}`])).code !== 0) {
      throw new WeftError(ERR_PLATFORM_PRIVILEGES, `Install "${bin}" (Debian/Ubuntu: apt-get install iproute2 iptables util-linux): weft up needs it and it is not on the PATH`);
    }
  }
}
