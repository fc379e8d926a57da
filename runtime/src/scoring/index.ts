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
export { ScoringEngine } from './engine.js';
export { capDelta, crossThresholds } from './score-changes.js';
export {
  SCORE_CROSSED_EVENT,
  ScoreContactNotFoundError,
  ScoringRuleConflictError,
  type ScoreAdjustmentMeta,
  type ScoreChange,
  type ScoreCrossing,
  type ScoredEvent,
  type ScoreExplanation,
  type ScoreLedgerEntry,
  type ScoringCallOptions,
  type ScoringSettings,
} from './types.js';
export { ScoreAdjustment, ScoreAdjustmentInput, ScoringSettingsInput } from './schemas.js';
