import { Router } from 'express';
import {
  isEventWhen,
  ScoreAdjustmentInput,
  ScoreContactNotFoundError,
  ScoringRuleConflictError,
  ScoringRuleInput,
  ScoringRulePatch,
  ScoringSettingsInput,
  type ScoringEngine,
} from '../../scoring/index.js';
import type { SegmentEngine } from '../../segments/index.js';
import { ApiError, validationError } from '../errors.js';

const Settings = ScoringSettingsInput.refine((v) => Object.keys(v).length > 0, 'give halfLifeDays and/or thresholds');

/** `/v1/scoring`: workspace settings (half-life, thresholds) and rules. */
export function scoringRoutes(scoring: ScoringEngine): Router {
  const router = Router();
  const known = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ScoringRuleConflictError) throw new ApiError(409, 'CONFLICT', error.message);
      throw error;
    }
  };

  router.get('/settings', async (req, res) => {
    res.json({ settings: await scoring.settings(req.workspaceId) });
  });
  router.put('/settings', async (req, res) => {
    const parsed = Settings.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'Scoring settings');
    res.json({ settings: await scoring.updateSettings(req.workspaceId, parsed.data) });
  });

  router.get('/rules', async (req, res) => {
    res.json({ rules: await scoring.listRules(req.workspaceId) });
  });
  router.post('/rules', async (req, res) => {
    const parsed = ScoringRuleInput.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'Scoring rule');
    if (isEventWhen(parsed.data.when) && parsed.data.when.event.startsWith('$')) {
      throw new ApiError(400, 'VALIDATION_FAILED', `Scoring rule is invalid: when.event: "${parsed.data.when.event}" is a system event; rules score events contacts do`);
    }
    const rule = await known(() => scoring.createRule(req.workspaceId, parsed.data));
    // An attribute rule applies to contacts who already match, not only to future changes.
    if (!isEventWhen(rule.when)) await scoring.reevaluateAttributeRules(req.workspaceId);
    res.status(201).json({ rule });
  });
  router.put('/rules/:id', async (req, res) => {
    const parsed = ScoringRulePatch.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'Scoring rule');
    const rule = await known(() => scoring.updateRule(req.workspaceId, req.params.id, parsed.data));
    if (!rule) throw new ApiError(404, 'NOT_FOUND', `No scoring rule ${req.params.id} in this workspace`);
    if (!isEventWhen(rule.when)) await scoring.reevaluateAttributeRules(req.workspaceId);
    res.json({ rule });
  });
  router.delete('/rules/:id', async (req, res) => {
    if (!(await scoring.deleteRule(req.workspaceId, req.params.id))) throw new ApiError(404, 'NOT_FOUND', `No scoring rule ${req.params.id} in this workspace`);
    res.json({ deleted: true });
  });
  return router;
}

/** `/v1/contacts/:id/score`: the explained score, and manual adjustments. */
export function contactScoreRoutes(scoring: ScoringEngine, segments: SegmentEngine): Router {
  const router = Router({ mergeParams: true });
  router.get('/', async (req, res) => {
    const explanation = await scoring.explain(req.workspaceId, (req.params as { id: string }).id);
    if (!explanation) throw new ApiError(404, 'NOT_FOUND', `No contact ${(req.params as { id: string }).id} in this workspace`);
    res.json(explanation);
  });
  router.post('/', async (req, res) => {
    const parsed = ScoreAdjustmentInput.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'Score change');
    const { reason, idempotencyKey, ...change } = parsed.data;
    const contactId = (req.params as { id: string }).id;
    try {
      const result = await scoring.adjust(req.workspaceId, contactId, change, { source: 'api', reason, idempotencyKey });
      // Score segments follow before the answer, so a segment check right after sees the new score.
      await segments.evaluateContacts(req.workspaceId, [contactId], { score: true });
      res.json(result);
    } catch (error) {
      if (error instanceof ScoreContactNotFoundError) throw new ApiError(404, 'NOT_FOUND', error.message);
      throw error;
    }
  });
  return router;
}
