/**
 * `weft proxy`: runs the sidecar proxy until SIGTERM/SIGINT or `POST /shutdown`.
 * Every flag has an environment variable (flags win); docs/proxy.md lists them all.
 *
 *   weft proxy --identity-addr 10.244.0.1:8080 --identity-name web.shop.serviceaccount.identity.weft.cluster.local \
 *     --identity-token-file token --trust-anchors-file ca.pem --destination-addr 10.244.0.1:8086 --transparent
 *   weft proxy --key-file k.pem --cert-file c.pem --trust-anchors-file ca.pem \
 *     --dst web.default:8080=10.0.0.5:4143#web.default.serviceaccount.identity.weft.cluster.local
 *
 * src/identity, src/destination and src/proxy-init are loaded only when their
 * flags ask for them: a proxy with static files and a table stays small.
 */
import type { Command } from 'commander';
import { UsageError } from '../errors/index.ts';
import {
  DEFAULT_OPAQUE_PORTS, fileCredentials, identityCredentials, LOG_LEVELS, Logger, normalizeAuthority, PROXY_DEFAULTS, startPageRelease, startProxy,
  type CredentialsProvider, type ListenAddress, type LogLevel, type OutboundTarget, type ProxyConfig,
} from '../proxy/index.ts';

type ProxyFlags = {
  inboundAddr: string;
  outboundAddr: string;
  adminAddr: string;
  outboundTarget: string[];
  inboundForwardPort?: string;
  inboundForwardHost: string;
  dst: string[];
  opaquePorts: string;
  detectTimeout: string;
  connectTimeout: string;
  idleTimeout: string;
  shutdownGracePeriod: string;
  maxHeaderBytes: string;
  keyFile?: string;
  certFile?: string;
  trustAnchorsFile?: string;
  credentialsPoll: string;
  identityName?: string;
  identityTokenFile?: string;
  identityAddr?: string;
  identityServerName?: string;
  destinationAddr?: string;
  destinationServerName?: string;
  destinationContext?: string;
  discoveryTimeout: string;
  /** True when given without a value (`--transparent`), as commander does. */
  transparent: string | boolean;
  opaqueMux: string | boolean;
  pageReleaseInterval: string;
  logLevel: string;
};

/**
 * One flag of `weft proxy`, as data: `weft proxy` builds commander options from it,
 * the lean entry point parses argv with it (without loading commander, ~3 MB of
 * resident memory in a process that runs beside every workload).
 */
type ProxyOption = {
  /** Commander syntax: `--name <value>` (required value) or `--name [value]` (optional). */
  flags: string;
  description: string;
  env: string;
  default?: string | string[];
  /** Repeatable: every use adds to a list. */
  repeat?: true;
};

