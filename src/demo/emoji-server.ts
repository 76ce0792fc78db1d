/**
 * The `emoji` service: `emojivoto.v1.EmojiService` (ListAll, FindByShortcode) over
 * the fixed catalog. Stateless, so any number of replicas agree.
 */
import { status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { EMOJI_CATALOG, findEmoji } from './emoji-catalog.ts';
import { startGrpcServer, type ListenOptions, type RunningServer } from './grpc-server.ts';
import { serviceDefinitions, type FindByShortcodeRequest, type FindByShortcodeResponse, type ListAllEmojiResponse } from './service-definitions.ts';

/** Options of {@link startEmojiServer}. */
export type EmojiServerOptions = ListenOptions & {
  /** Receives one line per event worth a log (start, stop). Default: discard. */
  log?: (line: string) => void;
};

/** The handlers of EmojiService, apart from the server so tests can call them directly. */
export function emojiService(): UntypedServiceImplementation {
  return {
    ListAll(_call: ServerUnaryCall<unknown, ListAllEmojiResponse>, done: sendUnaryData<ListAllEmojiResponse>) {
      done(null, { list: EMOJI_CATALOG.map((e) => ({ unicode: e.unicode, shortcode: e.shortcode })) });
    },
    FindByShortcode(call: ServerUnaryCall<FindByShortcodeRequest, FindByShortcodeResponse>, done: sendUnaryData<FindByShortcodeResponse>) {
      const emoji = findEmoji(call.request.shortcode);
      if (emoji === undefined) {
        done({ code: status.NOT_FOUND, details: `Choose an emoji from ListAll: "${call.request.shortcode}" is not one` });
        return;
      }
      done(null, { emoji: { unicode: emoji.unicode, shortcode: emoji.shortcode } });
    },
  };
}

/** Starts the emoji gRPC server; resolves once it listens. */
export async function startEmojiServer(opts: EmojiServerOptions): Promise<RunningServer> {
  const log = opts.log ?? (() => {});
  const server = await startGrpcServer(
    { definition: serviceDefinitions().emoji, implementation: emojiService() },
    { host: opts.host, port: opts.port },
  );
  log(`emoji: listening on ${server.host}:${server.port} (gRPC emojivoto.v1.EmojiService, ${EMOJI_CATALOG.length} emoji)`);
  return server;
}
