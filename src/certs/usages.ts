/**
 * cert-manager's `spec.usages` names mapped to X.509 key usage and extended key
 * usage names as src/pki takes them.
 */
const KEY_USAGES: Readonly<Record<string, string>> = {
  signing: 'digitalSignature',
  'digital signature': 'digitalSignature',
  'content commitment': 'nonRepudiation',
  'key encipherment': 'keyEncipherment',
  'key agreement': 'keyAgreement',
  'data encipherment': 'dataEncipherment',
  'cert sign': 'keyCertSign',
  'crl sign': 'cRLSign',
  'encipher only': 'encipherOnly',
  'decipher only': 'decipherOnly',
};

const EXT_KEY_USAGES: Readonly<Record<string, string>> = {
  // Names src/pki knows, else the OID (pki takes either).
  any: '2.5.29.37.0',
  'server auth': 'serverAuth',
  'client auth': 'clientAuth',
  'code signing': 'codeSigning',
  'email protection': 'emailProtection',
  's/mime': 'emailProtection',
  'ipsec end system': '1.3.6.1.5.5.7.3.5',
  'ipsec tunnel': '1.3.6.1.5.5.7.3.6',
  'ipsec user': '1.3.6.1.5.5.7.3.7',
  timestamping: 'timeStamping',
  'ocsp signing': 'OCSPSigning',
  'microsoft sgc': '1.3.6.1.4.1.311.10.3.3',
  'netscape sgc': '2.16.840.1.113730.4.1',
};

/** cert-manager's default when `spec.usages` is empty. */
const DEFAULT_USAGES = ['digital signature', 'key encipherment'] as const;

/**
 * Splits cert-manager usages into key usages and extended key usages. `isCA` adds
 * "cert sign", as cert-manager does. Unknown names are refused earlier by the schema.
 */
export function x509Usages(
  usages: readonly string[] | undefined,
  isCA: boolean,
): { keyUsage: string[]; extKeyUsage: string[] } {
  const asked = usages !== undefined && usages.length > 0 ? [...usages] : [...DEFAULT_USAGES];
  if (isCA && !asked.includes('cert sign')) asked.push('cert sign');
  const keyUsage = new Set<string>();
  const extKeyUsage = new Set<string>();
  for (const usage of asked) {
    const ku = KEY_USAGES[usage];
    const eku = EXT_KEY_USAGES[usage];
    if (ku !== undefined) keyUsage.add(ku);
    if (eku !== undefined) extKeyUsage.add(eku);
  }
  return { keyUsage: [...keyUsage], extKeyUsage: [...extKeyUsage] };
}
