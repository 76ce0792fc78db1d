import { createPublicKey } from 'node:crypto';
import { fingerprint, internalsOf, type Certificate } from './certificate.ts';
import type { Csr } from './csr.ts';
import { subjectPublicKeyBits } from './key-identifier.ts';
import type { PublicKeyInfo } from './key-spec.ts';
import type { San } from './san.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Nov 28 03:53:00 2026 UTC`, the date form of openssl and step text output. */
function textDate(d: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${d.getUTCFullYear()} UTC`;
}

/** `aa:bb:cc` lines of `perLine` bytes, as openssl dumps keys and signatures. */
function hexLines(bytes: Uint8Array, indent: string, perLine = 18): string[] {
  const pairs = Buffer.from(bytes).toString('hex').match(/../g) ?? [];
  const lines: string[] = [];
  for (let i = 0; i < pairs.length; i += perLine) lines.push(indent + pairs.slice(i, i + perLine).join(':'));
  return lines;
}

function colonHex(text: string): string {
  return (text.match(/../g) ?? []).join(':').toUpperCase();
}

function decimalSerial(serialHex: string): string {
  return BigInt(`0x${serialHex || '0'}`).toString(10);
}

const KEY_USAGE_TEXT: Record<string, string> = {
  digitalSignature: 'Digital Signature',
  nonRepudiation: 'Non Repudiation',
  keyEncipherment: 'Key Encipherment',
  dataEncipherment: 'Data Encipherment',
  keyAgreement: 'Key Agreement',
  keyCertSign: 'Certificate Sign',
  cRLSign: 'CRL Sign',
  encipherOnly: 'Encipher Only',
  decipherOnly: 'Decipher Only',
};

const EKU_TEXT: Record<string, string> = {
  serverAuth: 'Server Authentication',
  clientAuth: 'Client Authentication',
  codeSigning: 'Code Signing',
  emailProtection: 'E-mail Protection',
  timeStamping: 'Time Stamping',
  OCSPSigning: 'OCSP Signing',
};

function sanText(sans: readonly San[]): string {
  const prefix = { dns: 'DNS', ip: 'IP Address', uri: 'URI', email: 'email' } as const;
  return sans.map((s) => `${prefix[s.type]}:${s.value}`).join(', ');
}

function keyLines(info: PublicKeyInfo, spki: Uint8Array, indent: string): string[] {
  const lines = [`${indent}Public Key Algorithm: ${info.algorithm}`];
  const jwk = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ format: 'jwk' });
  const b64 = (v: string | undefined): Uint8Array => new Uint8Array(Buffer.from(v ?? '', 'base64url'));
  const sub = `${indent}        `;
  if (info.kty === 'EC') {
    lines.push(`${indent}    Public-Key: (${info.size} bit)`, `${indent}    X:`, ...hexLines(b64(jwk.x), sub, 15));
    lines.push(`${indent}    Y:`, ...hexLines(b64(jwk.y), sub, 15), `${indent}    Curve: ${info.curve ?? '?'}`);
  } else if (info.kty === 'RSA') {
    const e = BigInt(`0x${Buffer.from(b64(jwk.e)).toString('hex') || '0'}`);
    lines.push(`${indent}    Public-Key: (${info.size} bit)`, `${indent}    Modulus:`, ...hexLines(b64(jwk.n), sub, 15));
    lines.push(`${indent}    Exponent: ${e} (0x${e.toString(16)})`);
  } else {
    lines.push(`${indent}    Public-Key: (${info.size} bit)`, ...hexLines(subjectPublicKeyBits(spki), sub, 15));
  }
  return lines;
}

/** What kind of certificate this is, in step's words (`Root CA Certificate`). */
export function certificateKind(cert: Certificate): string {
  if (cert.isCA) return cert.selfSigned ? 'Root CA Certificate' : 'Intermediate CA Certificate';
  return cert.selfSigned ? 'Self-Signed TLS Certificate' : 'TLS Certificate';
}

function keyText(info: PublicKeyInfo): string {
  return info.curve !== undefined ? `${info.algorithm} ${info.curve}` : `${info.algorithm} ${info.size}`;
}

function shortSerial(serialHex: string): string {
  const dec = decimalSerial(serialHex);
  return dec.length > 12 ? `${dec.slice(0, 4)}...${dec.slice(-4)}` : dec;
}

/**
 * One summary line (`weft pki inspect --short`), step's short header and fields on
 * a single line: kind, key, serial, subject, issuer, validity.
 */
export function summarizeCertificate(cert: Certificate): string {
  return `X.509v3 ${certificateKind(cert)} (${keyText(cert.publicKey)}) [Serial: ${shortSerial(cert.serialNumber)}]` +
    ` Subject: ${cert.commonName || cert.subject} Issuer: ${internalsOf(cert).peculiar.issuerName.getField('CN')[0] ?? cert.issuer}` +
    ` Valid from: ${cert.notBefore.toISOString().replace('.000Z', 'Z')} to: ${cert.notAfter.toISOString().replace('.000Z', 'Z')}`;
}

/** One summary line for a CSR. */
export function summarizeCsr(csr: Csr): string {
  return `X.509v3 Certificate Signing Request (${keyText(csr.publicKeyInfo)}) Subject: ${csr.commonName || csr.subject}` +
    `${csr.sans.length > 0 ? ` SANs: ${csr.sans.map((s) => s.value).join(', ')}` : ''}` +
    ` Signature: ${csr.signatureValid ? 'valid' : 'INVALID'}`;
}

/**
 * The text form of a certificate, laid out as `step certificate inspect` and
 * `openssl x509 -text` print it: subject, issuer, validity, key, extensions,
 * SANs, signature and SHA-256 fingerprint.
 */
export function describeCertificate(cert: Certificate): string {
  const { peculiar } = internalsOf(cert);
  const critical = new Map(peculiar.extensions.map((e) => [e.type, e.critical]));
  const crit = (oid: string): string => (critical.get(oid) === true ? ' critical' : '');
  const out = [
    'Certificate:',
    '    Data:',
    '        Version: 3 (0x2)',
    `        Serial Number: ${decimalSerial(cert.serialNumber)} (0x${cert.serialNumber})`,
    `    Signature Algorithm: ${cert.signatureAlgorithm}`,
    `        Issuer: ${cert.issuer}`,
    '        Validity',
    `            Not Before: ${textDate(cert.notBefore)}`,
    `            Not After : ${textDate(cert.notAfter)}`,
    `        Subject: ${cert.subject}`,
    '        Subject Public Key Info:',
    ...keyLines(cert.publicKey, cert.spki, '            '),
  ];
  if (peculiar.extensions.length > 0) out.push('        X509v3 extensions:');
  const ext = '            ';
  if (cert.keyUsage.length > 0) {
    out.push(`${ext}X509v3 Key Usage:${crit('2.5.29.15')}`, `${ext}    ${cert.keyUsage.map((k) => KEY_USAGE_TEXT[k] ?? k).join(', ')}`);
  }
  if (cert.extKeyUsage.length > 0) {
    out.push(`${ext}X509v3 Extended Key Usage:${crit('2.5.29.37')}`, `${ext}    ${cert.extKeyUsage.map((k) => EKU_TEXT[k] ?? k).join(', ')}`);
  }
  if (critical.has('2.5.29.19')) {
    const bc = cert.isCA ? `CA:TRUE${cert.pathLen !== undefined ? `, pathlen:${cert.pathLen}` : ''}` : 'CA:FALSE';
    out.push(`${ext}X509v3 Basic Constraints:${crit('2.5.29.19')}`, `${ext}    ${bc}`);
  }
  if (cert.subjectKeyId !== '') out.push(`${ext}X509v3 Subject Key Identifier:`, `${ext}    ${colonHex(cert.subjectKeyId)}`);
  if (cert.authorityKeyId !== '') out.push(`${ext}X509v3 Authority Key Identifier:`, `${ext}    keyid:${colonHex(cert.authorityKeyId)}`);
  if (cert.sans.length > 0) out.push(`${ext}X509v3 Subject Alternative Name:${crit('2.5.29.17')}`, `${ext}    ${sanText(cert.sans)}`);
  out.push(`    Signature Algorithm: ${cert.signatureAlgorithm}`, ...hexLines(new Uint8Array(peculiar.signature), '         '));
  out.push(`    SHA256 Fingerprint: ${fingerprint(cert)}`);
  return `${out.join('\n')}\n`;
}

/** The text form of a CSR, as `step certificate inspect` prints one. */
export function describeCsr(csr: Csr): string {
  const out = [
    'Certificate Request:',
    '    Data:',
    '        Version: 0 (0x0)',
    `        Subject: ${csr.subject}`,
    '        Subject Public Key Info:',
    ...keyLines(csr.publicKeyInfo, csr.spki, '            '),
  ];
  if (csr.sans.length > 0) {
    out.push('        Requested Extensions:', '            X509v3 Subject Alternative Name:', `                ${sanText(csr.sans)}`);
  }
  out.push(`    Signature Algorithm: ${csr.signatureAlgorithm}`, `    Signature: ${csr.signatureValid ? 'valid (signed by the requested key)' : 'INVALID'}`);
  return `${out.join('\n')}\n`;
}

/** A certificate as JSON-ready data (`weft pki inspect --format json`); field names are stable. */
export function certificateJson(cert: Certificate): Record<string, unknown> {
  return {
    type: 'certificate',
    kind: certificateKind(cert),
    subject: cert.subject,
    issuer: cert.issuer,
    commonName: cert.commonName,
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    isCA: cert.isCA,
    pathLen: cert.pathLen ?? null,
    keyUsage: cert.keyUsage,
    extKeyUsage: cert.extKeyUsage,
    sans: cert.sans,
    subjectKeyId: cert.subjectKeyId,
    authorityKeyId: cert.authorityKeyId,
    publicKey: cert.publicKey,
    signatureAlgorithm: cert.signatureAlgorithm,
    selfSigned: cert.selfSigned,
    fingerprint: fingerprint(cert),
  };
}

/** A CSR as JSON-ready data; field names are stable. */
export function csrJson(csr: Csr): Record<string, unknown> {
  return {
    type: 'certificate-request',
    subject: csr.subject,
    commonName: csr.commonName,
    sans: csr.sans,
    publicKey: csr.publicKeyInfo,
    signatureAlgorithm: csr.signatureAlgorithm,
    signatureValid: csr.signatureValid,
  };
}
