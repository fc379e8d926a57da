export { decayedScore, decayedScoreRaw, decayedScoreSqlText, decayFactor } from './decay.js';
export {
  AttributeRuleWhen,
  EventRuleWhen,
  isEventWhen,
  matchesEventFilters,
  ScoreCap,
  ScoringEventFilter,
  ScoringRuleInput,
  ScoringRulePatch,
  ScoringRuleWhen,
  type ScoringRule,
} from './rules.js';
export {
  capDelta,
  crossThresholds,
  SCORE_CROSSED_EVENT,
  ScoreContactNotFoundError,
  ScoringEngine,
  ScoringRuleConflictError,
  type ScoreAdjustmentMeta,
  type ScoreChange,
  type ScoreCrossing,
  type ScoredEvent,
  type ScoreExplanation,
  type ScoreLedgerEntry,
  type ScoringCallOptions,
  type ScoringSettings,
} from './engine.js';
export { ScoreAdjustment, ScoreAdjustmentInput, ScoringSettingsInput } from './schemas.js';