const PROXY_OPTIONS: readonly ProxyOption[] = [
  { flags: '--inbound-addr <host:port>', description: 'inbound listener', env: 'WEFT_PROXY_INBOUND_ADDR', default: '0.0.0.0:4143' },
  { flags: '--outbound-addr <host:port>', description: 'outbound listener (an HTTP proxy: absolute URLs and CONNECT)', env: 'WEFT_PROXY_OUTBOUND_ADDR', default: '127.0.0.1:4140' },
  { flags: '--admin-addr <host:port>', description: 'admin listener: /metrics /ready /live /shutdown', env: 'WEFT_PROXY_ADMIN_ADDR', default: '0.0.0.0:4191' },
  { flags: '--outbound-target <[host:]port=authority>', description: 'extra outbound listener whose connections all go to authority (repeatable)', env: 'WEFT_PROXY_OUTBOUND_TARGETS', default: [], repeat: true },
  { flags: '--inbound-forward-port <port>', description: 'application port for inbound connections without a transport header (plain clients)', env: 'WEFT_PROXY_INBOUND_FORWARD_PORT' },
  { flags: '--inbound-forward-host <host>', description: 'address of the application', env: 'WEFT_PROXY_INBOUND_FORWARD_HOST', default: '127.0.0.1' },
  { flags: '--dst <authority=host:port[#identity],…>', description: 'static discovery entry (repeatable)', env: 'WEFT_PROXY_DESTINATIONS', default: [], repeat: true },
  { flags: '--opaque-ports <ports>', description: 'target ports that skip protocol detection, comma-separated, ranges allowed', env: 'WEFT_PROXY_OPAQUE_PORTS', default: DEFAULT_OPAQUE_PORTS.join(',') },
  { flags: '--detect-timeout <duration>', description: 'how long detection waits for the first bytes', env: 'WEFT_PROXY_DETECT_TIMEOUT', default: '10s' },
  { flags: '--opaque-mux [bool]', description: 'carry opaque TCP to a meshed endpoint over one shared mesh connection per endpoint and port (false: one mesh connection each)', env: 'WEFT_PROXY_OPAQUE_MUX', default: 'true' },
  { flags: '--connect-timeout <duration>', description: 'connect and mesh handshake timeout', env: 'WEFT_PROXY_CONNECT_TIMEOUT', default: '3s' },
  { flags: '--idle-timeout <duration>', description: 'close accepted connections idle this long', env: 'WEFT_PROXY_IDLE_TIMEOUT', default: '5m' },
  { flags: '--shutdown-grace-period <duration>', description: 'how long a drain lets in-flight requests finish', env: 'WEFT_PROXY_SHUTDOWN_GRACE_PERIOD', default: '30s' },
  { flags: '--max-header-bytes <n>', description: 'largest HTTP/1 request or response head', env: 'WEFT_PROXY_MAX_HEADER_BYTES', default: '65536' },
  { flags: '--key-file <path>', description: 'workload private key (PEM)', env: 'WEFT_PROXY_KEY_FILE' },
  { flags: '--cert-file <path>', description: 'workload certificate chain, leaf first (PEM)', env: 'WEFT_PROXY_CERT_FILE' },
  { flags: '--trust-anchors-file <path>', description: 'trust anchors (PEM)', env: 'WEFT_PROXY_TRUST_ANCHORS_FILE' },
  { flags: '--credentials-poll <duration>', description: 'how often the credential files are re-read', env: 'WEFT_PROXY_CREDENTIALS_POLL', default: '2s' },
  { flags: '--identity-name <name>', description: 'this workload\'s identity: requested from the identity service, or checked against --cert-file', env: 'WEFT_PROXY_IDENTITY_NAME' },
  { flags: '--identity-token-file <path>', description: 'service account token for the identity service (re-read before every call)', env: 'WEFT_PROXY_IDENTITY_TOKEN_FILE' },
  { flags: '--identity-addr <host:port>', description: 'identity service address: certificates from it instead of --key-file/--cert-file', env: 'WEFT_PROXY_IDENTITY_SVC_ADDR' },
  { flags: '--identity-server-name <name>', description: 'name on the identity service\'s certificate (default weft-identity.<cp-ns>.serviceaccount.identity.<cp-ns>.<trust-domain>)', env: 'WEFT_PROXY_IDENTITY_SVC_NAME' },
  { flags: '--destination-addr <host:port>', description: 'destination service address: live discovery instead of --dst', env: 'WEFT_PROXY_DESTINATION_SVC_ADDR' },
  { flags: '--destination-server-name <name>', description: 'name on the destination service\'s certificate (default weft-destination.<cp-ns>.serviceaccount.identity.<cp-ns>.<trust-domain>)', env: 'WEFT_PROXY_DESTINATION_SVC_NAME' },
  { flags: '--destination-context <json>', description: 'context token sent with every lookup (default {"ns":<namespace of --identity-name>,"pod":$WEFT_PROXY_POD_NAME})', env: 'WEFT_PROXY_DESTINATION_CONTEXT' },
  { flags: '--discovery-timeout <duration>', description: 'how long a request waits for discovery\'s first answer', env: 'WEFT_PROXY_DISCOVERY_TIMEOUT', default: '5s' },
  { flags: '--transparent [bool]', description: 'route by the original destination of iptables-redirected connections (proxy-init)', env: 'WEFT_PROXY_TRANSPARENT', default: 'false' },
  { flags: '--page-release-interval <duration>', description: 'give back unused pages (the node binary\'s start-up code, free heap) once listening, then check this often whether mapped files grew by 4 MB and give back again; 0 turns it off', env: 'WEFT_PROXY_PAGE_RELEASE_INTERVAL', default: '10s' },
  { flags: '--log-level <level>', description: `one of ${LOG_LEVELS.join(', ')}`, env: 'WEFT_PROXY_LOG_LEVEL', default: 'info' },
];

const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];
/** Lists from the environment are separated by commas, semicolons or whitespace. */
const splitList = (v: string): string[] => v.split(/[\s,;]+/).filter((s) => s !== '');
/** `--inbound-addr <host:port>` → `inbound-addr`. */
const longName = (flags: string): string => flags.slice(2).split(/[ =]/)[0]!;
/** `inbound-addr` → `inboundAddr`, commander's attribute name. */
const attribute = (name: string): string => name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** `weft proxy`. */
export function registerProxy(program: Command): void {
  const cmd = program
    .command('proxy')
    .description('run the sidecar proxy: mTLS between workloads, protocol detection, metrics');
  for (const o of PROXY_OPTIONS) {
    // createOption, not `new Option`: this file imports commander's types only.
    const opt = cmd.createOption(o.flags, o.description).env(o.env);
    if (o.repeat === true) opt.argParser(collect);
    if (o.default !== undefined) opt.default(o.default);
    cmd.addOption(opt);
  }
  cmd.action((flags: ProxyFlags) => runProxy(flags));
}

