import { ApplicationFailure } from '@temporalio/common';
import { isNodeError, NodeError, type NodeItem } from '@campaignos/sdk';
import { resolveWait, runControlNode, WorkflowExpressions, type JourneyRunData, type N8nNode, type N8nWorkflow } from '../flow/index.js';
import type { JourneyPlan, StepInputRef, StepResult, WaitResult } from '../journey/journey.types.js';
import type { Logger } from '../logger.js';
import type { NodeRegistry } from '../nodes/registry.js';
import type { ScoringEngine } from '../scoring/index.js';
import type { SegmentEngine } from '../segments/index.js';
import type { SendGate } from '../send-gate/send-gate.js';
import type { Contact, JourneyStatus, JourneyStep, Store } from '../store/index.js';
import { createRuntimeContext } from './runtime-context.js';

export interface StepRequest {
  journeyId: string;
  workspaceId: string;
  versionId: string;
  contactId: string;
  entryEventId: string;
  node: string;
  seq: number;
  input: StepInputRef | null;
}

export interface ActivityDeps {
  store: Store;
  registry: NodeRegistry;
  sendGate: SendGate;
  /** Segment membership and inline conditions, for segment filter nodes. */
  segments: SegmentEngine;
  /** Score changes with a ledger, for the update score node. */
  scoring: ScoringEngine;
  logger: Logger;
}

interface LoadedVersion {
  workflow: N8nWorkflow;
  plan: JourneyPlan;
  nodes: Map<string, N8nNode>;
  expressions: WorkflowExpressions;
}

/** The journey activities, built around their dependencies (the worker passes real ones, tests may pass others). */
export function createActivities({ store, registry, sendGate, segments, scoring, logger }: ActivityDeps) {
  // Versions are immutable, so a parsed version (and its expression engine) is cached for good.
  const versions = new Map<string, Promise<LoadedVersion>>();
  const loadVersion = (versionId: string): Promise<LoadedVersion> => {
    let loaded = versions.get(versionId);
    if (!loaded) {
      loaded = (async () => {
        const version = await store.workflows.version(versionId);
        if (!version) throw ApplicationFailure.nonRetryable(`workflow version ${versionId} does not exist`, 'VersionNotFound');
        const workflow = version.definition as N8nWorkflow;
        return {
          workflow,
          plan: version.plan as JourneyPlan,
          nodes: new Map(workflow.nodes.map((n) => [n.name, n])),
          expressions: new WorkflowExpressions(workflow, registry),
        };
      })();
      loaded.catch(() => versions.delete(versionId));
      versions.set(versionId, loaded);
    }
    return loaded;
  };

  /** Everything a step needs: the version, the contact, its input items and earlier outputs. */
  const prepare = async (request: StepRequest) => {
    const [version, contact, steps] = await Promise.all([
      loadVersion(request.versionId),
      store.contacts.get(request.workspaceId, request.contactId),
      store.journeys.steps(request.journeyId),
    ]);
    const node = version.nodes.get(request.node);
    if (!node) throw ApplicationFailure.nonRetryable(`node "${request.node}" is not in version ${request.versionId}`, 'PlanError');
    const source = request.input ? steps.find((s) => s.seq === request.input!.seq) : undefined;
    // Tell the expression engine exactly which node fed this one (`$input`, `.item` pairing).
    const inputFrom = source ? { [node.name]: { node: source.nodeName, output: request.input!.output } } : undefined;
    return { version, contact, node, items: inputItems(steps, request.input), runData: runDataBefore(steps, request.seq), inputFrom };
  };

  const save = async (request: StepRequest, output: NodeItem[][]): Promise<StepResult> => {
    await store.journeys.saveStep(request.journeyId, { seq: request.seq, nodeName: request.node, output });
    return { outputsWithItems: output.map((items) => items.length > 0) };
  };

  return {
    async loadPlan({ versionId }: { versionId: string }): Promise<JourneyPlan> {
      return (await loadVersion(versionId)).plan;
    },

    async runControlStep(request: StepRequest): Promise<StepResult> {
      const { version, contact, node, items, runData, inputFrom } = await prepare(request);
      if (!contact) return { outputsWithItems: [], contactGone: true };
      const planNode = version.plan.nodes[request.node]!;
      if (planNode.kind === 'trigger') {
        await store.journeys.markStarted(request.journeyId);
        return save(request, [[await enrolmentItem(store, request, contact)]]);
      }
      if (planNode.disabled) return save(request, [items]);
      const output = withStepErrors(node, () =>
        runControlNode({
          node,
          items,
          resolve: (value, itemIndex) => version.expressions.resolveParameter({ nodeName: node.name, value, items, itemIndex, runData, inputFrom }),
        }),
      );
      return save(request, output);
    },

    async prepareWait(request: StepRequest): Promise<WaitResult> {
      const { version, contact, node, items, runData, inputFrom } = await prepare(request);
      if (!contact) return { sleepMs: 0, contactGone: true };
      await save(request, [items]);
      if (version.plan.nodes[request.node]!.disabled || items.length === 0) return { sleepMs: 0 };
      const wait = withStepErrors(node, () =>
        resolveWait({
          node,
          item: items[0]!,
          resolve: (value, itemIndex) => version.expressions.resolveParameter({ nodeName: node.name, value, items, itemIndex, runData, inputFrom }),
          now: new Date(),
          timeZone: contact.timeZone ?? version.expressions.timeZone,
        }),
      );
      return { sleepMs: wait.ms };
    },

    async runActionStep(request: StepRequest): Promise<StepResult> {
      const { version, contact, node, items, runData, inputFrom } = await prepare(request);
      if (!contact) return { outputsWithItems: [], contactGone: true };
      if (version.plan.nodes[request.node]!.disabled) return save(request, [items]);
      const registered = registry.get(node.type);
      if (!registered) throw ApplicationFailure.nonRetryable(`node type ${node.type} is not installed in this runtime`, 'UNSUPPORTED_HOST');
      const ctx = createRuntimeContext({
        node,
        registered,
        items,
        runData,
        inputFrom,
        expressions: version.expressions,
        contact,
        origin: { workspaceId: request.workspaceId, contactId: request.contactId, journeyId: request.journeyId, nodeName: node.name, stepSeq: request.seq },
        workflowName: version.workflow.name,
        store,
        sendGate,
        segments,
        scoring,
        logger,
      });
      try {
        return await save(request, await registered.definition.execute(ctx));
      } catch (error) {
        throw toActivityFailure(node, error);
      }
    },

    async markJourney({ journeyId, status, error }: { journeyId: string; status: JourneyStatus; error: string | null }): Promise<void> {
      await store.journeys.setStatus(journeyId, status, { error });
    },
  };
}

