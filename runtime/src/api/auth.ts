import type { RequestHandler } from 'express';
import type { Store } from '../store/index.js';
import { ApiError } from './errors.js';

declare module 'express-serve-static-core' {
  interface Request {
    workspaceId: string;
  }
}

/** Bearer API keys, hashed in the store; resolved keys are cached briefly to keep ingestion fast. */
export function requireApiKey(store: Store): RequestHandler {
  const cache = new Map<string, { workspaceId: string | null; until: number }>();
  return async (req, _res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return next(new ApiError(401, 'UNAUTHORIZED', 'Missing API key: send "Authorization: Bearer <key>"'));
    const key = match[1]!;
    let entry = cache.get(key);
    if (!entry || entry.until < Date.now()) {
      entry = { workspaceId: await store.workspaces.workspaceForKey(key), until: Date.now() + 10_000 };
      if (cache.size > 10_000) cache.clear();
      cache.set(key, entry);
    }
    if (!entry.workspaceId) return next(new ApiError(401, 'UNAUTHORIZED', 'Invalid or revoked API key'));
    req.workspaceId = entry.workspaceId;
    next();
  };
}
