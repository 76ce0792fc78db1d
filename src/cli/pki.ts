/**
 * `weft pki …`: step-compatible certificate tooling. The flags, defaults and
 * messages follow `step certificate` so that its users need nothing new:
 *
 *   weft pki create SUBJECT CRT_FILE KEY_FILE [--profile …] [--ca … --ca-key …]
 *   weft pki inspect FILE [--short] [--format text|json] [--bundle]
 *   weft pki verify CRT_FILE --roots FILE [--intermediates FILE] [--host NAME] [--at TIME]
 *   weft pki fingerprint FILE [--bundle]
 *
 * All certificate work is src/pki; this file reads and writes files and prints.
 * Any mistake is one line and exit code 2 (a PkiError about a flag is a WeftError,
 * which main turns into exactly that), and `create` never leaves an output
 * file behind: it writes temporary files beside the targets and renames both
 * only once everything has succeeded.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import { ERR_CHECK_FAILED, UsageError, WeftError } from '../errors/index.ts';
import {
  certificateJson,
  createCsr,
  csrJson,
  describeCertificate,
  describeCsr,
  exportPrivateKey,
  fingerprint,
  generateKeyPair,
  importPrivateKey,
  issueCertificate,
  keyMatchesCertificate,
  keySpecFrom,
  parseCertificates,
  parseCsr,
  parseSan,
  parseTimeOrDuration,
  PkiErrorCode,
  PROFILES,
  profileOptions,
  summarizeCertificate,
  summarizeCsr,
  verifyChain,
  type Certificate,
  type CryptoKey,
  type Csr,
  type Profile,
  type San,
} from '../pki/index.ts';

/** `weft pki …`: step-compatible certificate tooling. */
export function registerPki(program: Command): void {
  const pki = program
    .command('pki')
    .description('create, inspect and verify certificates (step-compatible)');
  registerCreate(pki);
  registerInspect(pki);
  registerVerify(pki);
  registerFingerprint(pki);
  // A mistake is one line that says what to do; `--help` is always there.
  for (const sub of pki.commands) sub.showHelpAfterError(false);
}

// ---------------------------------------------------------------- files

/** Reads a file the user named, turning every fs failure into a one-line UsageError. */
function readInput(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`Give an existing file for ${what}: "${path}" does not exist`);
    if (code === 'EISDIR') throw new UsageError(`Give a file, not a directory, for ${what}: "${path}" is a directory`);
    if (code === 'EACCES' || code === 'EPERM') throw new UsageError(`Make "${path}" readable (${what}): permission denied`);
    throw new UsageError(`Check ${what} "${path}": cannot read it (${code ?? String(err)})`);
  }
}

/** Reads a password file as step does: the whole file, trailing newlines removed. */
function readPassword(path: string, flag: string): string {
  const password = readInput(path, flag).toString('utf8').replace(/[\r\n]+$/, '');
  if (password === '') throw new UsageError(`Put a password in "${path}" (${flag}): the file is empty`);
  return password;
}

/** Parses certificates from a file, naming the file when it is damaged. */
function readCertificates(path: string, what: string): Certificate[] {
  const data = readInput(path, what);
  try {
    return parseCertificates(data);
  } catch (err) {
    if (err instanceof WeftError) throw new UsageError(`${err.message} (${what} "${path}")`, { cause: err });
    throw err;
  }
}

/**
 * Writes every output only once all of them are ready: each goes to a temporary
 * file in its target's directory (so the rename is atomic), then all are renamed.
 * On any failure the temporaries are removed and no target is touched.
 */
function writeOutputs(outputs: ReadonlyArray<{ path: string; data: string; mode: number }>, force: boolean): void {
  const temps: string[] = [];
  const placed: string[] = [];
  try {
    for (const out of outputs) {
      const tmp = join(dirname(out.path), `.${basename(out.path)}.${randomBytes(6).toString('hex')}.tmp`);
      temps.push(tmp);
      writeFileSync(tmp, out.data, { mode: out.mode, flag: 'wx' });
    }
    for (const out of outputs) refuseOverwrite(out.path, force);
    outputs.forEach((out, i) => {
      const existed = existsSync(out.path);
      renameSync(temps[i] as string, out.path);
      // A new file we placed is ours to take back if a later rename fails; a file
      // replaced under --force cannot be restored, so it stays.
      if (!existed) placed.push(out.path);
    });
  } catch (err) {
    for (const tmp of temps) rmSync(tmp, { force: true });
    if (placed.length < outputs.length) for (const path of placed) rmSync(path, { force: true });
    if (err instanceof WeftError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`Check that the output directory exists and is writable: ${e.code ?? ''} ${e.path ?? ''}`.trim());
  }
}

