export { decayedScore, decayedScoreRaw, decayedScoreSqlText, decayFactor } from './decay.js';
export {
  AttributeRuleWhen,
  EventPropertyFilter,
  EventRuleWhen,
  isEventWhen,
  matchesEventFilters,
  ScoreCap,
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
  type ScoreAdjustment,
  type ScoreAdjustmentMeta,
  type ScoreChange,
  type ScoreCrossing,
  type ScoredEvent,
  type ScoreExplanation,
  type ScoreLedgerEntry,
  type ScoringSettings,
} from './engine.js';
