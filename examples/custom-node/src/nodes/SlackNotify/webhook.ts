import { isNodeError, NodeError, type NodeContext } from '@campaignos/sdk';

/** Slack truncates longer messages; the webhook refuses much longer ones with `msg_too_long`. */
export const MAX_TEXT_LENGTH = 40_000;

const TIMEOUT_MS = 10_000;

/** What the node posts: Slack's incoming-webhook JSON payload. */
export interface SlackMessage {
  text: string;
  channel?: string;
  username?: string;
  icon_emoji?: string;
}

/** Reads the credential once per item. The URL is the secret: it never appears in an error. */
export function parseWebhookUrl(credentials: Record<string, unknown>): string {
  const raw = typeof credentials.webhookUrl === 'string' ? credentials.webhookUrl.trim() : '';
  if (!raw) throw new NodeError('INVALID_CREDENTIALS', 'The Slack Webhook API credential has no Webhook URL');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new NodeError('INVALID_CREDENTIALS', 'The Webhook URL in the Slack Webhook API credential is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new NodeError('INVALID_CREDENTIALS', `The Webhook URL in the Slack Webhook API credential must be http(s), not ${url.protocol}`);
  }
  return url.toString();
}

export function checkLength(text: string): void {
  // Slack counts characters, not UTF-16 units: an emoji is one.
  const length = [...text].length;
  if (length > MAX_TEXT_LENGTH) {
    throw new NodeError('MESSAGE_TOO_LARGE', `The message is ${length} characters long; Slack accepts at most ${MAX_TEXT_LENGTH}`);
  }
}

/**
 * Posts one message and maps Slack's answers to node error codes. Incoming webhooks answer
 * `200 ok`, or a status with a short plain-text reason (`no_service`, `channel_not_found`...).
 */
export async function postToWebhook(ctx: NodeContext, webhookUrl: string, message: SlackMessage): Promise<void> {
  let response;
  try {
    response = await ctx.http({ url: webhookUrl, method: 'POST', body: message, timeoutMs: TIMEOUT_MS });
  } catch (error) {
    // Host errors name the URL they failed on, and this URL is the credential: say why, not where.
    if (isNodeError(error) && error.code === 'TIMEOUT') {
      throw new NodeError('TIMEOUT', `Slack did not answer within ${TIMEOUT_MS / 1000} s`);
    }
    throw new NodeError('PROVIDER_UNAVAILABLE', `The Slack webhook could not be reached (${networkReason(error)})`);
  }
  if (response.status >= 200 && response.status < 300) return;

  const reason = slackReason(response.body);
  const said = reason ? `: ${reason}` : '';
  if (response.status === 429) {
    const retryAfter = Number(header(response.headers, 'retry-after'));
    const wait = Number.isFinite(retryAfter) && retryAfter >= 0 ? ` and asked to retry after ${retryAfter} s` : '';
    throw new NodeError('RATE_LIMITED', `Slack rate-limited the webhook (429)${wait}`, {
      description: Number.isFinite(retryAfter) ? `Retry-After: ${retryAfter}` : undefined,
      ...(Number.isFinite(retryAfter) && retryAfter >= 0 && { retryAfterMs: retryAfter * 1000 }),
    });
  }
  if (response.status >= 500) throw new NodeError('PROVIDER_UNAVAILABLE', `Slack answered ${response.status}${said}`);
  if (['no_service', 'no_team', 'invalid_token', 'team_disabled', 'no_active_hooks', 'invalid_webhook'].includes(reason)) {
    throw new NodeError('INVALID_CREDENTIALS', `Slack does not know this webhook (${response.status} ${reason}): check the Webhook URL in the credential`);
  }
  if (reason === 'msg_too_long') throw new NodeError('MESSAGE_TOO_LARGE', `Slack refused the message as too long (${response.status} msg_too_long)`);
  if (['channel_not_found', 'channel_is_archived', 'user_not_found'].includes(reason)) {
    throw new NodeError('RECIPIENT_INVALID', `Slack cannot post to ${message.channel ? `"${message.channel}"` : "the webhook's channel"} (${response.status} ${reason})`);
  }
  throw new NodeError('PROVIDER_REJECTED', `Slack refused the message (${response.status}${said})`);
}

function slackReason(body: unknown): string {
  const text = typeof body === 'string' ? body : body === undefined || body === null ? '' : JSON.stringify(body);
  return text.trim().slice(0, 200);
}

function header(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/** `ECONNREFUSED`, `ENOTFOUND`... from the error or its cause, never the message (it holds the URL). */
function networkReason(error: unknown): string {
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  }
  return 'network error';
}