/**
 * The lean entry point's command line: the same flags, environment variables and
 * defaults as `weft proxy` (flags win over the environment), parsed without commander.
 * `--name value` and `--name=value`; `--transparent` alone means true.
 */
export function parseProxyArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ProxyFlags | 'help' {
  const byName = new Map(PROXY_OPTIONS.map((o) => [longName(o.flags), o]));
  const given = new Map<ProxyOption, string | true | string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') ? arg.slice(2, eq < 0 ? undefined : eq) : undefined;
    const o = name === undefined ? undefined : byName.get(name);
    if (o === undefined) throw new UsageError(`Remove "${arg}": weft proxy has no such ${arg.startsWith('-') ? 'option' : 'argument'} (see --help)`);
    let value: string | true;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (o.flags.includes('[') && (i + 1 >= argv.length || argv[i + 1]!.startsWith('--'))) value = true;
    else if (i + 1 < argv.length) value = argv[++i]!;
    else throw new UsageError(`Give ${arg} a value: ${o.flags}`);
    given.set(o, o.repeat === true ? collect(String(value), given.get(o) as string[] | undefined) : value);
  }
  const flags: Record<string, string | true | string[]> = {};
  for (const o of PROXY_OPTIONS) {
    const fromEnv = env[o.env];
    const v = given.get(o) ?? (fromEnv === undefined ? undefined : o.repeat === true ? [fromEnv] : fromEnv) ?? o.default;
    if (v !== undefined) flags[attribute(longName(o.flags))] = Array.isArray(v) ? [...v] : v;
  }
  return flags as ProxyFlags;
}

/** Usage text of the lean entry point. */
function proxyHelp(): string {
  const rows = PROXY_OPTIONS.map((o) => {
    const d = o.default === undefined || (Array.isArray(o.default) && o.default.length === 0) ? '' : ` (default: ${JSON.stringify(o.default)})`;
    return `  ${o.flags}\n      ${o.description}${d} [env: ${o.env}]`;
  });
  return `Usage: node src/cli/proxy.ts [options]\n\nrun the sidecar proxy: mTLS between workloads, protocol detection, metrics\n\nOptions:\n${rows.join('\n')}\n`;
}

/** Runs the proxy until SIGTERM/SIGINT or `POST /shutdown`. */
async function runProxy(flags: ProxyFlags): Promise<void> {
  const log = new Logger(logLevel(flags.logLevel));
  const releaseEvery = duration('--page-release-interval', flags.pageReleaseInterval);
  // Node turns a timer beyond 2^31-1 ms into 1 ms; below a second the checks themselves would cost.
  if (releaseEvery !== 0 && (releaseEvery < 1000 || releaseEvery > 24 * 3_600_000)) {
    throw new UsageError(`Set --page-release-interval between 1s and 24h, or 0 to turn it off: got "${flags.pageReleaseInterval}"`);
  }
  const { config, close } = await proxySetup(flags, log);
  let running;
  try {
    running = await startProxy(config, { logger: log });
  } catch (err) {
    close();
    throw err;
  }
  const pages = releaseEvery > 0 ? startPageRelease({ intervalMs: releaseEvery, logger: log }) : undefined;
  const stop = (): void => void running.stop();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await running.stopped;
  pages?.stop();
  close();
  process.removeListener('SIGTERM', stop);
  process.removeListener('SIGINT', stop);
}

/** The configuration, with the identity client, destination client and original-destination reader the flags ask for. */
async function proxySetup(f: ProxyFlags, log: Logger): Promise<{ config: ProxyConfig; close: () => void }> {
  const closers: Array<() => void> = [];
  const close = (): void => {
    for (const c of closers.splice(0).reverse()) c();
  };
  try {
    const credentials = await credentialsFrom(f, log, closers);
    const config = proxyConfig(f, credentials, log);
    if (f.destinationAddr !== undefined) {
      const { startDestinationClient } = await import('../destination/client.ts');
      const domain = f.identityName === undefined ? undefined : identityDomain(f.identityName);
      const client = startDestinationClient({
        addr: f.destinationAddr,
        tls: () => {
          const c = credentials.current();
          return c === undefined ? undefined : { keyPem: c.key, certChainPem: c.certChain, trustAnchorsPem: c.trustAnchors };
        },
        ...(domain === undefined ? {} : { domain }),
        ...(f.destinationServerName === undefined ? {} : { serverName: f.destinationServerName }),
        contextToken: f.destinationContext ?? contextToken(f.identityName),
      });
      closers.push(() => client.close());
      config.destination = client;
      if (f.dst.length > 0) log.warn('--dst is ignored: discovery comes from the destination service', { flag: '--dst' });
    }
    if (bool('--transparent', f.transparent)) {
      const { originalDestination } = await import('../proxy-init/index.ts');
      config.originalDestination = originalDestination;
    }
    return { config, close };
  } catch (err) {
    close();
    throw err;
  }
}

