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
  constructor(private readonly deps: { segments: SegmentEngine; scoring: ScoringEngine; logger: Logger }) {}

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
      await segments.evaluateContacts(workspaceId, contactIds, {
        eventNames: [...w.eventNames],
        attributes: w.attributes,
        suppressions: w.suppressions,
        // The outbox says a contact's lists changed, not which: any list-based segment may move.
        lists: w.lists ? true : [],
        score: w.scored.size > 0,
      });
    }
  }
}
