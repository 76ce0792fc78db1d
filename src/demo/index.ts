/**
 * The demo application, emojivoto-like: `web` (HTTP) calls `emoji` and `voting`
 * (gRPC, emojivoto.v1), and `vote-bot` calls `web` at a steady rate. It imports
 * nothing of weft: it is an ordinary workload that the mesh carries unchanged.
 * docs/demo.md tells how to run it; examples/emojivoto.yaml deploys it.
 */
export { chooseVote, DEFAULT_DOUGHNUT_SHARE, seededRandom } from './choose-vote.ts';
export { DEMO_APPS, DEMO_DEFAULTS, demoConfigFromEnv, type DemoApp, type DemoConfig, type DemoConfigResult } from './demo-config.ts';
export { DOUGHNUT, EMOJI_CATALOG, findEmoji, voteMethodName, type Emoji } from './emoji-catalog.ts';
export { emojiService, startEmojiServer, type EmojiServerOptions } from './emoji-server.ts';
export { DemoGrpcClient, DEFAULT_DEADLINE_MS } from './grpc-client.ts';
export { DEFAULT_GRACE_MS, startGrpcServer, type ListenOptions, type RunningServer } from './grpc-server.ts';
export { runDemoApp, type RunningDemoApp } from './run-demo-app.ts';
export {
  EMOJI_SERVICE, PROTO_DIR, serviceDefinitions, VOTING_SERVICE,
  type EmojiMessage, type FindByShortcodeRequest, type FindByShortcodeResponse, type ListAllEmojiResponse,
  type ResultsResponse, type VotingResult,
} from './service-definitions.ts';
export { parseTarget, startVoteBot, type VoteBot, type VoteBotOptions, type VoteBotStats } from './vote-bot.ts';
export { DOUGHNUT_FAILURE, startVotingServer, VoteTally, votingService, type VotingServerOptions } from './voting-server.ts';
export { WEB_PAGE } from './web-page.ts';
export { httpStatusForGrpc, startWebServer, type WebServerOptions } from './web-server.ts';
