import { createHash } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import { NodeError, type NodeErrorCode, type NodeLogger } from '@campaignos/sdk';

/** The `campaignOsSmtp` credential, checked once when the node reads it. */
export interface SmtpCredentials {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  password: string;
  fromEmail: string;
  fromName: string;
}

export interface OutgoingEmail {
  to: string;
  subject: string;
  html: string;
  text: string;
  replyTo?: string;
  /** Stable per send (the gate's ticket id), so a retried send carries the same Message-ID. */
  messageId: string;
  /** Adds `List-Unsubscribe` and, for a one-click endpoint, `List-Unsubscribe-Post` (RFC 8058). */
  unsubscribe?: { url: string; oneClick: boolean };
  /** Files as bytes in memory (the transport refuses paths and URLs). */
  attachments?: Array<{ filename: string; contentType: string; content: Buffer }>;
}

export interface SentEmail {
  /** The Message-ID header as sent, angle brackets included. */
  messageIdHeader: string;
  /** The SMTP server's final answer, e.g. `250 OK: queued as ...`. */
  response: string;
}

/** Connections per credential set; the measured sweet spot for a local sink is a pool of 5. */
export const MAX_CONNECTIONS = 5;
const MAX_TRANSPORTS = 50;

interface PooledTransport {
  identity: string;
  transporter: Transporter<SMTPPool.SentMessageInfo, SMTPPool.Options>;
}

const transports = new Map<string, PooledTransport>();

/**
 * Validates raw credential data: host and sender are required, the port is a TCP port.
 * Throws `INVALID_CREDENTIALS` naming the field (never its value).
 */
export function parseSmtpCredentials(raw: Record<string, unknown>): SmtpCredentials {
  const text = (name: string) => (typeof raw[name] === 'string' ? (raw[name] as string).trim() : '');
  const host = text('host');
  const fromEmail = text('fromEmail');
  const port = Number(raw.port ?? 587);
  if (!host) throw new NodeError('INVALID_CREDENTIALS', 'SMTP credentials have no host');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new NodeError('INVALID_CREDENTIALS', 'SMTP credentials have an invalid port');
  if (!isEmailAddress(fromEmail)) throw new NodeError('INVALID_CREDENTIALS', 'SMTP credentials have no valid sender address (fromEmail)');
  return {
    host,
    port,
    secure: raw.secure === true,
    user: text('user'),
    password: typeof raw.password === 'string' ? raw.password : '',
    fromEmail,
    fromName: text('fromName'),
  };
}

/** One address, no display name, nothing that could add a second recipient or a header. */
export function isEmailAddress(value: string): boolean {
  return value.length <= 254 && /^[^\s@<>()[\],;:"\\]+@[^\s@<>()[\],;:"\\]+\.[^\s@<>()[\],;:"\\]+$/.test(value);
}

/**
 * Sends one message over the pooled transport for these credentials.
 * SMTP failures are thrown as NodeErrors (see `toSmtpNodeError`).
 */
export async function sendEmail(credentials: SmtpCredentials, email: OutgoingEmail, logger?: NodeLogger): Promise<SentEmail> {
  const transporter = transportFor(credentials, logger);
  const messageIdHeader = `<${email.messageId.replace(/[^A-Za-z0-9._+=-]/g, '-')}@${domainOf(credentials.fromEmail)}>`;
  const headers: Record<string, string> = {};
  if (email.unsubscribe) {
    headers['List-Unsubscribe'] = `<${email.unsubscribe.url}>`;
    if (email.unsubscribe.oneClick) headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  try {
    const info = await transporter.sendMail({
      from: credentials.fromName ? { name: credentials.fromName, address: credentials.fromEmail } : credentials.fromEmail,
      to: email.to,
      replyTo: email.replyTo || undefined,
      subject: email.subject,
      html: email.html,
      text: email.text,
      messageId: messageIdHeader,
      headers,
      attachments: email.attachments?.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })),
    });
    return { messageIdHeader: info.messageId ?? messageIdHeader, response: info.response ?? '' };
  } catch (error) {
    throw toSmtpNodeError(error);
  }
}

/** Closes every pooled connection (tests, shutdown). */
export async function closeTransports(): Promise<void> {
  const all = [...transports.values()];
  transports.clear();
  for (const { transporter } of all) transporter.close();
}

