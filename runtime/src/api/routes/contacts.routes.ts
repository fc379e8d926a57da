import { Router } from 'express';
import type { SegmentEngine } from '../../segments/index.js';
import { ContactConflictError, type Store } from '../../store/index.js';
import { ApiError, validationError } from '../errors.js';
import { ContactInput } from '../schemas.js';

export function contactsRoutes(store: Store, segments: SegmentEngine): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    const parsed = ContactInput.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'Contact');
    try {
      const { contact, created } = await store.contacts.upsert(req.workspaceId, parsed.data);
      res.status(created ? 201 : 200).json({ contact, created });
    } catch (error) {
      if (error instanceof ContactConflictError) throw new ApiError(409, 'CONFLICT', error.message);
      throw error;
    }
  });

  router.get('/:id', async (req, res) => {
    const contact = await store.contacts.get(req.workspaceId, req.params.id);
    if (!contact) throw new ApiError(404, 'NOT_FOUND', `No contact ${req.params.id} in this workspace`);
    const suppressions = await store.messages.suppressions(req.workspaceId, contact.id);
    res.json({ contact, suppressions });
  });

  router.delete('/:id', async (req, res) => {
    const erased = await store.contacts.erase(req.workspaceId, req.params.id);
    if (!erased) throw new ApiError(404, 'NOT_FOUND', `No contact ${req.params.id} in this workspace`);
    res.json({ erased: true, note: 'contact, events, journeys and messages were deleted; running journeys end at their next step' });
  });

  router.get('/:id/journeys', async (req, res) => {
    const contact = await store.contacts.get(req.workspaceId, req.params.id);
    if (!contact) throw new ApiError(404, 'NOT_FOUND', `No contact ${req.params.id} in this workspace`);
    res.json({ journeys: await store.journeys.forContact(req.workspaceId, contact.id) });
  });

  router.get('/:id/segments', async (req, res) => {
    const contact = await store.contacts.get(req.workspaceId, req.params.id);
    if (!contact) throw new ApiError(404, 'NOT_FOUND', `No contact ${req.params.id} in this workspace`);
    res.json({ segments: await segments.membership(req.workspaceId, contact.id) });
  });

  return router;
}
