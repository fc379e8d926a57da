import { Router } from 'express';
import { parseWorkflowJson, validateWorkflow, type N8nWorkflow } from '../../flow/index.js';
import type { NodeRegistry } from '../../nodes/registry.js';
import type { Store } from '../../store/index.js';
import { ApiError } from '../errors.js';

export function workflowsRoutes(store: Store, registry: NodeRegistry): Router {
  const router = Router();

  /** Validates a workflow JSON for this workspace; throws a 400 listing every problem. */
  const check = async (workspaceId: string, body: unknown) => {
    const parsed = parseWorkflowJson(body);
    if (!parsed.ok) throw new ApiError(400, 'WORKFLOW_INVALID', `Workflow JSON is invalid: ${parsed.problems.join('; ')}`, { problems: parsed.problems });
    const { workflow } = parsed;
    const { problems, plan } = validateWorkflow(workflow, registry);
    problems.push(...(await credentialProblems(store, workspaceId, workflow)));
    const trigger = plan ? workflow.nodes.find((n) => n.name === plan.trigger) : undefined;
    const triggerEvent = trigger?.parameters?.event;
    if (trigger && (typeof triggerEvent !== 'string' || triggerEvent.startsWith('='))) {
      problems.push(`"${trigger.name}": the event name must be a fixed string, not an expression`);
    }
    if (problems.length > 0 || !plan || !trigger) {
      throw new ApiError(400, 'WORKFLOW_INVALID', `Workflow "${workflow.name}" cannot be deployed: ${problems.join('; ')}`, { problems });
    }
    return { workflow, plan, triggerEvent: triggerEvent as string, allowReentry: trigger.parameters?.allowReentry === true };
  };

  const wantsActive = (query: unknown, workflow: N8nWorkflow) => (query as { activate?: string }).activate === 'true' || workflow.active === true;

  router.post('/', async (req, res) => {
    const { workflow, plan, triggerEvent, allowReentry } = await check(req.workspaceId, req.body);
    const saved = await store.workflows.addVersion(req.workspaceId, { name: workflow.name, definition: workflow, plan, triggerEvent, allowReentry });
    const summary = wantsActive(req.query, workflow) ? await store.workflows.setActive(req.workspaceId, saved!.workflow.id, true) : saved!.workflow;
    res.status(201).json({ workflow: summary, version: { id: saved!.version.id, version: saved!.version.version, triggerEvent } });
  });

  router.put('/:id', async (req, res) => {
    const { workflow, plan, triggerEvent, allowReentry } = await check(req.workspaceId, req.body);
    const saved = await store.workflows.addVersion(req.workspaceId, { name: workflow.name, definition: workflow, plan, triggerEvent, allowReentry }, req.params.id);
    if (!saved) throw new ApiError(404, 'NOT_FOUND', `No workflow ${req.params.id} in this workspace`);
    res.json({ workflow: saved.workflow, version: { id: saved.version.id, version: saved.version.version, triggerEvent } });
  });

  router.get('/', async (req, res) => {
    res.json({ workflows: await store.workflows.list(req.workspaceId) });
  });

  router.get('/:id', async (req, res) => {
    const workflow = await store.workflows.get(req.workspaceId, req.params.id);
    if (!workflow) throw new ApiError(404, 'NOT_FOUND', `No workflow ${req.params.id} in this workspace`);
    res.json({ workflow });
  });

  for (const [action, active] of [['activate', true], ['deactivate', false]] as const) {
    router.post(`/:id/${action}`, async (req, res) => {
      const workflow = await store.workflows.get(req.workspaceId, req.params.id);
      if (!workflow) throw new ApiError(404, 'NOT_FOUND', `No workflow ${req.params.id} in this workspace`);
      res.json({ workflow: await store.workflows.setActive(req.workspaceId, workflow.id, active) });
    });
  }

  return router;
}

async function credentialProblems(store: Store, workspaceId: string, workflow: N8nWorkflow): Promise<string[]> {
  const problems: string[] = [];
  for (const node of workflow.nodes) {
    for (const [type, ref] of Object.entries(node.credentials ?? {})) {
      const found = await store.credentials.find(workspaceId, ref);
      if (!found) problems.push(`"${node.name}": credentials "${ref.name}" (${type}) do not exist in this workspace; create them with POST /v1/credentials`);
      else if (found.type !== type) problems.push(`"${node.name}": credentials "${ref.name}" are of type ${found.type}, the node needs ${type}`);
    }
  }
  return problems;
}
