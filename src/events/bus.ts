import { EventEmitter } from 'node:events';

/**
 * Typed in-process events between subsystems: probes publish state changes;
 * the gateway routes on them, alerting opens incidents on them. A listener
 * that throws is isolated: it is logged by the bus owner, never breaks the publisher.
 */
export class EventBus<Events extends Record<string, unknown>> {
  private readonly emitter = new EventEmitter({ captureRejections: false });

  constructor(private readonly onListenerError: (event: string, err: unknown) => void = () => {}) {
    this.emitter.setMaxListeners(100);
  }

  on<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): () => void {
    const safe = (payload: Events[K]) => {
      try {
        listener(payload);
      } catch (err) {
        this.onListenerError(event, err);
      }
    };
    this.emitter.on(event, safe);
    return () => this.emitter.off(event, safe);
  }

  emit<K extends keyof Events & string>(event: K, payload: Events[K]): void {
    this.emitter.emit(event, payload);
  }
}
