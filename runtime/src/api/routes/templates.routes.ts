import { compileEmail } from '@campaignos/n8n-nodes-email';
import { isNodeError } from '@campaignos/sdk';
import { Router } from 'express';
import { z } from 'zod';
import { TemplateNameTakenError, type EmailTemplateContent, type Store } from '../../store/index.js';
import { ApiError, validationError } from '../errors.js';

const Content = {
  subject: z.string().trim().min(1).max(1000),
  mjml: z.string().min(1).max(500_000),
  text: z.string().max(500_000).optional(),
};
const Name = z.string().trim().min(1).max(200).refine((n) => !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(n), 'a name may not look like an id');

export const TemplateInput = z.object({ name: Name, ...Content }).strict();
export type TemplateInput = z.infer<typeof TemplateInput>;
export const TemplateUpdate = z.object({ name: Name.optional(), ...Content }).strict();
export type TemplateUpdate = z.infer<typeof TemplateUpdate>;
const VersionQuery = z.object({ version: z.coerce.number().int().min(1).optional() });

/**
 * Stored email templates: `POST /` creates version 1, `PUT /:id` adds a version, `GET /:idOrName`
 * reads the latest (or `?version=N`). A template is compiled with the email node's own renderer
 * before it is saved, so one that would fail to send is refused here instead.
 */
export function templatesRoutes(store: Store): Router {
  const router = Router();

  const notFound = (ref: string) => new ApiError(404, 'NOT_FOUND', `No template "${ref}" in this workspace`);

  router.post('/', async (req, res) => {
    const parsed = TemplateInput.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'Template');
    const { name, ...content } = parsed.data;
    await checkCompiles(content);
    try {
      res.status(201).json({ template: await store.templates.create(req.workspaceId, name, content) });
    } catch (error) {
      if (error instanceof TemplateNameTakenError) throw new ApiError(409, 'CONFLICT', error.message);
      throw error;
    }
  });

  router.get('/', async (req, res) => {
    res.json({ templates: await store.templates.list(req.workspaceId) });
  });

  router.get('/:idOrName', async (req, res) => {
    const query = VersionQuery.safeParse(req.query);
    if (!query.success) throw validationError(query.error, 'Query');
    const template = await store.templates.get(req.workspaceId, req.params.idOrName, query.data.version);
    if (!template) throw notFound(req.params.idOrName + (query.data.version ? ` version ${query.data.version}` : ''));
    res.json({ template });
  });

  router.get('/:idOrName/versions', async (req, res) => {
    const versions = await store.templates.history(req.workspaceId, req.params.idOrName);
    if (!versions) throw notFound(req.params.idOrName);
    res.json({ versions });
  });

  router.put('/:id', async (req, res) => {
    const parsed = TemplateUpdate.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'Template');
    const { name, ...content } = parsed.data;
    await checkCompiles(content);
    try {
      const template = await store.templates.update(req.workspaceId, req.params.id, { ...content, ...(name !== undefined && { name }) });
      if (!template) throw notFound(req.params.id);
      res.json({ template });
    } catch (error) {
      if (error instanceof TemplateNameTakenError) throw new ApiError(409, 'CONFLICT', error.message);
      throw error;
    }
  });

  router.delete('/:idOrName', async (req, res) => {
    const template = await store.templates.get(req.workspaceId, req.params.idOrName);
    if (!template || !(await store.templates.remove(req.workspaceId, template.id))) throw notFound(req.params.idOrName);
    res.json({ deleted: true });
  });

  return router;
}

/** Compiles the template as a journey would (with its unsubscribe footer); a failure is a 400 naming the line. */
async function checkCompiles(content: EmailTemplateContent): Promise<void> {
  try {
    await compileEmail(content, { unsubscribeFooter: true });
  } catch (error) {
    if (!isNodeError(error)) throw error;
    throw new ApiError(400, 'VALIDATION_FAILED', `Template does not compile: ${error.message}`, { code: error.code });
  }
}