function refuseOverwrite(path: string, force: boolean): void {
  if (force || !existsSync(path)) return;
  if (statSync(path).isDirectory()) throw new UsageError(`Give a file name, not a directory: "${path}" is a directory`);
  throw new UsageError(`Pass --force to overwrite "${path}": the file already exists`);
}

function outputDirMustExist(path: string): void {
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`Create the directory "${dir}" first: it does not exist (output "${path}")`);
  }
}

// ---------------------------------------------------------------- create

interface CreateFlags {
  profile: string;
  ca?: string;
  caKey?: string;
  caPasswordFile?: string;
  notBefore?: string;
  notAfter?: string;
  san: string[];
  kty?: string;
  crv?: string;
  size?: string;
  password: boolean;
  insecure?: boolean;
  passwordFile?: string;
  csr?: boolean;
  force?: boolean;
  allowBeyondCa?: boolean;
}

function registerCreate(pki: Command): void {
  pki
    .command('create')
    .description('create a key pair and a certificate (or CSR), like `step certificate create`')
    .argument('<subject>', 'the subject common name, e.g. root.linkerd.cluster.local')
    .argument('<crt-file>', 'where to write the certificate (or CSR with --csr)')
    .argument('<key-file>', 'where to write the private key')
    .addOption(new Option('--profile <profile>', 'certificate profile').choices(PROFILES).default('leaf'))
    .option('--ca <file>', 'certificate of the CA that signs (leaf, intermediate-ca)')
    .option('--ca-key <file>', 'private key of the CA that signs')
    .option('--ca-password-file <file>', 'file holding the password of an encrypted --ca-key')
    .option('--not-before <time>', 'start of validity: duration from now (e.g. -5m) or RFC 3339 time')
    .option('--not-after <time>', 'end of validity: duration from now (e.g. 87600h) or RFC 3339 time')
    .option('--san <name>', 'subject alternative name: DNS name, IP, URI or email (repeatable)', collect, [])
    .option('--kty <kty>', 'key type: EC, RSA or OKP (default EC)')
    .option('--crv <curve>', 'curve: P-256, P-384, P-521 (EC) or Ed25519 (OKP)')
    .option('--size <bits>', 'RSA key size: 2048, 3072 or 4096')
    .option('--no-password', 'do not encrypt the private key (needs --insecure)')
    .option('--insecure', 'allow --no-password')
    .option('--password-file <file>', 'file holding the password that encrypts the new private key')
    .option('--csr', 'write a certificate signing request instead of a certificate')
    .option('-f, --force', 'overwrite existing output files')
    .option('--allow-beyond-ca', 'let the certificate outlive the CA that signs it')
    .action(async (subject: string, crtFile: string, keyFile: string, flags: CreateFlags) => {
      await create(subject, crtFile, keyFile, flags);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function create(subject: string, crtFile: string, keyFile: string, flags: CreateFlags): Promise<void> {
  const profile = flags.profile as Profile;
  const now = new Date();

  // Every check on flags and inputs comes before any key is made or file written.
  if (flags.password === false && flags.insecure !== true) {
    throw new UsageError('Add --insecure to write the private key unencrypted: --no-password requires it');
  }
  if (flags.password === false && flags.passwordFile !== undefined) {
    throw new UsageError('Use either --password-file or --no-password --insecure, not both');
  }
  if (flags.password !== false && flags.passwordFile === undefined) {
    throw new UsageError(
      'Give --password-file FILE to encrypt the private key, or --no-password --insecure to leave it unencrypted (weft cannot prompt)',
    );
  }
  if (crtFile === keyFile) throw new UsageError(`Use two different files for the certificate and the key: both are "${crtFile}"`);
  for (const path of [crtFile, keyFile]) {
    outputDirMustExist(path);
    refuseOverwrite(path, flags.force === true);
  }
  const password = flags.passwordFile === undefined ? undefined : readPassword(flags.passwordFile, '--password-file');
  const size = flags.size === undefined ? undefined : Number(flags.size);
  if (size !== undefined && !Number.isInteger(size)) throw new UsageError(`Use --size 2048, 3072 or 4096: cannot use "${flags.size}"`);
  const spec = keySpecFrom({
    ...(flags.kty === undefined ? {} : { kty: flags.kty }),
    ...(flags.crv === undefined ? {} : { crv: flags.crv }),
    ...(size === undefined ? {} : { size }),
  });
  const opts = profileOptions(profile, spec.kty);
  const givenSans = flags.san.map(parseSan);

  if (flags.csr === true) {
    if (flags.ca !== undefined || flags.caKey !== undefined) throw new UsageError('Remove --ca and --ca-key: a CSR is not signed by a CA');
    const sans = givenSans.length > 0 ? givenSans : [parseSan(subject)];
    const keyPair = await generateKeyPair(spec);
    const csr = await createCsr({ subject, keyPair, sans });
    const keyPem = await exportPrivateKey(keyPair.privateKey, password === undefined ? {} : { password });
    writeOutputs([{ path: crtFile, data: csr.pem, mode: 0o644 }, { path: keyFile, data: keyPem, mode: 0o600 }], flags.force === true);
    process.stderr.write(`Your certificate signing request has been saved in ${crtFile}.\nYour private key has been saved in ${keyFile}.\n`);
    return;
  }

  let ca: { certificate: Certificate; privateKey: CryptoKey } | undefined;
  if (opts.selfSigned) {
    if (flags.ca !== undefined || flags.caKey !== undefined) {
      throw new UsageError(`Remove --ca and --ca-key: a ${profile} certificate signs itself`);
    }
  } else {
    if (flags.ca === undefined || flags.caKey === undefined) {
      throw new UsageError(`Give --ca FILE and --ca-key FILE: a ${profile} certificate is signed by a CA`);
    }
    ca = await loadCa(flags.ca, flags.caKey, flags.caPasswordFile);
  }

  const notBefore = flags.notBefore === undefined ? now : parseTimeOrDuration(flags.notBefore as string, { now, flag: '--not-before' });
  const notAfter = flags.notAfter === undefined
    ? new Date(notBefore.getTime() + opts.lifetimeMs)
    : parseTimeOrDuration(flags.notAfter as string, { now, flag: '--not-after' });
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw new UsageError(
      `Set --not-after later than --not-before: ${notAfter.toISOString()} is not after ${notBefore.toISOString()}`,
    );
  }
  if (ca !== undefined && flags.allowBeyondCa !== true) {
    if (notAfter.getTime() > ca.certificate.notAfter.getTime()) {
      throw new UsageError(
        `Shorten --not-after to at most ${ca.certificate.notAfter.toISOString()} or pass --allow-beyond-ca: ` +
        `the certificate would outlive its CA "${flags.ca}"`,
      );
    }
    if (notBefore.getTime() < ca.certificate.notBefore.getTime()) {
      throw new UsageError(
        `Set --not-before to at least ${ca.certificate.notBefore.toISOString()} or pass --allow-beyond-ca: ` +
        `the certificate would start before its CA "${flags.ca}"`,
      );
    }
  }
  const sans: San[] = givenSans.length > 0 || !opts.subjectAsSan ? givenSans : [parseSan(subject)];

  const keyPair = await generateKeyPair(spec);
  const cert = await issueCertificate({
    subject,
    publicKey: keyPair.publicKey,
    issuer: ca ?? { selfSigned: keyPair.privateKey },
    notBefore,
    notAfter,
    isCA: opts.isCA,
    ...(opts.pathLen === undefined ? {} : { pathLen: opts.pathLen }),
    keyUsage: opts.keyUsage,
    extKeyUsage: opts.extKeyUsage,
    sans,
  });
  const keyPem = await exportPrivateKey(keyPair.privateKey, password === undefined ? {} : { password });
  writeOutputs([{ path: crtFile, data: cert.pem, mode: 0o644 }, { path: keyFile, data: keyPem, mode: 0o600 }], flags.force === true);
  process.stderr.write(`Your certificate has been saved in ${crtFile}.\nYour private key has been saved in ${keyFile}.\n`);
}

async function loadCa(caFile: string, caKeyFile: string, passwordFile: string | undefined): Promise<{ certificate: Certificate; privateKey: CryptoKey }> {
  const certificate = readCertificates(caFile, '--ca')[0] as Certificate;
  if (!certificate.isCA) {
    throw new UsageError(`Use a CA certificate for --ca: "${caFile}" is not a CA (basicConstraints CA:FALSE or absent)`);
  }
  if (certificate.keyUsage.length > 0 && !certificate.keyUsage.includes('keyCertSign')) {
    throw new UsageError(`Use a CA certificate that may sign certificates for --ca: "${caFile}" lacks keyUsage keyCertSign`);
  }
  const keyData = readInput(caKeyFile, '--ca-key');
  const password = passwordFile === undefined ? undefined : readPassword(passwordFile, '--ca-password-file');
  let privateKey: CryptoKey;
  try {
    ({ privateKey } = await importPrivateKey(keyData, password === undefined ? {} : { password }));
  } catch (err) {
    if (err instanceof WeftError && err.code === PkiErrorCode.badPassword) {
      throw new UsageError(
        password === undefined
          ? `Give --ca-password-file FILE: the CA key "${caKeyFile}" is encrypted`
          : `Check --ca-password-file: its password does not decrypt the CA key "${caKeyFile}"`,
        { cause: err },
      );
    }
    if (err instanceof WeftError) throw new UsageError(`${err.message} (--ca-key "${caKeyFile}")`, { cause: err });
    throw err;
  }
  if (!(await keyMatchesCertificate(privateKey, certificate))) {
    throw new UsageError(`Use the private key of the CA certificate: "${caKeyFile}" does not match "${caFile}"`);
  }
  return { certificate, privateKey };
}

// ---------------------------------------------------------------- inspect

interface InspectFlags {
  short?: boolean;
  format: string;
  bundle?: boolean;
}

function registerInspect(pki: Command): void {
  pki
    .command('inspect')
    .description('print a certificate or CSR, like `step certificate inspect`')
    .argument('<file>', 'PEM or DER certificate, bundle or CSR')
    .option('--short', 'one summary line per certificate')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--bundle', 'every certificate in the file, not only the first')
    .action(async (file: string, flags: InspectFlags) => {
      const data = readInput(file, 'the file to inspect');
      const csr = await readCsrIfAny(data, file);
      if (csr !== undefined) {
        printCsr(csr, flags);
        return;
      }
      const all = readCertificates(file, 'file');
      const certs = flags.bundle === true ? all : all.slice(0, 1);
      if (flags.format === 'json') {
        const json = certs.map(certificateJson);
        process.stdout.write(`${JSON.stringify(flags.bundle === true ? json : json[0], null, 2)}\n`);
        return;
      }
      const render = flags.short === true ? (c: Certificate) => `${summarizeCertificate(c)}\n` : describeCertificate;
      process.stdout.write(certs.map(render).join(flags.short === true ? '' : '\n'));
    });
}

async function readCsrIfAny(data: Buffer, file: string): Promise<Csr | undefined> {
  const text = data.toString('latin1');
  const isPemCsr = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(text);
  if (!isPemCsr) {
    if (text.includes('-----BEGIN ')) return undefined;
    // DER: a certificate is the common case; fall back to a CSR only if it is not one.
    try {
      parseCertificates(data);
      return undefined;
    } catch {
      // not a certificate; try a CSR below
    }
  }
  try {
    return await parseCsr(data);
  } catch (err) {
    if (!isPemCsr) return undefined;
    if (err instanceof WeftError) throw new UsageError(`${err.message} ("${file}")`, { cause: err });
    throw err;
  }
}

function printCsr(csr: Csr, flags: InspectFlags): void {
  if (flags.format === 'json') process.stdout.write(`${JSON.stringify(csrJson(csr), null, 2)}\n`);
  else if (flags.short === true) process.stdout.write(`${summarizeCsr(csr)}\n`);
  else process.stdout.write(describeCsr(csr));
}

// ---------------------------------------------------------------- verify

interface VerifyFlags {
  roots: string;
  intermediates?: string;
  host?: string;
  at?: string;
}

function registerVerify(pki: Command): void {
  pki
    .command('verify')
    .description('validate a certificate chain (RFC 5280), like `step certificate verify`; exit 1 with the reason when invalid')
    .argument('<crt-file>', 'the certificate to verify; further certificates in the file count as intermediates')
    .requiredOption('--roots <file>', 'trusted root certificates (PEM bundle)')
    .option('--intermediates <file>', 'intermediate certificates (PEM bundle)')
    .option('--host <name>', 'DNS name or IP address the certificate must be valid for')
    .option('--at <time>', 'validate at this RFC 3339 time (or duration from now) instead of now')
    .action((crtFile: string, flags: VerifyFlags) => {
      const [leaf, ...bundled] = readCertificates(crtFile, 'the certificate to verify') as [Certificate, ...Certificate[]];
      const roots = readCertificates(flags.roots, '--roots');
      const intermediates = flags.intermediates === undefined ? [] : readCertificates(flags.intermediates, '--intermediates');
      const now = new Date();
      const at = flags.at === undefined ? now : parseTimeOrDuration(flags.at as string, { now, flag: '--at' });
      const result = verifyChain(leaf, {
        roots,
        intermediates: [...bundled, ...intermediates],
        at,
        ...(flags.host === undefined ? {} : { host: flags.host }),
      });
      if (result.kind === 'invalid') {
        throw new WeftError(ERR_CHECK_FAILED, `Certificate "${crtFile}" is not valid (${result.code}): ${result.reason}`);
      }
      process.stdout.write(`Certificate "${crtFile}" is valid: ${result.chain.map((c) => c.subject).join(' <- ')}\n`);
    });
}

// ---------------------------------------------------------------- fingerprint

function registerFingerprint(pki: Command): void {
  pki
    .command('fingerprint')
    .description('print the SHA-256 fingerprint of a certificate, like `step certificate fingerprint`')
    .argument('<file>', 'PEM or DER certificate')
    .option('--bundle', 'one line for every certificate in the file')
    .action((file: string, flags: { bundle?: boolean }) => {
      const all = readCertificates(file, 'the certificate');
      const certs = flags.bundle === true ? all : all.slice(0, 1);
      process.stdout.write(certs.map((c) => `${fingerprint(c)}\n`).join(''));
    });
}
