export { createHttpProxy } from './http-proxy.js';
export { createTcpProxy, type TcpProxy, type TcpProxyOptions, type TcpRoutingHooks, type TcpOutcome } from './tcp-proxy.js';
export type { ProxyErrorCode } from './proxy-errors.js';
export type {
  AcquireResult,
  AdmitRequest,
  AdmitResult,
  AttemptOutcome,
  FailureKind,
  HttpProxyOptions,
  PickedUpstream,
  PickRequest,
  ProxyLimits,
  ProxyTimeouts,
  Release,
  RetryContext,
  RetryDecision,
  RoutingHooks,
  Upstream,
  UpstreamTlsOptions,
} from './types.js';
export { readCookie, sessionCookie } from './cookies.js';
export type { Cancellation } from './cancellation.js';
