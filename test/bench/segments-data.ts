// The data set `npm run bench:segments` measures on: contacts, events, scores, streamed into a
// migrated database with COPY ... FROM STDIN (FORMAT binary) through pg's own client.
// pg-copy-streams is not a dependency: a small `pg.Query` subclass answers the server's
// CopyInResponse and writes CopyData messages with back-pressure. Binary rows cost the generator
// no string formatting of ids and times (the text format's toISOString alone was ~40% of it) and
// spare the server parsing them.
//
// Distributions (seeded, so two runs measure the same data):
//   contacts  plan free 70% / pro 22% / enterprise 8%; country from 12, skewed; signupAt over the
//             last 3 years, more recent more likely; a first name; a time zone from the country
//   events    10 names, skewed (page_viewed 40% ... subscription_upgraded 1.5%), over the last 180
//             days with volume growing over time, written day by day (rows land in time order, as
//             they do in production); who does them is skewed: the most active 1% of contacts do
//             ~16% of events, half the contacts do ~24%; properties per name
//   scores    ~30% of contacts, exponential values (mean 25), stored at a time in the last 90 days
//             and decaying with the workspace's half-life
import { randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import pg from 'pg';
import { log } from './harness.js';

// ---------------------------------------------------------------------------------------------
// COPY FROM STDIN on a plain pg.Client

interface CopyConnection {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: NodeJS.WritableStream & { writableNeedDrain?: boolean };
}

/** A query whose input is `source` (COPY data chunks); resolves with the rows copied. */
class CopyFromStdin extends pg.Query {
  constructor(
    text: string,
    private readonly source: Iterable<Buffer>,
    callback: (error: Error | null, result?: pg.QueryResult) => void,
  ) {
    super(text, undefined, callback as never);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    void (async () => {
      try {
        for (const chunk of this.source) {
          connection.sendCopyFromChunk(chunk);
          if (connection.stream.writableNeedDrain) await once(connection.stream, 'drain');
        }
        connection.endCopyFrom();
      } catch (error) {
        connection.sendCopyFail(`the bench's row generator failed: ${(error as Error).message}`);
      }
    })();
  }
}

/** Runs `COPY table (columns) FROM STDIN (FORMAT binary)` with `source`'s chunks (see BinaryRows). */
export function copyFrom(client: pg.Client, table: string, columns: string[], source: Iterable<Buffer>): Promise<number> {
  return new Promise((resolve, reject) => {
    const query = new CopyFromStdin(`COPY ${table} (${columns.join(', ')}) FROM STDIN (FORMAT binary)`, source, (error, result) =>
      error ? reject(error) : resolve(result?.rowCount ?? 0),
    );
    void client.query(query as never);
  });
}

// ---------------------------------------------------------------------------------------------
// Random numbers (sfc32: fast, seedable)

export function prng(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed | 1;
  const next = () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

/** Picks from `values` with the given weights (any scale). */
function weighted<T>(entries: Array<[T, number]>): (u: number) => T {
  const total = entries.reduce((a, [, w]) => a + w, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const [, w] of entries) cumulative.push((acc += w / total));
  return (u) => {
    for (let i = 0; i < cumulative.length; i++) if (u < cumulative[i]!) return entries[i]![0];
    return entries[entries.length - 1]![0];
  };
}

// ---------------------------------------------------------------------------------------------
// What the data looks like

export const DAY_MS = 86_400_000;
export const EVENT_DAYS = 180;

export const PLANS = weighted<string>([
  ['free', 70],
  ['pro', 22],
  ['enterprise', 8],
]);

const COUNTRIES: Array<[string, string, number]> = [
  ['US', 'America/New_York', 30],
  ['DE', 'Europe/Berlin', 12],
  ['GB', 'Europe/London', 10],
  ['FR', 'Europe/Paris', 9],
  ['BR', 'America/Sao_Paulo', 7],
  ['IN', 'Asia/Kolkata', 7],
  ['CA', 'America/Toronto', 6],
  ['ES', 'Europe/Madrid', 5],
  ['NL', 'Europe/Amsterdam', 4],
  ['JP', 'Asia/Tokyo', 4],
  ['AU', 'Australia/Sydney', 3],
  ['PL', 'Europe/Warsaw', 3],
];
const COUNTRY = weighted(COUNTRIES.map(([code, tz, w]) => [[code, tz] as const, w]));
const FIRST_NAMES = ['Ada', 'Ben', 'Chloé', 'Dmitri', 'Emma', 'Farid', 'Grace', 'Hiro', 'Inès', 'Jonas', 'Kofi', 'Lena', 'Mateo', 'Nora', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tara'];

/** Event names and their share of all events. */
export const EVENT_MIX: Array<[string, number]> = [
  ['page_viewed', 40],
  ['email_opened', 15],
  ['session_started', 12],
  ['email_clicked', 8],
  ['product_viewed', 8],
  ['added_to_cart', 6],
  ['form_submitted', 4],
  ['checkout_started', 3],
  ['purchase_completed', 2.5],
  ['subscription_upgraded', 1.5],
];
export const EVENT_NAME = weighted(EVENT_MIX);

const PATHS = ['/', '/pricing', '/features', '/blog', '/blog/segments', '/blog/journeys', '/docs', '/docs/api', '/signup', '/login', '/integrations', '/about', '/contact', '/changelog', '/careers'];
const REFERRERS = ['google', 'direct', 'newsletter', 'twitter', 'linkedin', 'partner'];
const DEVICES = ['desktop', 'mobile', 'tablet'];
const CATEGORIES = ['shoes', 'shirts', 'bags', 'hats', 'jackets'];
const FORMS = ['demo_request', 'newsletter', 'contact', 'webinar'];

/** The properties of an event, as JSON text. */
export function eventProperties(name: string, r: () => number): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(r() * list.length)]!;
  const sku = `SKU-${Math.floor(r() * 5000)}`;
  switch (name) {
    case 'page_viewed':
      return `{"path":"${pick(PATHS)}","referrer":"${pick(REFERRERS)}","durationMs":${Math.floor(r() * 120_000)}}`;
    case 'email_opened':
      return `{"campaignId":"cmp_${Math.floor(r() * 400)}","client":"${pick(['gmail', 'apple', 'outlook', 'other'])}"}`;
    case 'email_clicked':
      return `{"campaignId":"cmp_${Math.floor(r() * 400)}","url":"https://shop.example${pick(PATHS)}"}`;
    case 'session_started':
      return `{"device":"${pick(DEVICES)}","browser":"${pick(['chrome', 'safari', 'firefox', 'edge'])}"}`;
    case 'product_viewed':
      return `{"sku":"${sku}","category":"${pick(CATEGORIES)}","price":${(5 + r() * 200).toFixed(2)}}`;
    case 'added_to_cart':
      return `{"sku":"${sku}","quantity":${1 + Math.floor(r() * 3)},"price":${(5 + r() * 200).toFixed(2)}}`;
    case 'form_submitted':
      return `{"form":"${pick(FORMS)}"}`;
    case 'checkout_started':
      return `{"cartValue":${(10 + r() * 500).toFixed(2)},"items":${1 + Math.floor(r() * 6)}}`;
    case 'purchase_completed':
      return `{"orderId":"ord_${Math.floor(r() * 1e9)}","amount":${(10 + r() * 500).toFixed(2)},"currency":"EUR"}`;
    case 'subscription_upgraded':
      return `{"from":"free","to":"${r() < 0.8 ? 'pro' : 'enterprise'}"}`;
    default:
      return '{}';
  }
}

// ---------------------------------------------------------------------------------------------
// Binary COPY rows

const CHUNK_BYTES = 1 << 20;
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
const TWO_32 = 4294967296;

/**
 * Writes rows in PostgreSQL's binary COPY format into ~1 MB chunks: a header, then per row a
 * field count and each field as length + bytes (uuid: 16 bytes; text: UTF-8; jsonb: version 1 +
 * JSON text; timestamptz: int64 µs since 2000-01-01; float8: IEEE big-endian), then a trailer.
 */
export class BinaryRows {
  private buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private pos = 0;
  private readonly full: Buffer[] = [];

  constructor() {
    this.buffer.write('PGCOPY\n\xff\r\n\0', 0, 'latin1');
    this.buffer.writeInt32BE(0, 11); // flags
    this.buffer.writeInt32BE(0, 15); // header extension length
    this.pos = 19;
  }

  /** Starts a row of `fields` fields with room for `maxBytes` (a chunk is closed first if needed). */
  row(fields: number, maxBytes: number): this {
    if (this.pos + maxBytes + 2 > CHUNK_BYTES) this.flush();
    this.buffer.writeInt16BE(fields, this.pos);
    this.pos += 2;
    return this;
  }

  /** 16 bytes of `source` at `offset`. */
  uuid(source: Buffer, offset = 0): this {
    this.buffer.writeInt32BE(16, this.pos);
    source.copy(this.buffer, this.pos + 4, offset, offset + 16);
    this.pos += 20;
    return this;
  }

  text(value: string): this {
    const n = this.buffer.write(value, this.pos + 4, 'utf8');
    this.buffer.writeInt32BE(n, this.pos);
    this.pos += 4 + n;
    return this;
  }

  /** Pre-encoded UTF-8 text. */
  bytes(value: Buffer): this {
    this.buffer.writeInt32BE(value.length, this.pos);
    value.copy(this.buffer, this.pos + 4);
    this.pos += 4 + value.length;
    return this;
  }

  jsonb(json: string): this {
    this.buffer[this.pos + 4] = 1;
    const n = this.buffer.write(json, this.pos + 5, 'utf8');
    this.buffer.writeInt32BE(n + 1, this.pos);
    this.pos += 5 + n;
    return this;
  }

  timestamptz(ms: number): this {
    const us = Math.round((ms - PG_EPOCH_MS) * 1000);
    const hi = Math.floor(us / TWO_32);
    this.buffer.writeInt32BE(8, this.pos);
    this.buffer.writeInt32BE(hi, this.pos + 4);
    this.buffer.writeUInt32BE(us - hi * TWO_32, this.pos + 8);
    this.pos += 12;
    return this;
  }

  float8(value: number): this {
    this.buffer.writeInt32BE(8, this.pos);
    this.buffer.writeDoubleBE(value, this.pos + 4);
    this.pos += 12;
    return this;
  }

  /** An empty float8[] ('{}'). */
  emptyFloat8Array(): this {
    this.buffer.writeInt32BE(12, this.pos);
    this.buffer.writeInt32BE(0, this.pos + 4); // dimensions
    this.buffer.writeInt32BE(0, this.pos + 8); // has nulls
    this.buffer.writeInt32BE(701, this.pos + 12); // element type: float8
    this.pos += 16;
    return this;
  }

  nul(): this {
    this.buffer.writeInt32BE(-1, this.pos);
    this.pos += 4;
    return this;
  }

  /** Chunks completed since the last call. */
  take(): Buffer[] {
    return this.full.splice(0);
  }

  /** Closes the stream (trailer) and returns the remaining chunks. */
  end(): Buffer[] {
    if (this.pos + 2 > CHUNK_BYTES) this.flush();
    this.buffer.writeInt16BE(-1, this.pos);
    this.pos += 2;
    this.flush();
    return this.take();
  }

  private flush(): void {
    if (this.pos === 0) return;
    this.full.push(this.buffer.subarray(0, this.pos));
    this.buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    this.pos = 0;
  }
}

/** Chunks of a binary COPY stream, one `row()` call at a time until it returns false. */
function* copyStream(rows: BinaryRows, row: () => boolean): Generator<Buffer> {
  while (row()) yield* rows.take();
  yield* rows.end();
}

/** Random version-4 UUIDs, `count` × 16 bytes. */
export function randomUuids(count: number): Buffer {
  const out = Buffer.allocUnsafe(count * 16);
  for (let offset = 0; offset < out.length; offset += 65_536) randomFillSync(out, offset, Math.min(65_536, out.length - offset));
  for (let i = 0; i < count; i++) {
    out[i * 16 + 6] = (out[i * 16 + 6]! & 0x0f) | 0x40;
    out[i * 16 + 8] = (out[i * 16 + 8]! & 0x3f) | 0x80;
  }
  return out;
}

/** The text form of the UUID at `index` in a buffer of UUIDs. */
export function uuidAt(ids: Buffer, index: number): string {
  const hex = ids.toString('hex', index * 16, index * 16 + 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const uuidBytes = (id: string) => Buffer.from(id.replace(/-/g, ''), 'hex');

// ---------------------------------------------------------------------------------------------
// Generation

export interface DataSpec {
  workspaceId: string;
  contacts: number;
  events: number;
  /** Contacts only the latency probes use (attribute `benchProbe: "latency"`, no events). */
  probes: number;
  /** Share of contacts with a stored score. */
  scoredShare: number;
  now: Date;
  seed: number;
}

export interface GeneratedData {
  /** Ids of the regular contacts, 16 bytes each (uuidAt reads one). */
  contactIds: Buffer;
  /** External ids of the probe contacts. */
  probeExternalIds: string[];
  counts: { contacts: number; events: number; scores: number };
  /** Seconds per table. */
  seconds: { contacts: number; events: number; scores: number };
}

/**
 * Streams the data set into the database at `url` (migrated; the workspace exists) with one COPY
 * per table (events in `eventStreams` parallel COPYs). `onProgress` hears rows done per table.
 */
export async function generateData(
  url: string,
  spec: DataSpec,
  options: { eventStreams: number; onProgress: (table: string, done: number, total: number) => void },
): Promise<GeneratedData> {
  const r = prng(spec.seed);
  const now = spec.now.getTime();
  const ws = uuidBytes(spec.workspaceId);
  const connect = async () => {
    const client = new pg.Client({ connectionString: url, application_name: 'campaignos-bench-load' });
    await client.connect();
    // A bulk load need not wait for each COPY's WAL flush.
    await client.query('SET synchronous_commit = off');
    return client;
  };
  const clients = [await connect()];
  const seconds = { contacts: 0, events: 0, scores: 0 };
  try {
    // Contacts ---------------------------------------------------------------------------------
    const total = spec.contacts + spec.probes;
    const ids = randomUuids(total);
    const probeExternalIds: string[] = [];
    const signupAt = new Float64Array(spec.contacts);
    let i = 0;
    let t = performance.now();
    const contactRows = new BinaryRows();
    const copiedContacts = await copyFrom(
      clients[0]!,
      'contacts',
      ['id', 'workspace_id', 'external_id', 'email', 'phone', 'time_zone', 'attributes', 'created_at', 'updated_at'],
      copyStream(contactRows, () => {
        if (i >= total) return false;
        const probe = i >= spec.contacts;
        // Signed up in the last 3 years, recent more likely (r()·r() leans towards 0 = now).
        const signed = now - Math.floor(r() * r() * 3 * 365 * DAY_MS) - 3_600_000;
        const [country, tz] = COUNTRY(r());
        const plan = PLANS(r());
        const name = FIRST_NAMES[Math.floor(r() * FIRST_NAMES.length)]!;
        const external = probe ? `bench-probe-${i - spec.contacts}` : `c${i}`;
        if (probe) probeExternalIds.push(external);
        else signupAt[i] = signed;
        const attributes = `{"plan":"${plan}","country":"${country}","signupAt":"${new Date(signed).toISOString()}","firstName":"${name}"${probe ? ',"benchProbe":"latency"' : ''}}`;
        contactRows.row(9, 600).uuid(ids, i * 16).uuid(ws).text(external).text(`${external}@mail${i % 97}.example`);
        if (r() < 0.35) contactRows.text(`+1555${String(i).padStart(7, '0')}`);
        else contactRows.nul();
        contactRows.text(tz).jsonb(attributes).timestamptz(signed).timestamptz(signed + Math.floor(r() * (now - signed)));
        i++;
        if ((i & 0xffff) === 0) options.onProgress('contacts', i, total);
        return true;
      }),
    );
    options.onProgress('contacts', total, total);
    seconds.contacts = (performance.now() - t) / 1000;

    // Events -----------------------------------------------------------------------------------
    // Who: a random permutation of contacts indexed by u^2.5, a power law (skewed activity that
    // does not follow signup order).
    const perm = new Int32Array(spec.contacts);
    for (let k = 0; k < perm.length; k++) perm[k] = k;
    for (let k = perm.length - 1; k > 0; k--) {
      const j = Math.floor(r() * (k + 1));
      const tmp = perm[k]!;
      perm[k] = perm[j]!;
      perm[j] = tmp;
    }
    // When: day by day over the last EVENT_DAYS days, volume growing linearly from 0.5× to 1.5×.
    const perDay: number[] = [];
    let assigned = 0;
    for (let d = 0; d < EVENT_DAYS; d++) {
      const n = d === EVENT_DAYS - 1 ? spec.events - assigned : Math.round((spec.events * (0.5 + d / (EVENT_DAYS - 1))) / EVENT_DAYS);
      perDay.push(n);
      assigned += n;
    }
    const names = new Map(EVENT_MIX.map(([name]) => [name, Buffer.from(name)]));
    const start = now - EVENT_DAYS * DAY_MS;
    // Streams take days in turn (stream s: days s, s+S, ...): each appends in time order.
    const streams = Math.max(1, options.eventStreams);
    while (clients.length < streams) clients.push(await connect());
    let written = 0;
    t = performance.now();
    const ticker = setInterval(() => options.onProgress('events', written, spec.events), 2000);
    let copiedEvents = 0;
    try {
      const counts = await Promise.all(
        clients.map((client, s) => {
          const rr = prng(spec.seed * 31 + s + 1);
          const rows = new BinaryRows();
          let day = s;
          let inDay = 0;
          let eventIds = randomUuids(65_536);
          let nextId = 0;
          return copyFrom(
            client,
            'events',
            ['id', 'workspace_id', 'contact_id', 'name', 'properties', 'occurred_at', 'received_at'],
            copyStream(rows, () => {
              while (day < EVENT_DAYS && inDay >= perDay[day]!) {
                day += streams;
                inDay = 0;
              }
              if (day >= EVENT_DAYS) return false;
              inDay++;
              let at = start + day * DAY_MS + Math.floor(rr() * DAY_MS);
              if (at > now) at = now - 1000;
              // Nobody acts before signing up: draw again (older contacts get more history). Rows
              // stay in time order, as in production, where the last days' events sit together.
              let contact = 0;
              for (let attempt = 0; attempt < 16; attempt++) {
                contact = perm[Math.min(spec.contacts - 1, Math.floor(spec.contacts * Math.pow(rr(), 2.5)))]!;
                if (signupAt[contact]! <= at) break;
              }
              const name = EVENT_NAME(rr());
              if (nextId === 65_536) {
                eventIds = randomUuids(65_536);
                nextId = 0;
              }
              rows
                .row(7, 400)
                .uuid(eventIds, 16 * nextId++)
                .uuid(ws)
                .uuid(ids, contact * 16)
                .bytes(names.get(name)!)
                .jsonb(eventProperties(name, rr))
                .timestamptz(at)
                .timestamptz(at + 50 + Math.floor(rr() * 2000));
              written++;
              return true;
            }),
          );
        }),
      );
      copiedEvents = counts.reduce((a, b) => a + b, 0);
    } finally {
      clearInterval(ticker);
    }
    options.onProgress('events', copiedEvents, spec.events);
    seconds.events = (performance.now() - t) / 1000;

    // Scores -----------------------------------------------------------------------------------
    t = performance.now();
    let c = 0;
    const scoreRows = new BinaryRows();
    const copiedScores = await copyFrom(
      clients[0]!,
      'contact_scores',
      ['contact_id', 'workspace_id', 'value', 'as_of', 'above'],
      copyStream(scoreRows, () => {
        while (c < spec.contacts && r() >= spec.scoredShare) c++;
        if (c >= spec.contacts) return false;
        // Exponential, mean 25, stored some time in the last 90 days.
        const value = Math.round(-Math.log(1 - r()) * 250) / 10;
        scoreRows.row(5, 80).uuid(ids, 16 * c++).uuid(ws).float8(value).timestamptz(now - Math.floor(r() * 90 * DAY_MS)).emptyFloat8Array();
        return true;
      }),
    );
    seconds.scores = (performance.now() - t) / 1000;
    return {
      contactIds: ids.subarray(0, spec.contacts * 16),
      probeExternalIds,
      counts: { contacts: copiedContacts, events: copiedEvents, scores: copiedScores },
      seconds,
    };
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
  }
}

// ---------------------------------------------------------------------------------------------
// Indexes and constraints around a bulk load

export interface SchemaObject {
  kind: 'constraint' | 'index';
  table: string;
  name: string;
  /** What recreates it: `ALTER TABLE ... ADD CONSTRAINT ...` or `CREATE INDEX ...`. */
  create: string;
  drop: string;
  /** Foreign keys go last (they validate against the rebuilt primary keys). */
  foreignKey: boolean;
}

/**
 * The indexes and constraints (primary, unique, foreign keys on or pointing at `tables`) the
 * migrations created, as statements that drop and recreate them exactly.
 */
export async function schemaObjects(client: pg.Client, tables: string[]): Promise<SchemaObject[]> {
  const constraints = await client.query<{ table: string; name: string; def: string; contype: string }>(
    `SELECT c.conrelid::regclass::text AS table, c.conname AS name, pg_get_constraintdef(c.oid) AS def, c.contype::text AS contype
       FROM pg_constraint c
      WHERE c.contype IN ('p', 'u', 'f')
        AND (c.conrelid = ANY($1::regclass[]) OR (c.contype = 'f' AND c.confrelid = ANY($1::regclass[])))
      ORDER BY c.contype DESC, c.conname`,
    [tables],
  );
  const indexes = await client.query<{ table: string; name: string; def: string }>(
    `SELECT i.indrelid::regclass::text AS table, i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
       FROM pg_index i
      WHERE i.indrelid = ANY($1::regclass[])
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
      ORDER BY 2`,
    [tables],
  );
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  return [
    ...constraints.rows.map((c) => ({
      kind: 'constraint' as const,
      table: c.table,
      name: c.name,
      create: `ALTER TABLE ${c.table} ADD CONSTRAINT ${quote(c.name)} ${c.def}`,
      drop: `ALTER TABLE ${c.table} DROP CONSTRAINT ${quote(c.name)}`,
      foreignKey: c.contype === 'f',
    })),
    ...indexes.rows.map((i) => ({ kind: 'index' as const, table: i.table, name: i.name, create: i.def, drop: `DROP INDEX ${i.name}`, foreignKey: false })),
  ];
}

/** Drops them: foreign keys first (a primary key cannot go while one points at it). */
export async function dropSchemaObjects(client: pg.Client, objects: SchemaObject[]): Promise<void> {
  for (const o of [...objects.filter((x) => x.foreignKey), ...objects.filter((x) => !x.foreignKey)]) await client.query(o.drop);
}

/** Recreates them (keys and indexes, then foreign keys); returns seconds per object. */
export async function createSchemaObjects(client: pg.Client, objects: SchemaObject[], onEach: (o: SchemaObject, seconds: number) => void): Promise<void> {
  for (const o of [...objects.filter((x) => !x.foreignKey), ...objects.filter((x) => x.foreignKey)]) {
    const t = performance.now();
    await client.query(o.create);
    onEach(o, (performance.now() - t) / 1000);
  }
}
