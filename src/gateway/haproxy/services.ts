import type { BulwarkConfig, ServiceConfig } from '../../config/index.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { EndpointPool } from '../pool/index.js';
import type { HealthStatus } from '../pool/types.js';
import { HaproxyEngine } from './engine.js';

/** `show stat` is read this often into the pools (in-flight per server) and snapshots. */
const STATS_EVERY_MS = 2_000;

/**
 * The `Gateway`'s side of the HAProxy engine: HAProxy runs while at least one
 * service's engine is `haproxy` (started with the first, reloaded on changes,
 * stopped with the last); probe health and operators' changes go to it.
 */
export class HaproxyServices {
  private engine: HaproxyEngine | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly log: Logger) {}

  async sync(config: BulwarkConfig, services: Array<[string, ServiceConfig]>): Promise<void> {
    if (services.length === 0) return this.stop();
    if (this.engine) return this.engine.reload(services);
    const engine = new HaproxyEngine(config.gateway.haproxy, this.log);
    await engine.start(services);
    this.engine = engine;
    this.timer = setInterval(() => void engine.stats().catch((err: unknown) => this.log.debug({ err: errorMessage(err) }, 'HAProxy show stat failed')), STATS_EVERY_MS);
    this.timer.unref();
  }

  async stop(deadline?: AbortSignal): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const engine = this.engine;
    this.engine = undefined;
    await engine?.stop(deadline);
  }

  setHealth(service: string, member: string, status: HealthStatus): void {
    this.engine?.setHealth(service, member, status);
  }

  async poolChanged(service: string): Promise<void> {
    await this.engine?.poolChanged(service);
  }

  pool(service: string): EndpointPool | undefined {
    return this.engine?.pool(service);
  }

  snapshot(): Record<string, unknown> {
    return this.engine?.snapshot() ?? {};
  }
}
