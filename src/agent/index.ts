export { Agent, type AgentOptions, type AgentState } from './agent.js';
export { ControlPlaneClient, ControlPlaneError, type ControlPlaneErrorKind } from './client.js';
export { AssignmentRunner, type ReconcileOutcome } from './jobs.js';
export { ResultBuffer } from './buffer.js';
export type { Assignment, AgentResult } from './types.js';
