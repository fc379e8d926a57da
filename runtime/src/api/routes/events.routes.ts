import { Router } from 'express';
import { UnknownContactError, type EventInput as StoredEvent, type EventWriter } from '../../ingest/event-writer.js';
import { ApiError, validationError } from '../errors.js';
import { EventBatch, EventInput } from '../schemas.js';

export function eventsRoutes(writer: EventWriter): Router {
  const router = Router();

  // One event, or `{ events: [...] }`. The answer comes only after the events are committed.
  router.post('/', async (req, res) => {
    const isBatch = typeof req.body === 'object' && req.body !== null && 'events' in req.body;
    const parsed = isBatch ? EventBatch.safeParse(req.body) : EventInput.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, isBatch ? 'Event batch' : 'Event');
    const inputs = 'events' in parsed.data ? parsed.data.events : [parsed.data];
    const now = new Date();
    const events: StoredEvent[] = inputs.map((e) => ({
      workspaceId: req.workspaceId,
      contact: e.contactId ? { id: e.contactId } : e.externalId ? { externalId: e.externalId } : { email: e.email! },
      name: e.name,
      properties: e.properties,
      occurredAt: e.timestamp ? new Date(e.timestamp) : now,
      idempotencyKey: e.idempotencyKey,
    }));
    try {
      const accepted = await writer.write(events);
      res.status(202).json(isBatch ? { accepted: accepted.length, events: accepted } : accepted[0]);
    } catch (error) {
      if (error instanceof UnknownContactError) throw new ApiError(404, 'NOT_FOUND', error.message, { contactIds: error.contactIds });
      throw error;
    }
  });

  return router;
}
