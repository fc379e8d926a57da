export { N8nConnection, N8nNode, N8nNodeConnections, N8nWorkflow, parseWorkflowJson } from './workflow-json.js';
export type { ParseWorkflowResult } from './workflow-json.js';
export { validateWorkflow } from './validate.js';
export type { JourneyEdge, JourneyNodeKind, JourneyPlan, JourneyPlanNode } from './validate.js';
export { WorkflowExpressions } from './expressions.js';
export type { JourneyInputSources, JourneyRunData, ResolveParameterOptions } from './expressions.js';
export { CONTROL_NODE_TYPES, controlNodeParameters, resolveWait, runControlNode } from './control-nodes.js';
export type { ControlNodeKind, ControlNodeSpec, ParameterResolver, WaitDecision } from './control-nodes.js';
export { NATIVE_TYPES, STICKY_NOTE_TYPE } from './native-descriptions.js';
