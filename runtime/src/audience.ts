import type { Knex } from 'knex';
import type { Logger } from './logger.js';
import type { AudienceUpdater, ContactChange, RoutedEvent } from './router/trigger-router.js';
import type { ScoringEngine } from './scoring/index.js';
import type { SegmentEngine } from './segments/index.js';

/**
 * Keeps scores and segment memberships current as events and contact changes are routed:
 * scores first (a segment may test the score), then the segments the change can affect, for
 * the contacts concerned only. Event scoring commits with the routing transaction; attribute
 * rules and segment memberships are state, so evaluating them twice changes nothing.
 */
export class Audience implements AudienceUpdater {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private pending = false;

  constructor(private readonly deps: { segments: SegmentEngine; scoring: ScoringEngine; logger: Logger; deferredPollMs?: number }) {}

  /**
   * Finishes the evaluations put off while a segment was being recomputed: woken when a batch
   * defers some, and every few seconds for those a crashed process left behind.
   */
  start(): void {
    this.running = true;
    this.loop = this.finishDeferred();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async finishDeferred(): Promise<void> {
    while (this.running) {
      let done = 0;
      this.pending = false;
      try {
        done = await this.deps.segments.evaluateDeferred();
      } catch (error) {
        this.deps.logger.error('deferred segment evaluation failed; will retry', { error: (error as Error).message });
      }
      if (done > 0 || !this.running || this.pending) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.deps.deferredPollMs ?? 5000);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  async update({ events, contacts }: { events: RoutedEvent[]; contacts: ContactChange[] }, tx: Knex.Transaction): Promise<void> {
    const { segments, scoring } = this.deps;
    const work = new Map<string, { contactIds: Set<string>; eventNames: Set<string>; attributes: boolean; suppressions: boolean; lists: boolean; scored: Set<string> }>();
    const of = (workspaceId: string) => {
      let w = work.get(workspaceId);
      if (!w) work.set(workspaceId, (w = { contactIds: new Set(), eventNames: new Set(), attributes: false, suppressions: false, lists: false, scored: new Set() }));
      return w;
    };

    for (const event of events) {
      const w = of(event.workspaceId);
      w.contactIds.add(event.contactId);
      w.eventNames.add(event.name);
    }
    // Scored in the routing transaction, one batch per workspace: a batch routed again after a
    // crash was either scored and deleted together, or neither.
    for (const workspaceId of new Set(events.map((e) => e.workspaceId))) {
      const changes = await scoring.applyEvents(workspaceId, events.filter((e) => e.workspaceId === workspaceId), { tx });
      for (const change of changes) if (change.delta !== 0) of(workspaceId).scored.add(change.contactId);
    }
    for (const c of contacts) {
      const w = of(c.workspaceId);
      w.contactIds.add(c.contactId);
      if (c.change === 'attributes') w.attributes = true;
      if (c.change === 'suppressions') w.suppressions = true;
      if (c.change === 'lists') w.lists = true;
    }

    for (const [workspaceId, w] of work) {
      if (w.attributes || w.lists || w.suppressions) {
        const changed = await scoring.applyAttributeRules(workspaceId, [...w.contactIds]);
        for (const c of changed) if (c.delta !== 0) w.scored.add(c.contactId);
      }
      const contactIds = [...w.contactIds];
      // A segment being recomputed in full holds its lock for seconds at scale: rather than
      // stall every journey start behind it, its contacts are recorded (with this batch) and
      // finished as soon as the recompute is done.
      const { deferred } = await segments.evaluateContactsOrDefer(workspaceId, contactIds, {
        eventNames: [...w.eventNames],
        attributes: w.attributes,
        suppressions: w.suppressions,
        // The outbox says a contact's lists changed, not which: any list-based segment may move.
        lists: w.lists ? true : [],
        score: w.scored.size > 0,
      });
      if (deferred.length > 0) {
        await segments.deferEvaluation(tx, deferred, contactIds);
        this.pending = true;
        // After the routing transaction commits the rows are visible; the loop polls meanwhile.
        tx.executionPromise.then(() => this.wake?.(), () => undefined);
      }
    }
  }
}
