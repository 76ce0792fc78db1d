import { importPrivateKey, parseCertificates, type Certificate as X509, type ImportedKeyPair } from '../pki/index.ts';

/**
 * Parsed Secret contents, kept for one reconcile pass. In a pass the trigger and
 * readiness controllers read the same Certificate Secret, and every Certificate of
 * an issuer reads that issuer's CA Secret; parsing certificates and importing keys
 * is the costly part, so each PEM text is parsed once. Keyed by the text itself: a
 * Secret rewritten during the pass has new text and is parsed afresh, so a cached
 * answer is never stale. A failure is kept too, and thrown again to each caller.
 */
export class PemCache {
  readonly #certificates = new Map<string, { readonly chain: readonly X509[] } | { readonly error: unknown }>();
  readonly #keys = new Map<string, Promise<ImportedKeyPair>>();

  /** `parseCertificates(pem)`, once per text. */
  certificates(pem: string): readonly X509[] {
    let parsed = this.#certificates.get(pem);
    if (parsed === undefined) {
      try {
        parsed = { chain: parseCertificates(pem) };
      } catch (error) {
        parsed = { error };
      }
      this.#certificates.set(pem, parsed);
    }
    if ('error' in parsed) throw parsed.error;
    return parsed.chain;
  }

  /** `importPrivateKey(pem)`, once per text. */
  privateKey(pem: string): Promise<ImportedKeyPair> {
    let imported = this.#keys.get(pem);
    if (imported === undefined) {
      imported = importPrivateKey(pem);
      this.#keys.set(pem, imported);
    }
    return imported;
  }

  /** Forgets every parse: the controller calls this around each pass, so memory stays one pass's worth. */
  clear(): void {
    this.#certificates.clear();
    this.#keys.clear();
  }
}
