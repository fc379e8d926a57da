import type { IDataObject, IExecuteFunctions, IHttpRequestOptions } from 'n8n-workflow';
import type { HttpRequest, HttpResponse, NodeContext, NodeItem } from './context.js';

/** The node context inside n8n, backed by n8n's own execute functions. */
export function createN8nContext(fns: IExecuteFunctions): NodeContext {
  const node = fns.getNode();
  return {
    host: 'n8n',
    node: { name: node.name, type: node.type, typeVersion: node.typeVersion },
    logger: fns.logger,
    // CampaignOS services inside n8n (through a "CampaignOS API" credential) come with the
    // node-ecosystem work; without them channel nodes send directly, like n8n's own senders.
    campaign: undefined,
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
      };
      const response = (await fns.helpers.httpRequest(options)) as { statusCode: number; headers: Record<string, string>; body: unknown };
      return { status: response.statusCode, headers: response.headers, body: response.body };
    },
  };
}
