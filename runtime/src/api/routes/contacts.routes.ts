import { Router } from 'express';
import { z } from 'zod';
import { SegmentInputError, type SegmentEngine } from '../../segments/index.js';
import { ContactConflictError, type Store } from '../../store/index.js';
import { ApiError, validationError } from '../errors.js';
import { ContactInput } from '../schemas.js';

const Lookup = z
  .strictObject({ email: z.string().min(1).max(320).optional(), externalId: z.string().min(1).max(200).optional() })
  .refine((q) => (q.email === undefined) !== (q.externalId === undefined), 'give ?email= or ?externalId= (one of them)');
const SegmentCheck = z.strictObject({ condition: z.unknown() }).refine((b) => b.condition !== undefined, 'give the condition to check');

export function contactsRoutes(store: Store, segments: SegmentEngine): Router {
  const router = Router();

  /** Finds a contact by its email or external id: `{ contacts: [] }` or one contact. */
  router.get('/', async (req, res) => {
    const parsed = Lookup.safeParse(req.query);
    if (!parsed.success) throw validationError(parsed.error, 'Query');
    const where = parsed.data.email !== undefined ? { email: parsed.data.email.trim().toLowerCase() } : { external_id: parsed.data.externalId };
    const row = await store.db('contacts').where({ workspace_id: req.workspaceId, ...where }).first('id');
    const contact = row ? await store.contacts.get(req.workspaceId, row.id as string) : null;
    res.json({ contacts: contact ? [contact] : [] });
  });

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

  /** Whether the contact matches an inline segment condition now; nothing is stored. */
  router.post('/:id/segment-check', async (req, res) => {
    const parsed = SegmentCheck.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'Segment check');
    const contact = await store.contacts.get(req.workspaceId, req.params.id);
    if (!contact) throw new ApiError(404, 'NOT_FOUND', `No contact ${req.params.id} in this workspace`);
    try {
      res.json({ matches: await segments.matches(req.workspaceId, contact.id, parsed.data.condition) });
    } catch (error) {
      if (error instanceof SegmentInputError) throw new ApiError(400, 'VALIDATION_FAILED', `Segment condition: ${error.message}`);
      throw error;
    }
  });

  return router;
}
