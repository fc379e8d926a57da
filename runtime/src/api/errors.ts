import type { ErrorRequestHandler } from 'express';
import type { ZodError } from 'zod';

/** The API's error codes; every error response is `{ error: { code, message, details? } }`. */
export type ApiErrorCode =
  | 'UNAUTHORIZED'
  | 'INVALID_JSON'
  | 'PAYLOAD_TOO_LARGE'
  | 'VALIDATION_FAILED'
  | 'WORKFLOW_INVALID'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INTERNAL';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export function validationError(error: ZodError, what: string): ApiError {
  const problems = error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(body)'}: ${i.message}`);
  return new ApiError(400, 'VALIDATION_FAILED', `${what} is invalid: ${problems.join('; ')}`, { problems });
}

/** Normalises anything thrown into the error shape; internals are logged, not returned. */
export function errorHandler(log: (message: string, meta: Record<string, unknown>) => void): ErrorRequestHandler {
  return (error, req, res, _next) => {
    let apiError: ApiError;
    if (error instanceof ApiError) apiError = error;
    else if (error?.type === 'entity.parse.failed') apiError = new ApiError(400, 'INVALID_JSON', `Malformed JSON body: ${error.message}`);
    else if (error?.type === 'entity.too.large') apiError = new ApiError(413, 'PAYLOAD_TOO_LARGE', `Body is ${error.length} bytes; the limit is ${error.limit} bytes`);
    else if (error?.type === 'encoding.unsupported' || error?.type === 'charset.unsupported') apiError = new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', error.message);
    else {
      log('request failed', { method: req.method, path: req.path, error: error instanceof Error ? error.message : String(error) });
      apiError = new ApiError(500, 'INTERNAL', 'Internal error; see the server log');
    }
    res.status(apiError.status).json({ error: { code: apiError.code, message: apiError.message, ...(apiError.details !== undefined && { details: apiError.details }) } });
  };
}
