export {
  analyzeCondition,
  AttributeCondition,
  CHANNELS,
  conditionKind,
  ConsentCondition,
  EventCondition,
  EventPropertyFilter,
  FieldCondition,
  FirstSeenCondition,
  LastSeenCondition,
  ListCondition,
  MAX_DEPTH,
  MAX_NODES,
  ReachableCondition,
  ScoreCondition,
  SegmentCondition,
  SegmentInput,
  SegmentPatch,
  type Channel,
  type ConditionAnalysis,
  type ConditionKind,
  type LeafCondition,
} from './condition.js';
export { compileCondition, compileConditionSql, type CompileContext } from './compile.js';
export {
  matchingContacts,
  SEGMENT_ENTERED,
  SEGMENT_EXITED,
  SegmentConflictError,
  SegmentEngine,
  SegmentInputError,
  type ContactChange,
  type RecomputeResult,
  type SegmentEngineOptions,
  type SegmentMember,
  type SegmentRecord,
  type Transition,
} from './engine.js';
export type { ExplainNode } from './explain.js';
export { decayedScoreSql } from './score-sql.js';
export { sql, type SqlFragment } from './sql-fragment.js';
