import { z } from 'zod';

// Inputs other than rules, for the API and the "update score" node; validated at the edge.

/** Workspace scoring settings; both optional in an update. `halfLifeDays: null` turns decay off. */
export const ScoringSettingsInput = z
  .object({
    halfLifeDays: z.number().positive().max(36_500).nullable().optional(),
    thresholds: z.array(z.number()).max(50).optional(),
  })
  .strict();
export type ScoringSettingsInput = z.infer<typeof ScoringSettingsInput>;

const adjustmentFields = {
  add: z.number().optional(),
  subtract: z.number().optional(),
  /** The score becomes exactly this now; the ledger records the difference. */
  set: z.number().optional(),
};
const oneKind = (a: { add?: number; subtract?: number; set?: number }) =>
  a.set !== undefined ? a.add === undefined && a.subtract === undefined : a.add !== undefined || a.subtract !== undefined;
const oneKindMessage = 'give add and/or subtract, or set alone';

/** A manual change to a score: `add` and `subtract` combine; `set` stands alone. */
export const ScoreAdjustment = z.object(adjustmentFields).strict().refine(oneKind, oneKindMessage);
export type ScoreAdjustment = z.infer<typeof ScoreAdjustment>;

/**
 * The API body for a manual change: an adjustment and why; with an `idempotencyKey`, sending the
 * same change again (a retry) changes nothing and answers the first result.
 *
 * @example { "add": 15, "reason": "Met at the conference" }
 */
export const ScoreAdjustmentInput = z
  .object({ ...adjustmentFields, reason: z.string().trim().min(1).max(500), idempotencyKey: z.string().min(1).max(300).optional() })
  .strict()
  .refine(oneKind, oneKindMessage);
export type ScoreAdjustmentInput = z.infer<typeof ScoreAdjustmentInput>;