/** Certificates from the identity service (with --identity-addr) or from files. */
async function credentialsFrom(f: ProxyFlags, log: Logger, closers: Array<() => void>): Promise<CredentialsProvider> {
  if (f.identityAddr !== undefined) {
    if (f.identityName === undefined || f.identityTokenFile === undefined || f.trustAnchorsFile === undefined) {
      throw new UsageError('Give the identity client what it needs: --identity-name, --identity-token-file and --trust-anchors-file with --identity-addr (or WEFT_PROXY_IDENTITY_NAME, WEFT_PROXY_IDENTITY_TOKEN_FILE, WEFT_PROXY_TRUST_ANCHORS_FILE)');
    }
    identityDomain(f.identityName);
    if (f.keyFile !== undefined || f.certFile !== undefined) log.info('--key-file and --cert-file are ignored: certificates come from the identity service', { addr: f.identityAddr });
    const { startIdentityClient } = await import('../identity/client.ts');
    const client = await startIdentityClient({
      addr: f.identityAddr,
      identity: f.identityName,
      tokenFile: f.identityTokenFile,
      trustAnchorsFile: f.trustAnchorsFile,
      ...(f.identityServerName === undefined ? {} : { serverName: f.identityServerName }),
    });
    closers.push(() => client.close());
    let wasReady = false;
    client.onChange((m) => {
      log.info(wasReady ? 'certificate renewed' : 'certificate issued', { identity: f.identityName, validUntil: m.validUntil.toISOString(), reason: 'CertificateIssued' });
      wasReady = true;
    });
    return identityCredentials(client);
  }
  if (f.keyFile === undefined || f.certFile === undefined || f.trustAnchorsFile === undefined) {
    throw new UsageError('Give the proxy its credentials: --identity-addr with --identity-name, --identity-token-file and --trust-anchors-file, or --key-file, --cert-file and --trust-anchors-file');
  }
  const files = fileCredentials(
    { keyFile: f.keyFile, certFile: f.certFile, trustAnchorsFile: f.trustAnchorsFile },
    { pollMs: duration('--credentials-poll', f.credentialsPoll) },
  );
  closers.push(() => files.close());
  if (f.identityName !== undefined) {
    const { MeshTls } = await import('../proxy/index.ts');
    const id = new MeshTls(files).identity;
    if (id !== f.identityName) throw new UsageError(`Use a certificate for "${f.identityName}": --cert-file carries "${id ?? ''}"`);
  }
  return files;
}

/** The control plane's namespace and trust domain, read from a workload identity name. */
function identityDomain(name: string): { controlPlaneNamespace: string; trustDomain: string } {
  const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.serviceaccount\.identity\.([a-z0-9-]+)\.(.+)$/.exec(name);
  if (m === null) throw new UsageError(`Set --identity-name to "<sa>.<ns>.serviceaccount.identity.<cp-ns>.<trust-domain>": got "${name}"`);
  return { controlPlaneNamespace: m[3]!, trustDomain: m[4]! };
}

/** `{"ns": …, "pod": …}`: the namespace from the identity (short names resolve there), the pod from the environment. */
function contextToken(identity: string | undefined): string {
  const ns = identity === undefined ? undefined : /^[^.]+\.([^.]+)\./.exec(identity)?.[1];
  const pod = process.env['WEFT_PROXY_POD_NAME'] ?? process.env['WEFT_POD_NAME'];
  return JSON.stringify({ ...(ns === undefined ? {} : { ns }), ...(pod === undefined ? {} : { pod }) });
}

function bool(flag: string, v: string | boolean): boolean {
  if (v === true || v === 'true' || v === '1') return true;
  if (v === false || v === 'false' || v === '0' || v === '') return false;
  throw new UsageError(`Set ${flag} to true or false: got "${String(v)}"`);
}

function logLevel(v: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(v)) throw new UsageError(`Set --log-level to one of ${LOG_LEVELS.join(', ')}: got "${v}"`);
  return v as LogLevel;
}

