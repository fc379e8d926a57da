import { z } from 'zod';

// Each schema constant and its type share a name: defined once, validated at the edge.

const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

export const ContactInput = z
  .object({
    externalId: z.string().min(1).max(255).optional(),
    email: z.email().max(320).optional(),
    phone: z.string().min(3).max(32).nullable().optional(),
    timeZone: z.string().refine(isTimeZone, 'not an IANA time zone (e.g. "Europe/Berlin")').nullable().optional(),
    attributes: z.record(z.string().max(200), z.unknown()).optional(),
  })
  .strict()
  .refine((c) => c.externalId !== undefined || c.email !== undefined, 'a contact needs an externalId or an email');
export type ContactInput = z.infer<typeof ContactInput>;

export const EventInput = z
  .object({
    name: z.string().min(1).max(200).refine((n) => !n.startsWith('$'), 'names starting with "$" are reserved for system events'),
    contactId: z.uuid().optional(),
    externalId: z.string().min(1).max(255).optional(),
    email: z.email().max(320).optional(),
    properties: z.record(z.string(), z.unknown()).default({}),
    timestamp: z.iso.datetime({ offset: true }).optional(),
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .strict()
  .refine(
    (e) => [e.contactId, e.externalId, e.email].filter((v) => v !== undefined).length === 1,
    'name the contact with exactly one of contactId, externalId or email',
  );
export type EventInput = z.infer<typeof EventInput>;

export const EventBatch = z.object({ events: z.array(EventInput).min(1).max(1000) }).strict();

export const CredentialInput = z
  .object({
    name: z.string().min(1).max(200),
    type: z.string().min(1).max(200),
    data: z.record(z.string(), z.unknown()),
  })
  .strict();

export const MessagesQuery = z.object({
  contactId: z.uuid().optional(),
  journeyId: z.string().max(300).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
