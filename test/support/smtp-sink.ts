import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  envelopeTo: string[];
  parsed: ParsedMail;
  raw: string;
}

export interface SmtpSink {
  port: number;
  /**
   * From now on, receive messages but never acknowledge them: the sender never learns they
   * arrived, so (as in SMTP) they do not count as delivered and are not recorded.
   */
  hold(): void;
  /** Acknowledge (and record) new messages again; held ones stay unanswered. */
  resume(): void;
  messages: ReceivedMail[];
  /** Resolves once `count` messages have arrived (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** A real SMTP server on loopback that parses everything it receives. */
export async function startSmtpSink(options: { user?: string; password?: string } = {}): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  let holding = false;
  const waiters: Array<() => void> = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: options.user ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.user,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.password) return callback(null, { user: auth.username });
      callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      const envelopeTo = session.envelope.rcptTo.map((r) => r.address);
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        if (holding) return; // never answered: the sender's transaction stays open until it dies
        const raw = Buffer.concat(chunks).toString('utf8');
        const parsed = await simpleParser(raw);
        callback();
        // Recorded once acknowledged: from then on the sender knows it was delivered.
        messages.push({ envelopeTo, parsed, raw });
        waiters.splice(0).forEach((w) => w());
      });
    },
  });
  // A sender that dies mid-session (the durability tests SIGKILL workers on purpose) resets its
  // socket; smtp-server reports that as an 'error' event, which must not crash the test process.
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') console.error(`smtp sink: ${error.message}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    port,
    messages,
    hold: () => {
      holding = true;
    },
    resume: () => {
      holding = false;
    },
    async waitFor(count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${count} emails, got ${messages.length} within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 500));
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return messages;
    },
    close: () =>
      new Promise((resolve) => {
        holding = false;
        server.close(() => resolve());
        // Held connections would keep close() waiting; their senders are gone anyway.
        setTimeout(resolve, 2000).unref();
      }),
  };
}