function proxyConfig(f: ProxyFlags, credentials: CredentialsProvider, log: Logger): ProxyConfig {
  const targets = f.outboundTarget.flatMap(splitList).map(outboundTarget);
  const forward = f.inboundForwardPort === undefined ? undefined : port('--inbound-forward-port', f.inboundForwardPort);
  log.debug('configuration read', { targets: targets.length });
  return {
    ...PROXY_DEFAULTS,
    inbound: address('--inbound-addr', f.inboundAddr),
    outbound: address('--outbound-addr', f.outboundAddr),
    admin: address('--admin-addr', f.adminAddr),
    outboundTargets: targets,
    inboundForwardPort: forward,
    inboundForwardHost: f.inboundForwardHost,
    opaquePorts: portSet(f.opaquePorts),
    destinations: f.dst.flatMap((d) => d.split(/[\s;]+/)).filter((s) => s !== ''),
    detectTimeoutMs: duration('--detect-timeout', f.detectTimeout),
    opaqueMux: bool('--opaque-mux', f.opaqueMux),
    connectTimeoutMs: duration('--connect-timeout', f.connectTimeout),
    idleTimeoutMs: duration('--idle-timeout', f.idleTimeout),
    shutdownGraceMs: duration('--shutdown-grace-period', f.shutdownGracePeriod),
    maxHeadBytes: positive('--max-header-bytes', f.maxHeaderBytes),
    discoveryTimeoutMs: duration('--discovery-timeout', f.discoveryTimeout),
    credentials,
    logLevel: logLevel(f.logLevel),
  };
}

/**
 * Go-style durations (`10s`, `1m30s`, `250ms`), as src/pki's parseDuration reads
 * them. Not imported from there: src/pki's door loads @peculiar/x509 and its ASN.1
 * stack, megabytes of resident memory a sidecar proxy never uses.
 */
function duration(flag: string, v: string): number {
  const text = v.trim();
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  part.lastIndex = 0;
  if (text === '0') return 0;
  while (part.lastIndex < text.length) {
    const at = part.lastIndex;
    const m = part.exec(text);
    if (m === null || m.index !== at) throw new UsageError(`Set ${flag} to a duration such as "10s" or "1m30s": got "${v}"`);
    total += Number(m[1]) * unit[m[2]!]!;
  }
  if (text === '') throw new UsageError(`Set ${flag} to a duration such as "10s" or "1m30s": got "${v}"`);
  return total;
}

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`Set ${flag} to a positive integer: got "${v}"`);
  return n;
}

function port(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`Set ${flag} to a port (0-65535): got "${v}"`);
  return n;
}

function address(flag: string, v: string): ListenAddress {
  const colon = v.lastIndexOf(':');
  if (colon < 0) return { host: '0.0.0.0', port: port(flag, v) };
  return { host: v.slice(0, colon).replace(/^\[|\]$/g, '') || '0.0.0.0', port: port(flag, v.slice(colon + 1)) };
}

function outboundTarget(v: string): OutboundTarget {
  const eq = v.indexOf('=');
  const authority = eq < 0 ? undefined : normalizeAuthority(v.slice(eq + 1), 0);
  if (eq < 0 || authority === undefined || authority.port === 0) {
    throw new UsageError(`Write --outbound-target as [HOST:]LOCALPORT=HOST:PORT: got "${v}"`);
  }
  const listen = v.slice(0, eq);
  return { listen: listen.includes(':') ? address('--outbound-target', listen) : { host: '127.0.0.1', port: port('--outbound-target', listen) }, authority: authority.authority };
}

function portSet(v: string): Set<number> {
  const out = new Set<number>();
  for (const part of splitList(v)) {
    const [a, b] = part.split('-');
    const lo = port('--opaque-ports', a ?? '');
    const hi = b === undefined ? lo : port('--opaque-ports', b);
    if (hi < lo || hi - lo > 65535) throw new UsageError(`Write the opaque port range "${part}" low-high`);
    for (let p = lo; p <= hi; p++) out.add(p);
  }
  return out;
}

/**
 * The lean entry point: `node src/cli/proxy.ts [flags]` loads only the proxy, not
 * every subcommand's dependencies (about 70 MB less RSS than `weft proxy` today,
 * which matters in a sidecar that runs beside every workload), and not commander.
 */
if (import.meta.main) {
  const { WeftError } = await import('../errors/index.ts');
  try {
    const flags = parseProxyArgs(process.argv.slice(2));
    if (flags === 'help') process.stdout.write(proxyHelp());
    else await runProxy(flags);
  } catch (err) {
    if (err instanceof WeftError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  }
}