export type JourneyActivities = ReturnType<typeof createActivities>;

function inputItems(steps: JourneyStep[], input: StepInputRef | null): NodeItem[] {
  if (!input) return [];
  const step = steps.find((s) => s.seq === input.seq);
  return step?.output[input.output] ?? [];
}

/** Each node's latest output before this step: what `$('Node')` sees in expressions. */
function runDataBefore(steps: JourneyStep[], seq: number): JourneyRunData {
  const runData: JourneyRunData = {};
  for (const step of steps) if (step.seq < seq) runData[step.nodeName] = step.output;
  return runData;
}

async function enrolmentItem(store: Store, request: StepRequest, contact: Contact): Promise<NodeItem> {
  const event = await store.db('events').where({ id: request.entryEventId, workspace_id: request.workspaceId }).first('id', 'name', 'properties', 'occurred_at');
  return {
    json: {
      event: event ? { id: event.id, name: event.name, properties: event.properties, timestamp: (event.occurred_at as Date).toISOString() } : null,
      contact: { id: contact.id, externalId: contact.externalId, email: contact.email, phone: contact.phone, timeZone: contact.timeZone, attributes: contact.attributes },
    },
  };
}

function withStepErrors<T>(node: N8nNode, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw toActivityFailure(node, error);
  }
}

/** Node errors become Temporal failures: retryable ones are retried with backoff, the rest fail the journey. */
const MAX_RETRY_AFTER_MS = 15 * 60_000;

function toActivityFailure(node: N8nNode, error: unknown): Error {
  if (error instanceof ApplicationFailure) return error;
  // Errors with a system or SQLSTATE code come from infrastructure (a dropped connection, a
  // deadlock): worth retrying. Anything else a node throws without a code is a bug: fail fast.
  const infrastructure = !isNodeError(error) && typeof (error as { code?: unknown } | null)?.code === 'string';
  const nodeError = isNodeError(error)
    ? error
    : new NodeError('INTERNAL', error instanceof Error ? error.message : String(error), { retryable: infrastructure });
  const message = `${node.name}: ${nodeError.message}`;
  if (!nodeError.retryable) return ApplicationFailure.nonRetryable(message, nodeError.code);
  // A provider's Retry-After replaces the backoff for the next attempt, within reason: a
  // journey step should not sleep for days because a header said so.
  const retryAfterMs = nodeError.retryAfterMs === undefined ? undefined : Math.min(nodeError.retryAfterMs, MAX_RETRY_AFTER_MS);
  return ApplicationFailure.create({ message, type: nodeError.code, nonRetryable: false, ...(retryAfterMs !== undefined && { nextRetryDelay: retryAfterMs }) });
}
