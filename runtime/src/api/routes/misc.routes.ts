import { Router } from 'express';
import type { Store } from '../../store/index.js';
import { validationError } from '../errors.js';
import { CredentialInput, MessagesQuery } from '../schemas.js';

export function credentialsRoutes(store: Store): Router {
  const router = Router();
  // The data goes in, never out: responses carry id, name and type only.
  router.post('/', async (req, res) => {
    const parsed = CredentialInput.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'Credential');
    res.status(201).json({ credential: await store.credentials.put(req.workspaceId, parsed.data) });
  });
  router.get('/', async (req, res) => {
    res.json({ credentials: await store.credentials.list(req.workspaceId) });
  });
  return router;
}

export function messagesRoutes(store: Store): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const parsed = MessagesQuery.safeParse(req.query);
    if (!parsed.success) throw validationError(parsed.error, 'Query');
    res.json({ messages: await store.messages.list(req.workspaceId, parsed.data) });
  });
  return router;
}
