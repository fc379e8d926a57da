import type { Knex } from 'knex';

// Migrations live in code (not discovered from a folder) so a bundled or compiled runtime
// carries them wherever it runs. Never edit a published migration: add a new one.
const migrations: Record<string, { up(db: Knex): Promise<void>; down(db: Knex): Promise<void>; config?: { transaction?: boolean } }> = {
  '0001_initial': {
    async up(db) {
      await db.raw('CREATE EXTENSION IF NOT EXISTS pgcrypto');
      await db.schema.createTable('workspaces', (t) => {
        t.uuid('id').primary().defaultTo(db.raw('gen_random_uuid()'));
        t.text('name').notNullable().unique();
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      });
      await db.schema.createTable('api_keys', (t) => {
        t.uuid('id').primary().defaultTo(db.raw('gen_random_uuid()'));
        t.uuid('workspace_id').notNullable().references('workspaces.id').onDelete('CASCADE');
        t.text('key_hash').notNullable().unique();
        t.text('prefix').notNullable();
        t.text('name').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
        t.timestamp('revoked_at', { useTz: true });
      });
      await db.schema.createTable('contacts', (t) => {
        t.uuid('id').primary().defaultTo(db.raw('gen_random_uuid()'));
        t.uuid('workspace_id').notNullable().references('workspaces.id').onDelete('CASCADE');
        t.text('external_id');
        t.text('email');
        t.text('phone');
        t.text('time_zone');
        t.jsonb('attributes').notNullable().defaultTo('{}');
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      });
      await db.raw('CREATE UNIQUE INDEX contacts_external_id ON contacts (workspace_id, external_id) WHERE external_id IS NOT NULL');
      await db.raw('CREATE UNIQUE INDEX contacts_email ON contacts (workspace_id, email) WHERE email IS NOT NULL');

      await db.schema.createTable('events', (t) => {
        t.uuid('id').primary().defaultTo(db.raw('gen_random_uuid()'));
        t.uuid('workspace_id').notNullable().references('workspaces.id').onDelete('CASCADE');
        t.uuid('contact_id').notNullable().references('contacts.id').onDelete('CASCADE');
        t.text('name').notNullable();
        t.jsonb('properties').notNullable().defaultTo('{}');
        t.text('idempotency_key');
        t.timestamp('occurred_at', { useTz: true }).notNullable();
        t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      });
      await db.raw('CREATE UNIQUE INDEX events_idempotency ON events (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL');
      await db.raw('CREATE INDEX events_contact ON events (contact_id, name, occurred_at DESC)');

      // The transactional outbox: written in the same transaction as the event, drained by the
      // trigger router, so a crash between commit and enrolment loses nothing.
      await db.schema.createTable('outbox', (t) => {
        t.bigIncrements('id');
        t.uuid('workspace_id').notNullable();
        t.uuid('event_id').notNullable().references('events.id').onDelete('CASCADE');
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      });

      await db.schema.createTable('credentials', (t) => {
        t.uuid('id').primary().defaultTo(db.raw('gen_random_uuid()'));
        t.uuid('workspace_id').notNullable().references('workspaces.id').onDelete('CASCADE');
        t.text('name').notNullable();
        t.text('type').notNullable();
        t.text('data_encrypted').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
        t.unique(['workspace_id', 'name']);
      });

      await db.schema.createTable('workflows', (t) => {
        t.uuid('id').primary().defaultTo(db.raw('gen_random_uuid()'));
        t.uuid('workspace_id').notNullable().references('workspaces.id').onDelete('CASCADE');
        t.text('name').notNullable();
        t.boolean('active').notNullable().defaultTo(false);
        t.uuid('active_version_id');
        t.integer('latest_version').notNullable().defaultTo(0);
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      });
      // Versions are immutable: a journey finishes on the version it started on.
      await db.schema.createTable('workflow_versions', (t) => {
        t.uuid('id').primary().defaultTo(db.raw('gen_random_uuid()'));
        t.uuid('workflow_id').notNullable().references('workflows.id').onDelete('CASCADE');
        t.uuid('workspace_id').notNullable();
        t.integer('version').notNullable();
        t.jsonb('definition').notNullable();
        t.jsonb('plan').notNullable();
        t.text('trigger_event').notNullable();
        t.boolean('allow_reentry').notNullable().defaultTo(false);
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
        t.unique(['workflow_id', 'version']);
      });
      await db.raw('CREATE INDEX workflows_active ON workflows (workspace_id) WHERE active');

      await db.schema.createTable('journeys', (t) => {
        t.text('id').primary();
        t.uuid('workspace_id').notNullable();
        t.uuid('workflow_id').notNullable();
        t.uuid('version_id').notNullable();
        t.uuid('contact_id').notNullable().references('contacts.id').onDelete('CASCADE');
        t.uuid('entry_event_id');
        t.text('status').notNullable();
        t.text('current_node');
        t.text('error');
        t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
        t.timestamp('finished_at', { useTz: true });
      });
      await db.raw('CREATE INDEX journeys_contact ON journeys (workspace_id, contact_id, started_at DESC)');
      await db.schema.createTable('journey_steps', (t) => {
        t.text('journey_id').notNullable().references('journeys.id').onDelete('CASCADE');
        t.integer('seq').notNullable();
        t.text('node_name').notNullable();
        t.jsonb('output').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
        t.primary(['journey_id', 'seq']);
      });

      await db.schema.createTable('messages', (t) => {
        t.uuid('id').primary();
        t.uuid('workspace_id').notNullable();
        t.uuid('contact_id').references('contacts.id').onDelete('CASCADE');
        t.text('journey_id');
        t.text('node_name');
        t.text('channel').notNullable();
        t.text('recipient');
        t.text('summary');
        t.text('idempotency_key').notNullable().unique();
        t.text('status').notNullable();
        t.text('reason');
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
        t.timestamp('sent_at', { useTz: true });
      });
      await db.raw('CREATE INDEX messages_contact ON messages (workspace_id, contact_id, created_at DESC)');

      await db.schema.createTable('suppressions', (t) => {
        t.uuid('workspace_id').notNullable();
        t.uuid('contact_id').notNullable().references('contacts.id').onDelete('CASCADE');
        t.text('channel').notNullable();
        t.text('reason').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
        t.primary(['workspace_id', 'contact_id', 'channel']);
      });
    },
    async down(db) {
      for (const table of ['suppressions', 'messages', 'journey_steps', 'journeys', 'workflow_versions', 'workflows', 'credentials', 'outbox', 'events', 'contacts', 'api_keys', 'workspaces']) {
        await db.schema.dropTableIfExists(table);
      }
    },
  },
};