/** How many pooled transports are open; one per distinct credential set. */
export function transportCount(): number {
  return transports.size;
}

/**
 * Maps a nodemailer error to a NodeError code. The SMTP reply code decides when there is one;
 * otherwise nodemailer's error code does.
 */
export function toSmtpNodeError(error: unknown): NodeError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    responseCode?: unknown;
    response?: unknown;
    command?: unknown;
    message?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : '';
  const reply = typeof e.responseCode === 'number' ? e.responseCode : 0;
  const response = typeof e.response === 'string' ? e.response : '';
  const command = typeof e.command === 'string' ? e.command : '';
  const message = typeof e.message === 'string' ? e.message : String(error);
  const make = (nodeCode: NodeErrorCode, retryable?: boolean) =>
    new NodeError(nodeCode, `SMTP: ${message}`, { cause: error, retryable, description: command ? `during ${command}` : undefined });

  if (reply >= 400 && reply < 500) {
    return make(/rate|too many|throttl|slow down|limit exceeded|try again later/i.test(response) ? 'RATE_LIMITED' : 'PROVIDER_UNAVAILABLE');
  }
  if (reply >= 500) {
    const enhanced = /\b5\.(\d{1,3})\.(\d{1,3})\b/.exec(response);
    if (code === 'EAUTH' || reply === 535 || reply === 534 || reply === 530) return make('INVALID_CREDENTIALS');
    if (reply === 552 || enhanced?.[1] === '3' && enhanced[2] === '4') return make('MESSAGE_TOO_LARGE');
    if (enhanced?.[1] === '7') return make('PROVIDER_REJECTED'); // policy: spam, DMARC, blocked sender
    if (reply === 550 || reply === 551 || reply === 553 || enhanced?.[1] === '1' || command.startsWith('RCPT')) return make('RECIPIENT_INVALID');
    return make('PROVIDER_REJECTED');
  }
  switch (code) {
    case 'EAUTH':
    case 'ENOAUTH': // nodemailer 8+
    case 'NoAuth': // nodemailer 7
      return make('INVALID_CREDENTIALS');
    case 'ECONNECTION':
    case 'ETIMEDOUT':
    case 'ESOCKET':
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'EDNS':
    case 'ETLS':
    case 'EPROTOCOL':
      return make('PROVIDER_UNAVAILABLE');
    case 'EENVELOPE':
      return make('RECIPIENT_INVALID');
    case 'EMESSAGE':
    case '':
      return make('INTERNAL'); // not a network or SMTP failure: retrying would not help
    default:
      return make('PROVIDER_UNAVAILABLE'); // other socket-level codes: EPIPE, EHOSTUNREACH, EAI_AGAIN, ...
  }
}

function transportFor(credentials: SmtpCredentials, logger?: NodeLogger): PooledTransport['transporter'] {
  // The key covers the password so a rotated secret gets a fresh pool; it is only ever hashed.
  const identity = sha256(JSON.stringify([credentials.host, credentials.port, credentials.secure, credentials.user]));
  const key = sha256(JSON.stringify([identity, credentials.password]));
  const existing = transports.get(key);
  if (existing) return existing.transporter;

  for (const [otherKey, other] of transports) {
    if (other.identity === identity) {
      other.transporter.close(); // same account, old password
      transports.delete(otherKey);
    }
  }
  if (transports.size >= MAX_TRANSPORTS) {
    const [oldestKey, oldest] = transports.entries().next().value!;
    oldest.transporter.close();
    transports.delete(oldestKey);
  }

  const transporter = nodemailer.createTransport({
    pool: true,
    maxConnections: MAX_CONNECTIONS,
    maxMessages: Infinity,
    host: credentials.host,
    port: credentials.port,
    secure: credentials.secure,
    auth: credentials.user ? { user: credentials.user, pass: credentials.password } : undefined,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
    // Message content comes from templates: never let it pull local files or URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  // An idle pooled connection can fail between sends; that must not crash the process.
  transporter.on('error', (error) => {
    logger?.warn('SMTP pool error', { host: credentials.host, port: credentials.port, code: (error as { code?: string }).code, message: error.message });
  });
  transports.set(key, { identity, transporter });
  return transporter;
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1) || 'campaignos.invalid';
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
