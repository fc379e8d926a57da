export {
  TEMPORAL_CLI_PYPI,
  TEMPORAL_TEST_SERVER_PYPI,
  resolveTemporalCli,
  resolveTemporalTestServer,
  type ResolveTemporalBinaryOptions,
  type ResolvedTemporalBinary,
  type TemporalBinarySource,
} from './temporal-binaries.js';
export { startTemporalDevServer, type TemporalDevServer, type TemporalDevServerOptions } from './temporal-dev-server.js';
export { startEmbeddedPostgres, type EmbeddedPostgresOptions, type EmbeddedPostgresServer } from './embedded-postgres.js';
