// The SMTP sink (test/support/smtp-sink.ts: a real smtp-server that parses every message) in its
// own process, so parsing mail never competes with the sender's event loop. Talks over IPC.
import { startSmtpSink } from '../support/smtp-sink.js';

export type SinkRequest = { type: 'stats'; id: number; since: number } | { type: 'close' };
export type SinkReply =
  | { type: 'ready'; port: number }
  | { type: 'stats'; id: number; count: number; distinctMessageIds: number; distinctRecipients: number; withUnsubscribe: number };

async function main(): Promise<void> {
  if (!process.send) throw new Error('sink-child must be started with an IPC channel (fork)');
  const sink = await startSmtpSink();
  const send = (reply: SinkReply) => process.send!(reply);
  process.on('message', async (request: SinkRequest) => {
    if (request.type === 'close') {
      await sink.close();
      process.exit(0);
    }
    if (request.type === 'stats') {
      const messages = sink.messages.slice(request.since);
      send({
        type: 'stats',
        id: request.id,
        count: messages.length,
        distinctMessageIds: new Set(messages.map((m) => m.parsed.messageId)).size,
        distinctRecipients: new Set(messages.flatMap((m) => m.envelopeTo)).size,
        withUnsubscribe: messages.filter((m) => m.parsed.headerLines.some((h) => h.key === 'list-unsubscribe')).length,
      });
    }
  });
  // Parent gone: nothing left to serve.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', port: sink.port });
}

main().catch((error: unknown) => {
  process.stderr.write(`sink: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
