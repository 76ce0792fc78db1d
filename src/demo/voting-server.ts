/**
 * The `voting` service: `emojivoto.v1.VotingService`, one Vote RPC per emoji plus
 * Results, counts kept in memory (a restart forgets them, as in the original).
 * VoteDoughnut always fails, on purpose: the mesh's metrics then have a failing
 * route to show, and a success rate below 100%.
 */
import { status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { DOUGHNUT, EMOJI_CATALOG, voteMethodName } from './emoji-catalog.ts';
import { startGrpcServer, type ListenOptions, type RunningServer } from './grpc-server.ts';
import { serviceDefinitions, type ResultsResponse } from './service-definitions.ts';

/** Options of {@link startVotingServer}. */
export type VotingServerOptions = ListenOptions & {
  /** Receives one line per event worth a log (start, stop). Default: discard. */
  log?: (line: string) => void;
};

/** The message every vote for :doughnut: fails with (gRPC status UNKNOWN, as a plain error in the original). */
export const DOUGHNUT_FAILURE = 'Vote for another emoji: :doughnut: always fails, on purpose, so the mesh has failures to show';

/** Vote counts by shortcode; an emoji without votes has no entry. */
export class VoteTally {
  readonly #votes = new Map<string, number>();

  /** Adds one vote. */
  add(shortcode: string): void {
    this.#votes.set(shortcode, (this.#votes.get(shortcode) ?? 0) + 1);
  }

  /** Results, most votes first; ties in catalog order so the leaderboard does not flicker. */
  results(): ResultsResponse['results'] {
    const order = new Map(EMOJI_CATALOG.map((e, i) => [e.shortcode, i]));
    return [...this.#votes]
      .map(([shortcode, votes]) => ({ shortcode, votes }))
      .sort((a, b) => b.votes - a.votes || (order.get(a.shortcode) ?? 0) - (order.get(b.shortcode) ?? 0));
  }
}

/** The handlers of VotingService over `tally`: `VoteJoy`, `VoteDoughnut`, …, and `Results`. */
export function votingService(tally: VoteTally): UntypedServiceImplementation {
  const handlers: UntypedServiceImplementation = {
    Results(_call: ServerUnaryCall<unknown, ResultsResponse>, done: sendUnaryData<ResultsResponse>) {
      done(null, { results: tally.results() });
    },
  };
  for (const { shortcode } of EMOJI_CATALOG) {
    handlers[voteMethodName(shortcode)] = (_call: ServerUnaryCall<unknown, object>, done: sendUnaryData<object>) => {
      if (shortcode === DOUGHNUT) {
        done({ code: status.UNKNOWN, details: DOUGHNUT_FAILURE });
        return;
      }
      tally.add(shortcode);
      done(null, {});
    };
  }
  return handlers;
}

/** Starts the voting gRPC server with an empty tally; resolves once it listens. */
export async function startVotingServer(opts: VotingServerOptions): Promise<RunningServer> {
  const log = opts.log ?? (() => {});
  const server = await startGrpcServer(
    { definition: serviceDefinitions().voting, implementation: votingService(new VoteTally()) },
    { host: opts.host, port: opts.port },
  );
  log(`voting: listening on ${server.host}:${server.port} (gRPC emojivoto.v1.VotingService, ${EMOJI_CATALOG.length} Vote RPCs)`);
  return server;
}
