import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { UsageError } from '../errors/index.ts';

/** One document of a manifest file, with where it came from for messages. */
export interface ManifestDocument {
  /** File path, or `<stdin>`. */
  readonly source: string;
  /** 1-based position in its file (a List's items count as their own documents). */
  readonly index: number;
  readonly value: unknown;
}

/** A document that did not parse. */
export interface ManifestSyntaxError {
  readonly source: string;
  readonly index: number;
  readonly message: string;
}

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/**
 * Reads `-f` arguments: files, directories (their .yaml/.yml/.json files, sorted,
 * not recursive, as kubectl), or `-` for stdin. YAML may hold many documents;
 * JSON is YAML too. A `kind: List` is expanded into its items.
 */
export function readManifests(paths: readonly string[], stdin: () => string = () => readFileSync(0, 'utf8')): {
  documents: ManifestDocument[];
  errors: ManifestSyntaxError[];
} {
  const documents: ManifestDocument[] = [];
  const errors: ManifestSyntaxError[] = [];
  for (const path of paths) {
    for (const [source, text] of sources(path, stdin)) {
      let index = 0;
      for (const doc of parseAllDocuments(text)) {
        if (doc.errors.length > 0) {
          index++;
          const e = doc.errors[0];
          const where = e?.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
          errors.push({ source, index, message: `not valid YAML${where}: ${(e?.message ?? '').split('\n')[0]}` });
          continue;
        }
        const value: unknown = doc.toJS();
        if (value === null || value === undefined) continue; // an empty document, such as after a trailing ---
        const v = value as { kind?: unknown; items?: unknown };
        const items: unknown[] = v.kind === 'List' && Array.isArray(v.items) ? v.items : [value];
        for (const item of items) documents.push({ source, index: ++index, value: item });
      }
    }
  }
  return { documents, errors };
}

function sources(path: string, stdin: () => string): Array<[string, string]> {
  if (path === '-') return [['<stdin>', stdin()]];
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new UsageError(`Give a file or directory that exists: "${path}" does not`);
  }
  if (!isDir) return [[path, readFileSync(path, 'utf8')]];
  const files = readdirSync(path).filter((f) => MANIFEST_FILE.test(f)).sort();
  if (files.length === 0) throw new UsageError(`Put .yaml, .yml or .json files in "${path}": it has none`);
  return files.map((f) => [join(path, f), readFileSync(join(path, f), 'utf8')]);
}

/** `Kind/name` of a raw document, for messages; `?` for what is missing. */
export function documentLabel(value: unknown): string {
  const v = (value ?? {}) as { kind?: unknown; metadata?: { name?: unknown } };
  const kind = typeof v.kind === 'string' ? v.kind : '?';
  const name = typeof v.metadata?.name === 'string' ? v.metadata.name : '?';
  return `${kind}/${name}`;
}
