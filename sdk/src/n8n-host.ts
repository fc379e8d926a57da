import type { IDataObject, IExecuteFunctions, IHttpRequestOptions, INodeTypeDescription } from 'n8n-workflow';
import { CAMPAIGN_API_CREDENTIAL, createCampaignApiClient } from './campaign-api-client.js';
import type { HttpRequest, HttpResponse, NodeContext, NodeItem } from './context.js';
import { NodeError } from './errors.js';

/**
 * The node context inside n8n, backed by n8n's own execute functions. A node that declares the
 * `campaignOsApi` credential, used with one selected, gets CampaignOS services over the API.
 */
export function createN8nContext(fns: IExecuteFunctions, description?: INodeTypeDescription): NodeContext {
  const node = fns.getNode();
  const declaresApi = description?.credentials?.some((c) => c.name === CAMPAIGN_API_CREDENTIAL) === true;
  const selectedApi = node.credentials?.[CAMPAIGN_API_CREDENTIAL] !== undefined;
  return {
    host: 'n8n',
    node: { name: node.name, type: node.type, typeVersion: node.typeVersion },
    logger: fns.logger,
    // Without a CampaignOS API credential, channel nodes send directly, like n8n's own senders.
    campaign: declaresApi && selectedApi ? createCampaignApiClient(fns) : undefined,
    getInputItems: () => fns.getInputData().map((item) => ({ json: item.json as Record<string, unknown> }) satisfies NodeItem),
    getParameter: <T>(name: string, itemIndex: number, fallback?: T) =>
      (fallback === undefined ? fns.getNodeParameter(name, itemIndex) : fns.getNodeParameter(name, itemIndex, fallback as never)) as T,
    getCredentials: async <T extends object>(type: string, itemIndex: number) => (await fns.getCredentials(type, itemIndex)) as unknown as T,
    continueOnFail: () => fns.continueOnFail(),
    http: async (request: HttpRequest): Promise<HttpResponse> => {
      const options: IHttpRequestOptions = {
        url: request.url,
        method: request.method ?? 'GET',
        headers: request.headers,
        body: request.body as IDataObject | string | undefined,
        json: typeof request.body === 'object',
        timeout: request.timeoutMs,
        returnFullResponse: true,
        ignoreHttpStatusErrors: true,
        ...(request.responseType === 'binary' && { encoding: 'arraybuffer' as const }),
      };
      const response = (await fns.helpers.httpRequest(options)) as { statusCode: number; headers: Record<string, string>; body: unknown };
      let body = response.body;
      if (request.responseType === 'binary') {
        body = Buffer.isBuffer(body) ? body : body instanceof ArrayBuffer ? Buffer.from(body) : Buffer.from(typeof body === 'string' ? body : '');
      }
      const size = Buffer.isBuffer(body) ? body.length : typeof body === 'string' ? Buffer.byteLength(body) : 0;
      if (request.maxBytes !== undefined && size > request.maxBytes) {
        throw new NodeError('MESSAGE_TOO_LARGE', `${request.method ?? 'GET'} ${redactUrl(request.url)} answered ${size} bytes; the limit is ${request.maxBytes}`);
      }
      return { status: response.statusCode, headers: response.headers, body };
    },
    getBinary: async (itemIndex, property) => {
      const meta = fns.getInputData()[itemIndex]?.binary?.[property];
      if (!meta) return undefined;
      const data = await fns.helpers.getBinaryDataBuffer(itemIndex, property);
      return { data, mimeType: meta.mimeType, ...(meta.fileName && { fileName: meta.fileName }) };
    },
  };
}

/**
 * A URL fit for a message: no user info, query or fragment (they may carry credentials).
 *
 * @example
 * redactUrl('https://bob:pw@files.example/a.pdf?sig=secret'); // 'https://files.example/a.pdf'
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(malformed URL)';
  }
}
