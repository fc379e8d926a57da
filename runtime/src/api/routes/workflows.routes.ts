import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { parseWorkflowJson, validateWorkflow, type N8nNode, type N8nWorkflow } from '../../flow/index.js';
import type { NodeRegistry } from '../../nodes/registry.js';
import { ScheduleSpecError, type WorkflowSchedules } from '../../schedules/workflow-schedules.js';
import type { Store } from '../../store/index.js';
import { ApiError } from '../errors.js';

export function workflowsRoutes(store: Store, registry: NodeRegistry, schedules?: WorkflowSchedules): Router {
  const router = Router();

  /**
   * After a workflow's active state or version changed: its Temporal Schedule follows. A
   * schedule Temporal refuses leaves the workflow inactive, with a 400 saying why.
   */
  const syncSchedule = async (workspaceId: string, workflowId: string) => {
    if (!schedules) return;
    try {
      await schedules.sync(workspaceId, workflowId);
    } catch (error) {
      if (!(error instanceof ScheduleSpecError)) throw error;
      await store.workflows.setActive(workspaceId, workflowId, false);
      throw new ApiError(400, 'WORKFLOW_INVALID', `${error.message}; the workflow was left inactive`);
    }
  };

  /** Validates a workflow JSON for this workspace; throws a 400 listing every problem. */
  const check = async (workspaceId: string, body: unknown) => {
    const parsed = parseWorkflowJson(body);
    if (!parsed.ok) throw new ApiError(400, 'WORKFLOW_INVALID', `Workflow JSON is invalid: ${parsed.problems.join('; ')}`, { problems: parsed.problems });
    const { workflow } = parsed;
    const { problems, plan } = validateWorkflow(workflow, registry);
    problems.push(...(await credentialProblems(store, workspaceId, workflow)));
    const trigger = plan ? workflow.nodes.find((n) => n.name === plan.trigger) : undefined;
    const subscription = trigger ? subscribe(registry, trigger, problems) : undefined;
    if (problems.length > 0 || !plan || !subscription) {
      throw new ApiError(400, 'WORKFLOW_INVALID', `Workflow "${workflow.name}" cannot be deployed: ${problems.join('; ')}`, { problems });
    }
    return { workflow, plan, subscription };
  };

  const wantsActive = (query: unknown, workflow: N8nWorkflow) => (query as { activate?: string }).activate === 'true' || workflow.active === true;

  router.post('/', async (req, res) => {
    const { workflow, plan, subscription } = await check(req.workspaceId, req.body);
    const saved = await store.workflows.addVersion(req.workspaceId, { name: workflow.name, definition: workflow, plan, ...subscription });
    const summary = wantsActive(req.query, workflow) ? await store.workflows.setActive(req.workspaceId, saved!.workflow.id, true) : saved!.workflow;
    if (summary?.active) await syncSchedule(req.workspaceId, saved!.workflow.id);
    res.status(201).json({ workflow: summary, version: { id: saved!.version.id, version: saved!.version.version, triggerEvent: subscription.triggerEvent, triggerFilter: subscription.triggerFilter } });
  });

  router.put('/:id', async (req, res) => {
    const { workflow, plan, subscription } = await check(req.workspaceId, req.body);
    const saved = await store.workflows.addVersion(req.workspaceId, { name: workflow.name, definition: workflow, plan, ...subscription }, req.params.id);
    if (!saved) throw new ApiError(404, 'NOT_FOUND', `No workflow ${req.params.id} in this workspace`);
    if (saved.workflow.active) await syncSchedule(req.workspaceId, saved.workflow.id);
    res.json({ workflow: saved.workflow, version: { id: saved.version.id, version: saved.version.version, triggerEvent: subscription.triggerEvent, triggerFilter: subscription.triggerFilter } });
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
      const updated = await store.workflows.setActive(req.workspaceId, workflow.id, active);
      await syncSchedule(req.workspaceId, workflow.id);
      res.json({ workflow: updated });
    });
  }

  return router;
}

/** Asks the trigger node which events enrol a contact, from its literal parameters. */
function subscribe(registry: NodeRegistry, trigger: N8nNode, problems: string[]) {
  const spec = registry.get(trigger.type)?.definition.trigger;
  if (!spec) {
    problems.push(`"${trigger.name}": ${trigger.type} does not say which events it listens to`);
    return undefined;
  }
  const parameters = trigger.parameters ?? {};
  const expressions = Object.entries(parameters).filter(([, v]) => typeof v === 'string' && v.startsWith('='));
  if (expressions.length > 0) {
    problems.push(`"${trigger.name}": trigger parameters must be fixed values, not expressions (${expressions.map(([k]) => k).join(', ')})`);
    return undefined;
  }
  const result = spec.subscribe(parameters);
  if (typeof result === 'string') {
    problems.push(`"${trigger.name}": ${result}`);
    return undefined;
  }
  // A schedule's ticks are events only this version listens to: its filter is a fresh key the
  // tick copies into each event's properties.
  const triggerFilter = result.schedule ? { scheduleId: randomUUID() } : (result.properties ?? {});
  return { triggerEvent: result.event, triggerFilter, allowReentry: result.allowReentry === true };
}

const CAMPAIGN_API_CREDENTIAL = 'campaignOsApi';

async function credentialProblems(store: Store, workspaceId: string, workflow: N8nWorkflow): Promise<string[]> {
  const problems: string[] = [];
  for (const node of workflow.nodes) {
    for (const [type, ref] of Object.entries(node.credentials ?? {})) {
      // How a node reaches CampaignOS from inside n8n; the runtime serves it in process.
      if (type === CAMPAIGN_API_CREDENTIAL) continue;
      const found = await store.credentials.find(workspaceId, ref);
      if (!found) problems.push(`"${node.name}": credentials "${ref.name}" (${type}) do not exist in this workspace; create them with POST /v1/credentials`);
      else if (found.type !== type) problems.push(`"${node.name}": credentials "${ref.name}" are of type ${found.type}, the node needs ${type}`);
    }
  }
  return problems;
}