const segmentsAndScoring = {
  async up(db: Knex) {
    // System events ($segment_entered, $score_crossed, ...) and contact changes also travel
    // through the outbox, so segments, scores and journeys all see the same committed truth.
    await db.schema.alterTable('outbox', (t) => {
      t.text('kind').notNullable().defaultTo('event');
      t.uuid('contact_id').references('contacts.id').onDelete('CASCADE');
    });
    await db.raw('ALTER TABLE outbox ALTER COLUMN event_id DROP NOT NULL');
    await db.schema.alterTable('workflow_versions', (t) => {
      t.jsonb('trigger_filter').notNullable().defaultTo('{}');
    });
    await db.raw('CREATE INDEX events_name_time ON events (workspace_id, name, occurred_at)');
    await db.raw('CREATE INDEX contacts_attributes ON contacts USING gin (attributes jsonb_path_ops)');

    await db.schema.createTable('segments', (t) => {
      t.uuid('id').primary().defaultTo(db.raw('gen_random_uuid()'));
      t.uuid('workspace_id').notNullable().references('workspaces.id').onDelete('CASCADE');
      t.text('name').notNullable();
      t.text('description');
      t.jsonb('condition').notNullable();
      t.boolean('time_relative').notNullable().defaultTo(false);
      t.integer('member_count').notNullable().defaultTo(0);
      t.timestamp('computed_at', { useTz: true });
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.unique(['workspace_id', 'name']);
    });
    await db.schema.createTable('segment_members', (t) => {
      t.uuid('segment_id').notNullable().references('segments.id').onDelete('CASCADE');
      t.uuid('contact_id').notNullable().references('contacts.id').onDelete('CASCADE');
      t.uuid('workspace_id').notNullable();
      t.timestamp('entered_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.primary(['segment_id', 'contact_id']);
    });
    await db.raw('CREATE INDEX segment_members_contact ON segment_members (contact_id)');
    await db.schema.createTable('segment_transitions', (t) => {
      t.bigIncrements('id');
      t.uuid('workspace_id').notNullable();
      t.uuid('segment_id').notNullable().references('segments.id').onDelete('CASCADE');
      t.uuid('contact_id').notNullable().references('contacts.id').onDelete('CASCADE');
      t.text('kind').notNullable();
      t.timestamp('at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    });
    await db.raw('CREATE INDEX segment_transitions_segment ON segment_transitions (segment_id, at)');
    await db.raw('CREATE INDEX segment_transitions_contact ON segment_transitions (contact_id, at)');

    await db.schema.createTable('lists', (t) => {
      t.uuid('id').primary().defaultTo(db.raw('gen_random_uuid()'));
      t.uuid('workspace_id').notNullable().references('workspaces.id').onDelete('CASCADE');
      t.text('name').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.unique(['workspace_id', 'name']);
    });
    await db.schema.createTable('list_members', (t) => {
      t.uuid('list_id').notNullable().references('lists.id').onDelete('CASCADE');
      t.uuid('contact_id').notNullable().references('contacts.id').onDelete('CASCADE');
      t.timestamp('added_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.primary(['list_id', 'contact_id']);
    });
    await db.raw('CREATE INDEX list_members_contact ON list_members (contact_id)');

    await db.schema.createTable('scoring_settings', (t) => {
      t.uuid('workspace_id').primary().references('workspaces.id').onDelete('CASCADE');
      t.double('half_life_days');
      t.specificType('thresholds', 'double precision[]').notNullable().defaultTo('{}');
    });
    await db.schema.createTable('scoring_rules', (t) => {
      t.uuid('id').primary().defaultTo(db.raw('gen_random_uuid()'));
      t.uuid('workspace_id').notNullable().references('workspaces.id').onDelete('CASCADE');
      t.text('name').notNullable();
      t.jsonb('when').notNullable();
      t.double('points').notNullable();
      t.double('cap_points');
      t.double('cap_period_days');
      t.boolean('active').notNullable().defaultTo(true);
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.unique(['workspace_id', 'name']);
    });
    // The score as of `as_of`; the current score decays from it (half-life per workspace).
    await db.schema.createTable('contact_scores', (t) => {
      t.uuid('contact_id').primary().references('contacts.id').onDelete('CASCADE');
      t.uuid('workspace_id').notNullable();
      t.double('value').notNullable().defaultTo(0);
      t.timestamp('as_of', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.specificType('above', 'double precision[]').notNullable().defaultTo('{}');
    });
    await db.schema.createTable('score_ledger', (t) => {
      t.bigIncrements('id');
      t.uuid('workspace_id').notNullable();
      t.uuid('contact_id').notNullable().references('contacts.id').onDelete('CASCADE');
      t.double('delta').notNullable();
      t.double('score_after').notNullable();
      t.text('source').notNullable();
      t.uuid('rule_id');
      // The event a rule scored: routing may see an event twice after a crash, scoring must not.
      t.uuid('event_id');
      t.text('reason');
      t.timestamp('at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    });
    await db.raw('CREATE INDEX score_ledger_contact ON score_ledger (contact_id, at)');
    await db.raw('CREATE INDEX score_ledger_rule ON score_ledger (rule_id, contact_id, at) WHERE rule_id IS NOT NULL');
    await db.raw('CREATE UNIQUE INDEX score_ledger_event_rule ON score_ledger (rule_id, event_id) WHERE event_id IS NOT NULL');
    await db.schema.createTable('score_rule_matches', (t) => {
      t.uuid('rule_id').notNullable().references('scoring_rules.id').onDelete('CASCADE');
      t.uuid('contact_id').notNullable().references('contacts.id').onDelete('CASCADE');
      t.primary(['rule_id', 'contact_id']);
    });
  },
  async down(db: Knex) {
    for (const table of ['score_rule_matches', 'score_ledger', 'contact_scores', 'scoring_rules', 'scoring_settings', 'list_members', 'lists', 'segment_transitions', 'segment_members', 'segments']) {
      await db.schema.dropTableIfExists(table);
    }
  },
};
migrations['0002_segments_and_scoring'] = segmentsAndScoring;

// Segment conditions count a contact's events by name in a time window. With contact_id carried
// in the (workspace_id, name, occurred_at) index that is an index-only scan instead of one heap
// visit per event (at 10M events a 30-day count drops from ~0.9 s to ~0.1 s). Built
// CONCURRENTLY, outside a transaction, so ingestion keeps writing meanwhile.
migrations['0003_segment_event_index'] = {
  config: { transaction: false },
  async up(db: Knex) {
    // A build interrupted half way leaves an invalid index behind: drop it before retrying.
    await db.raw('DROP INDEX CONCURRENTLY IF EXISTS events_name_time_contact');
    await db.raw('CREATE INDEX CONCURRENTLY events_name_time_contact ON events (workspace_id, name, occurred_at) INCLUDE (contact_id)');
    await db.raw('DROP INDEX CONCURRENTLY IF EXISTS events_name_time');
  },
  async down(db: Knex) {
    await db.raw('CREATE INDEX CONCURRENTLY IF NOT EXISTS events_name_time ON events (workspace_id, name, occurred_at)');
    await db.raw('DROP INDEX CONCURRENTLY IF EXISTS events_name_time_contact');
  },
};

// Erasing a contact deletes its events, and each deleted event looks for its outbox row.
migrations['0004_outbox_event_index'] = {
  async up(db: Knex) {
    await db.raw('CREATE INDEX IF NOT EXISTS outbox_event ON outbox (event_id)');
  },
  async down(db: Knex) {
    await db.raw('DROP INDEX IF EXISTS outbox_event');
  },
};

// Channel addresses beyond email and phone: web push subscriptions and Telegram chats. An
// address is unique in a workspace (one browser subscription, one chat, belongs to one contact).
migrations['0005_contact_addresses'] = {
  async up(db: Knex) {
    await db.schema.createTable('contact_addresses', (t) => {
      t.uuid('workspace_id').notNullable().references('workspaces.id').onDelete('CASCADE');
      t.uuid('contact_id').notNullable().references('contacts.id').onDelete('CASCADE');
      t.text('channel').notNullable();
      t.text('address').notNullable();
      t.jsonb('data').notNullable().defaultTo('{}');
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.primary(['workspace_id', 'channel', 'address']);
      t.index(['contact_id', 'channel']);
    });
  },
  async down(db: Knex) {
    await db.schema.dropTableIfExists('contact_addresses');
  },
};

// Delivery reports from providers (an SMS provider's status callbacks). One row per report, not
// a column on messages: a report may arrive before the send gate commits the message row, and
// out of order; the current status is derived from the reports (see send-gate/delivery-status).
migrations['0006_message_delivery_status'] = {
  async up(db: Knex) {
    await db.schema.createTable('message_delivery_reports', (t) => {
      t.bigIncrements('id');
      t.uuid('workspace_id').notNullable().references('workspaces.id').onDelete('CASCADE');
      t.uuid('contact_id').notNullable().references('contacts.id').onDelete('CASCADE');
      t.uuid('message_id').notNullable();
      t.text('status').notNullable();
      t.text('provider_message_id');
      t.text('error_code');
      t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.index(['message_id', 'received_at']);
    });
  },
  async down(db: Knex) {
    await db.schema.dropTableIfExists('message_delivery_reports');
  },
};

// A manual score change (the "update score" node, the API) may carry an idempotency key: a
// retried journey step or a re-sent request then finds its ledger entry instead of adding twice.
migrations['0008_score_ledger_idempotency'] = {
  async up(db: Knex) {
    await db.schema.alterTable('score_ledger', (t) => {
      t.text('idempotency_key');
    });
    await db.raw('CREATE UNIQUE INDEX score_ledger_idempotency ON score_ledger (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL');
  },
  async down(db: Knex) {
    await db.raw('DROP INDEX IF EXISTS score_ledger_idempotency');
    await db.schema.alterTable('score_ledger', (t) => {
      t.dropColumn('idempotency_key');
    });
  },
};

// Webhook subscriptions: an n8n trigger (or any receiver) asks to be POSTed every committed
// event with a name whose properties contain a filter, as the trigger router matches workflows.
// The signing secret is encrypted like credentials (it must be readable to sign). Deliveries are
// a queue the router fills in its routing transaction and drains outside it, so a slow or dead
// receiver never holds up journey starts; one row per (subscription, event) keeps a re-routed
// event from being queued twice.
migrations['0007_webhook_subscriptions'] = {
  async up(db: Knex) {
    await db.schema.createTable('webhook_subscriptions', (t) => {
      t.uuid('id').primary().defaultTo(db.raw('gen_random_uuid()'));
      t.uuid('workspace_id').notNullable().references('workspaces.id').onDelete('CASCADE');
      t.text('url').notNullable();
      t.text('event').notNullable();
      t.jsonb('properties').notNullable().defaultTo('{}');
      t.text('secret_encrypted').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.index(['workspace_id', 'event']);
    });
    await db.schema.createTable('webhook_deliveries', (t) => {
      t.bigIncrements('id');
      t.uuid('subscription_id').notNullable().references('webhook_subscriptions.id').onDelete('CASCADE');
      // An erased contact takes its events, and their pending deliveries, with it.
      t.uuid('event_id').notNullable().references('events.id').onDelete('CASCADE');
      t.integer('attempts').notNullable().defaultTo(0);
      t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.text('last_error');
      t.timestamp('given_up_at', { useTz: true });
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.unique(['subscription_id', 'event_id']);
    });
    await db.raw('CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE given_up_at IS NULL');
    await db.raw('CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id)');
  },
  async down(db: Knex) {
    await db.schema.dropTableIfExists('webhook_deliveries');
    await db.schema.dropTableIfExists('webhook_subscriptions');
  },
};

// Contacts whose evaluation against a segment was put off because a full recompute held the
// segment's lock: the router moves on and finishes them when the lock is free (and after a crash).
migrations['0009_segment_deferred'] = {
  async up(db: Knex) {
    await db.schema.createTable('segment_deferred', (t) => {
      t.uuid('segment_id').notNullable().references('segments.id').onDelete('CASCADE');
      t.uuid('contact_id').notNullable().references('contacts.id').onDelete('CASCADE');
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.primary(['segment_id', 'contact_id']);
    });
  },
  async down(db: Knex) {
    await db.schema.dropTableIfExists('segment_deferred');
  },
};

// Email templates by reference. A template keeps every version (an edit adds one); the
// template row points at the latest. A journey records the version it first rendered, so a
// retried step or a later email of the same journey is not changed by an edit mid-flight.
migrations['0010_email_templates'] = {
  async up(db: Knex) {
    await db.schema.createTable('templates', (t) => {
      t.uuid('id').primary().defaultTo(db.raw('gen_random_uuid()'));
      t.uuid('workspace_id').notNullable().references('workspaces.id').onDelete('CASCADE');
      t.text('name').notNullable();
      t.integer('version').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.unique(['workspace_id', 'name']);
    });
    await db.schema.createTable('template_versions', (t) => {
      t.uuid('template_id').notNullable().references('templates.id').onDelete('CASCADE');
      t.integer('version').notNullable();
      t.text('subject').notNullable();
      t.text('mjml').notNullable();
      t.text('text');
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.primary(['template_id', 'version']);
    });
    await db.schema.createTable('journey_templates', (t) => {
      t.text('journey_id').notNullable().references('journeys.id').onDelete('CASCADE');
      t.uuid('template_id').notNullable().references('templates.id').onDelete('CASCADE');
      t.integer('version').notNullable();
      t.primary(['journey_id', 'template_id']);
      t.index(['template_id']);
    });
  },
  async down(db: Knex) {
    await db.schema.dropTableIfExists('journey_templates');
    await db.schema.dropTableIfExists('template_versions');
    await db.schema.dropTableIfExists('templates');
  },
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name]!,
};
