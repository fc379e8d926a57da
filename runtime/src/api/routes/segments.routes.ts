import { Router } from 'express';
import { z } from 'zod';
import { SegmentCondition, SegmentConflictError, SegmentInput, SegmentInputError, SegmentPatch, type SegmentEngine } from '../../segments/index.js';
import type { Store } from '../../store/index.js';
import { ApiError, validationError } from '../errors.js';

const Preview = z.strictObject({ condition: SegmentCondition, sample: z.number().int().min(0).max(100).optional() });
const Page = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), after: z.string().max(200).optional() });
const ExplainQuery = z.object({ contactId: z.uuid() });

export function segmentsRoutes(store: Store, segments: SegmentEngine): Router {
  const router = Router();

  const known = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof SegmentConflictError) throw new ApiError(409, 'CONFLICT', error.message);
      if (error instanceof SegmentInputError) throw new ApiError(400, 'VALIDATION_FAILED', error.message);
      throw error;
    }
  };
  const segmentOr404 = async (workspaceId: string, id: string) => {
    const segment = await segments.get(workspaceId, id);
    if (!segment) throw new ApiError(404, 'NOT_FOUND', `No segment ${id} in this workspace`);
    return segment;
  };

  // Creating or editing a segment computes it for everyone before answering.
  router.post('/', async (req, res) => {
    const parsed = SegmentInput.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'Segment');
    res.status(201).json({ segment: await known(() => segments.create(req.workspaceId, parsed.data)) });
  });

  router.post('/preview', async (req, res) => {
    const parsed = Preview.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'Preview');
    res.json(await known(() => segments.preview(req.workspaceId, parsed.data.condition, { sample: parsed.data.sample })));
  });

  router.get('/', async (req, res) => {
    res.json({ segments: await segments.list(req.workspaceId) });
  });

  router.get('/:id', async (req, res) => {
    res.json({ segment: await segmentOr404(req.workspaceId, req.params.id) });
  });

  router.put('/:id', async (req, res) => {
    const parsed = SegmentPatch.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'Segment');
    const segment = await known(() => segments.update(req.workspaceId, req.params.id, parsed.data));
    if (!segment) throw new ApiError(404, 'NOT_FOUND', `No segment ${req.params.id} in this workspace`);
    res.json({ segment });
  });

  router.delete('/:id', async (req, res) => {
    if (!(await segments.delete(req.workspaceId, req.params.id))) throw new ApiError(404, 'NOT_FOUND', `No segment ${req.params.id} in this workspace`);
    res.json({ deleted: true });
  });

  router.get('/:id/members', async (req, res) => {
    const segment = await segmentOr404(req.workspaceId, req.params.id);
    const page = Page.safeParse(req.query);
    if (!page.success) throw validationError(page.error, 'Query');
    res.json(await known(() => segments.members(req.workspaceId, segment.id, page.data)));
  });

  /** Why a contact is, or is not, in the segment: the condition tree with each part's result. */
  router.get('/:id/explain', async (req, res) => {
    const segment = await segmentOr404(req.workspaceId, req.params.id);
    const query = ExplainQuery.safeParse(req.query);
    if (!query.success) throw validationError(query.error, 'Query');
    const contact = await store.contacts.get(req.workspaceId, query.data.contactId);
    if (!contact) throw new ApiError(404, 'NOT_FOUND', `No contact ${query.data.contactId} in this workspace`);
    const explanation = await segments.explain(req.workspaceId, segment.condition, contact.id);
    const member = (await segments.membership(req.workspaceId, contact.id)).some((m) => m.segmentId === segment.id);
    res.json({ segmentId: segment.id, contactId: contact.id, member, explanation });
  });

  return router;
}
