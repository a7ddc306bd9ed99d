import { EventEmitter } from "eventemitter3";
import { errorFields, kitLogger, type Logger } from "../ports/logger.js";
import { safeTelemetry, type Telemetry } from "../ports/telemetry.js";
import type { KitEvents } from "./events.js";

/** What the kit's parts report through: its logger, its events, its telemetry. */
export interface Observer {
  /** The host's logger, bound and made safe; silent when none was given. */
  log: Logger;
  /** Whether the host gave a logger. */
  logging: boolean;
  /** Where kit events go: `kit.events`. */
  events: EventEmitter<KitEvents>;
  /** The host's telemetry, made safe; `undefined` when nobody traces. */
  telemetry: Telemetry | undefined;
  /**
   * Emits a kit event when someone listens. A listener that throws is logged (the listeners after it miss
   * that one event, as with Node's emitter) and never fails the operation that emitted.
   */
  emit<K extends keyof KitEvents>(name: K, event: Parameters<KitEvents[K]>[0]): void;
}

/** Builds an {@link Observer} from the kit's options. */
export function createObserver(options: { logger?: Logger | undefined; telemetry?: Telemetry | undefined }) {
  const log = kitLogger(options.logger);
  const events = new EventEmitter<KitEvents>();
  const observer: Observer = {
    log,
    logging: options.logger !== undefined,
    events,
    telemetry: safeTelemetry(options.telemetry),
    emit(name, event) {
      if (events.listenerCount(name) === 0) return;
      try {
        (events.emit as (name: keyof KitEvents, event: unknown) => boolean)(name, event);
      } catch (error) {
        log.error({ event: name, ...errorFields(error) }, "a kit event listener threw");
      }
    },
  };
  return observer;
}
