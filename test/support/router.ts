import { Client, Connection } from '@temporalio/client';
import { TriggerRouter } from '@campaignos/runtime';
import type { Stack } from './stack.js';
import { quietLogger } from './stack.js';

/** A second, independent trigger router on its own Temporal connection (like another API instance). */
export class TriggerRouterForTests {
  private connection: Promise<Connection>;

  constructor(
    private readonly stack: Stack,
    private readonly temporal: { address: string; namespace: string },
  ) {
    this.connection = Connection.connect({ address: temporal.address });
  }

  async drain(): Promise<void> {
    const client = new Client({ connection: await this.connection, namespace: this.temporal.namespace });
    const router = new TriggerRouter({ store: this.stack.runtime.store, temporal: client, logger: quietLogger });
    while ((await router.drainOnce()) > 0) {
      // keep draining until the outbox is empty
    }
  }

  async close(): Promise<void> {
    await (await this.connection).close();
  }
}
