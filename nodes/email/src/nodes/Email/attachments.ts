import { isNodeError, NodeError, redactUrl, type NodeContext } from '@campaignos/sdk';

/** An attachment ready for nodemailer: bytes in memory, never a path or URL for it to open. */
export interface EmailAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

/** What the `attachments` parameter asks for; URL attachments are fetched at send time. */
export interface AttachmentPlan {
  /** Inline and binary attachments, already decoded. */
  ready: EmailAttachment[];
  urls: Array<{ url: URL; filename: string }>;
}

const FETCH_TIMEOUT_MS = 30_000;
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Reads and checks the `attachments` parameter (fixed collection: url, inline, binary). */
export async function planAttachments(ctx: NodeContext, itemIndex: number): Promise<AttachmentPlan> {
  const raw = ctx.getParameter<unknown>('attachments', itemIndex, {});
  const plan: AttachmentPlan = { ready: [], urls: [] };
  if (raw === null || raw === undefined || raw === '') return plan;
  if (!isRecord(raw)) throw new NodeError('INVALID_PARAMETER', 'Parameter "attachments" must be an object');

  for (const entry of entries(raw, 'url')) {
    const text = stringField(entry, 'url', 'url').trim();
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new NodeError('INVALID_PARAMETER', `Attachment URL "${text ? redactUrl(text) : ''}" is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new NodeError('INVALID_PARAMETER', `Attachment URL ${redactUrl(text)} must use http or https`);
    }
    plan.urls.push({ url, filename: checkFilename(stringField(entry, 'filename', 'url').trim() || filenameFromUrl(url)) });
  }

  for (const entry of entries(raw, 'inline')) {
    const filename = checkFilename(stringField(entry, 'filename', 'inline').trim());
    const encoded = stringField(entry, 'content', 'inline').replace(/\s+/g, '');
    if (!BASE64.test(encoded) || encoded.length % 4 === 1) {
      throw new NodeError('INVALID_PARAMETER', `Attachment "${filename}": the content is not base64`);
    }
    plan.ready.push({ filename, contentType: mimeType(stringField(entry, 'contentType', 'inline')), content: Buffer.from(encoded, 'base64') });
  }

  for (const entry of entries(raw, 'binary')) {
    const property = stringField(entry, 'property', 'binary').trim() || 'data';
    const binary = await ctx.getBinary?.(itemIndex, property);
    if (!binary) {
      const why = ctx.host === 'campaignos' ? ' (journey items carry no binary data; use an inline or URL attachment)' : '';
      throw new NodeError('INVALID_PARAMETER', `The item has no binary property "${property}"${why}`);
    }
    const filename = checkFilename(stringField(entry, 'filename', 'binary').trim() || binary.fileName || property);
    plan.ready.push({ filename, contentType: mimeType(binary.mimeType), content: binary.data });
  }
  return plan;
}

/**
 * Fetches the URL attachments, stopping when the message would pass `budget` bytes.
 * 5xx and unreachable servers are retryable (`PROVIDER_UNAVAILABLE`); a 4xx is a wrong URL.
 * Error messages name the URL without user info or query string, which may hold secrets.
 */
export async function fetchAttachments(ctx: NodeContext, plan: AttachmentPlan, budget: number): Promise<EmailAttachment[]> {
  const fetched: EmailAttachment[] = [];
  let left = budget;
  for (const { url, filename } of plan.urls) {
    const where = redactUrl(url.href);
    let response;
    try {
      response = await ctx.http({ url: url.href, method: 'GET', responseType: 'binary', maxBytes: Math.max(left, 0), timeoutMs: FETCH_TIMEOUT_MS });
    } catch (error) {
      if (isNodeError(error) && error.code === 'MESSAGE_TOO_LARGE') {
        throw new NodeError('MESSAGE_TOO_LARGE', `Attachment ${where} would take the email over its size limit (${budget} bytes left for attachments)`);
      }
      // Not the original message: it may repeat the full URL.
      const code = isNodeError(error) && error.code === 'TIMEOUT' ? 'timed out' : 'could not be reached';
      throw new NodeError('PROVIDER_UNAVAILABLE', `Attachment ${where} ${code}`, { retryable: true });
    }
    if (response.status >= 500 || response.status === 0) {
      throw new NodeError('PROVIDER_UNAVAILABLE', `Attachment ${where} answered HTTP ${response.status}`);
    }
    if (response.status === 429) throw new NodeError('RATE_LIMITED', `Attachment ${where} answered HTTP 429`);
    if (response.status < 200 || response.status >= 300) {
      throw new NodeError('INVALID_PARAMETER', `Attachment ${where} answered HTTP ${response.status}`);
    }
    const content = toBuffer(response.body);
    left -= content.length;
    if (left < 0) throw new NodeError('MESSAGE_TOO_LARGE', `Attachment ${where} would take the email over its size limit`);
    fetched.push({ filename, contentType: mimeType(header(response.headers, 'content-type')), content });
  }
  return fetched;
}

function entries(raw: Record<string, unknown>, group: string): Record<string, unknown>[] {
  const value = raw[group];
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((entry) => {
    if (!isRecord(entry)) throw new NodeError('INVALID_PARAMETER', `Parameter "attachments.${group}" must hold objects`);
    return entry;
  });
}

function stringField(entry: Record<string, unknown>, name: string, group: string): string {
  const value = entry[name];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new NodeError('INVALID_PARAMETER', `Parameter "attachments.${group}.${name}" must be text`);
  return value;
}

/** A file name a mail client shows: no path, no control characters, not empty. */
function checkFilename(name: string): string {
  const clean = name.replace(/[\u0000-\u001f\u007f]/g, '').replace(/^.*[\\/]/, '').trim();
  if (!clean) throw new NodeError('INVALID_PARAMETER', 'An attachment has no file name');
  return clean.slice(0, 200);
}

function filenameFromUrl(url: URL): string {
  const last = url.pathname.split('/').filter(Boolean).pop() ?? '';
  try {
    return decodeURIComponent(last) || 'attachment';
  } catch {
    return last || 'attachment';
  }
}

/** The bare MIME type (parameters dropped), or `application/octet-stream` for anything odd. */
function mimeType(value: string | undefined): string {
  const type = (value ?? '').split(';')[0]!.trim().toLowerCase();
  return MIME_TYPE.test(type) ? type : 'application/octet-stream';
}

function header(headers: Record<string, string>, name: string): string | undefined {
  const found = Object.entries(headers ?? {}).find(([key]) => key.toLowerCase() === name);
  const value = found?.[1] as unknown;
  return Array.isArray(value) ? String(value[0]) : typeof value === 'string' ? value : undefined;
}

function toBuffer(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (typeof body === 'string') return Buffer.from(body);
  return Buffer.from(JSON.stringify(body ?? ''));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
