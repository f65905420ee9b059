export {
  burnRate, burnRateThreshold, burnRateWindows, detectionTimeMs, evaluateBurnRate, SLO_PERIOD_MS, WORKBOOK_BURN_RATE_ALERTS,
  type BurnRateAction, type BurnRateAlertResult, type BurnRateAlertSpec, type BurnRateEvaluation,
  type WindowBurn, type WindowCounts, type WindowCountsInput, type WindowCountsSource,
} from './burn-rate.js';
export {
  evaluateOwnerBurnRate, ownerWindowCounts,
  type BurnOwner, type BurnSourceStore, type OwnerBurnRateInput, type OwnerWindowCountsInput,
} from './burn-source.js';
export {
  effectiveRules, escalationPolicyFor,
  type ResolvedRule, type RuleGroupBy, type RuleOrigin, type RuleSubjects, type RuleThresholds,
} from './default-rules.js';
export { whoIsOnCall, type OnCallShift } from './oncall.js';
export {
  DEFAULT_TEMPLATES, TEMPLATE_KINDS, isTemplateKind, renderTemplate, templateFor, templateKindOf, templateNamed, templateNames,
  type RenderedTemplate, type TemplateKind,
} from './templates.js';
export { AlertingService, type AlertingServiceOptions } from './service.js';
export { STATUS_SUBSCRIBERS_CHANNEL, subscriberUrlProblem, verifySubscriberWebhook, type SubscriberWebhookOptions } from './channels/index.js';
export type { DeclareRequest, Incident, IncidentActions, IncidentDetail, IncidentState, LinkAction, SilenceRecord, Signal, OutgoingMessage, Channel, DeliveryResult } from './types.js';
