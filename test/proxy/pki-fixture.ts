/**
 * Test certificates made with openssl (a real peer): a root CA per call and
 * ECDSA P-256 workload leaves with the mesh's DNS and URI SANs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The DNS identity of service account `sa` in namespace `ns`. */
export function identityName(sa: string, ns = 'default'): string {
  return `${sa}.${ns}.serviceaccount.identity.weft.cluster.local`;
}

/** Paths of one workload's credentials. */
export type LeafFiles = { keyFile: string; certFile: string; trustAnchorsFile: string; identity: string };

/** A temporary directory holding a root CA; `leaf()` issues workload certificates from it. */
export class TestPki {
  readonly dir: string;
  readonly caCert: string;
  readonly #caKey: string;
  #serial = 1;

  constructor(name = 'root') {
    this.dir = mkdtempSync(join(tmpdir(), `weft-proxy-pki-${name}-`));
    this.#caKey = join(this.dir, 'ca.key');
    this.caCert = join(this.dir, 'ca.crt');
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', this.#caKey]);
    openssl(['req', '-x509', '-new', '-key', this.#caKey, '-subj', `/CN=${name}.weft.test`, '-days', '2', '-out', this.caCert,
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:1', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  }

  /** Issues a leaf for service account `sa`; `tag` keeps several leaves of one identity apart. */
  leaf(sa: string, options: { tag?: string; trustAnchorsFile?: string; days?: number } = {}): LeafFiles {
    const identity = identityName(sa);
    const base = join(this.dir, `${sa}${options.tag ?? ''}`);
    const ext = `${base}.ext`;
    writeFileSync(ext, [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=DNS:${identity},URI:spiffe://cluster.local/ns/default/sa/${sa}`,
    ].join('\n'));
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${base}.key`]);
    openssl(['req', '-new', '-key', `${base}.key`, '-subj', `/CN=${identity}`, '-out', `${base}.csr`]);
    openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', this.caCert, '-CAkey', this.#caKey, '-set_serial', String(this.#serial++),
      '-days', String(options.days ?? 1), '-out', `${base}.crt`, '-extfile', ext]);
    return { keyFile: `${base}.key`, certFile: `${base}.crt`, trustAnchorsFile: options.trustAnchorsFile ?? this.caCert, identity };
  }

  /** Certificate and key in one PEM (HAProxy's `crt` format). */
  combinedPem(leaf: LeafFiles): string {
    const path = leaf.certFile.replace(/\.crt$/, '.pem');
    writeFileSync(path, readFileSync(leaf.certFile, 'utf8') + readFileSync(leaf.keyFile, 'utf8'));
    return path;
  }

  /** Deletes the directory. */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
