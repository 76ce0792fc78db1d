/**
 * The gRPC service definitions of the demo, loaded from the .proto files beside
 * this folder at start-up (proto-loader): the .proto files are the single source
 * of truth for the wire format, and any gRPC client generated from them works.
 */
import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import type { ServiceDefinition } from '@grpc/grpc-js';

/** `emojivoto.v1.Emoji` as decoded. */
export type EmojiMessage = { unicode: string; shortcode: string };
/** `emojivoto.v1.ListAllEmojiResponse`. */
export type ListAllEmojiResponse = { list: EmojiMessage[] };
/** `emojivoto.v1.FindByShortcodeRequest`. */
export type FindByShortcodeRequest = { shortcode: string };
/** `emojivoto.v1.FindByShortcodeResponse`; `emoji` is absent only from a peer that breaks the contract. */
export type FindByShortcodeResponse = { emoji?: EmojiMessage | null };
/** `emojivoto.v1.VotingResult`. */
export type VotingResult = { shortcode: string; votes: number };
/** `emojivoto.v1.ResultsResponse`. */
export type ResultsResponse = { results: VotingResult[] };

/** Fully qualified service names, as in gRPC paths (`/emojivoto.v1.EmojiService/ListAll`). */
export const EMOJI_SERVICE = 'emojivoto.v1.EmojiService';
/** See {@link EMOJI_SERVICE}. */
export const VOTING_SERVICE = 'emojivoto.v1.VotingService';

/** The directory of the .proto files, for clients that load them themselves. */
export const PROTO_DIR = fileURLToPath(new URL('./proto/', import.meta.url));

/**
 * Field names as written in the .proto (keepCase), 64-bit numbers as JS numbers,
 * and defaults filled in so an empty list decodes as `[]`, not `undefined`.
 */
const LOAD_OPTIONS = { keepCase: true, longs: Number, enums: String, defaults: true, arrays: true, oneofs: true };

let cached: { emoji: ServiceDefinition; voting: ServiceDefinition } | undefined;

/** The two service definitions, parsed once per process. */
export function serviceDefinitions(): { emoji: ServiceDefinition; voting: ServiceDefinition } {
  if (cached !== undefined) return cached;
  const pkg = loadSync(['emoji.proto', 'voting.proto'], { ...LOAD_OPTIONS, includeDirs: [PROTO_DIR] });
  cached = {
    emoji: serviceOf(pkg, EMOJI_SERVICE),
    voting: serviceOf(pkg, VOTING_SERVICE),
  };
  return cached;
}

function serviceOf(pkg: ReturnType<typeof loadSync>, name: string): ServiceDefinition {
  const def = pkg[name];
  // A service definition maps method names to objects with a `path`; messages have `format`.
  if (def === undefined || 'format' in def) throw new Error(`Add service "${name}" to ${PROTO_DIR}: it is missing`);
  return def as ServiceDefinition;
}
