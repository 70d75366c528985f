import type tls from 'node:tls';
import type { Config } from '../config/load.ts';
import type { BrokerHost } from '../config/transport-url.ts';
import type { EnvelopeLimits } from '../core/envelope.ts';
import type { Logger } from '../observability/logger.ts';
import type { GapHandler, ItemHandler, Source } from '../ports/source.ts';
import { type BackoffPolicy, backoffDelay, sleep } from '../util/backoff.ts';
import { errorMessage } from '../util/errors.ts';
import { brokerTls } from './broker-tls.ts';
import type { InFlight } from './in-flight.ts';

const DROPPING = new Set(['x-max-length', 'x-max-length-bytes', 'x-message-ttl', 'x-delivery-limit']);

/** What the loop needs of one broker connection's session, whatever the protocol. */
export interface BrokerSessionHandle {
  /** Resolves, once, with the reason the session ended. */
  readonly ended: Promise<string>;
  /** This session's deliveries handed out and not yet settled. */
  readonly inFlight: InFlight;
  /** No new deliveries; the connection stays open to settle those in flight. Bounded by `timeoutMs`. */
  cancel(timeoutMs: number): Promise<void>;
  /** End the session and close the connection; the broker gives back whatever was not settled. */
  finish(why: string): Promise<void>;
}

export interface BrokerLoopOptions<S extends BrokerSessionHandle> {
  readonly hosts: readonly BrokerHost[];
  readonly reconnect: BackoffPolicy;
  readonly log: Logger;
  /** `amqp://host:port/vhost`: how a host is logged (never its credentials). */
  describe(host: BrokerHost): string;
  /**
   * Connect to `host` and start consuming. `adopt` is called with the session as soon as it exists, so
   * a stop during the set-up can end it; `stopping` aborts when the source stops.
   */
  open(host: BrokerHost, log: Logger, adopt: (session: S) => void, stopping: AbortSignal): Promise<S>;
  /** What is logged with `consuming`. */
  readonly consumingFields: Readonly<Record<string, string>>;
  /** A hint for an error operators meet when connecting or setting up, if there is one. */
  hint(message: string): string | undefined;
}

type State = 'idle' | 'connecting' | 'consuming' | 'stopping' | 'stopped';

/**
 * The life cycle of a broker source, shared by AMQP 0-9-1 and 1.0. One loop owns it: connect to the
 * next host of the transport URL, set up and consume; when the session ends for any reason (connection
 * lost, heartbeat missed, link or channel closed by an error, consumer cancelled by the broker) the same
 * loop starts over after a capped, jittered backoff. Stopping is three steps the daemon awaits in
 * order: stop taking (new deliveries), drain (what is in flight settles), close.
 */
export class BrokerLoop<S extends BrokerSessionHandle> {
  readonly #o: BrokerLoopOptions<S>;
  readonly #stopping = new AbortController();
  #state: State = 'idle';
  #session: S | null = null;
  #hostIndex: number;
  #loop: Promise<void> = Promise.resolve();

  constructor(options: BrokerLoopOptions<S>) {
    this.#o = options;
    // Like oslo, start on a random host so replicas spread over a cluster.
    this.#hostIndex = Math.floor(Math.random() * options.hosts.length);
  }

  /** Aborts when the source stops: a gap fill or a set-up waiting on it gives up. */
  get stopping(): AbortSignal {
    return this.#stopping.signal;
  }

  start(): void {
    if (this.#state !== 'idle') throw new Error('the source was already started');
    this.#loop = this.#run();
  }

  isTaking(): boolean {
    return this.#state === 'consuming';
  }

  async stopTaking(deadline: number): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
    this.#state = 'stopping';
    this.#stopping.abort();
    await this.#session?.cancel(Math.max(0, deadline - Date.now()));
  }

  async drain(deadline: number): Promise<number> {
    // Only the live session's deliveries can still be settled; a dead session's are redelivered.
    const inFlight = this.#session?.inFlight;
    if (inFlight === undefined) return 0;
    const grace = new AbortController();
    await Promise.race([inFlight.idle(), sleep(deadline - Date.now(), grace.signal)]);
    grace.abort();
    if (inFlight.size > 0) {
      this.#o.log.warn(
        { unsettled: inFlight.size },
        'grace period over; unsettled messages will be redelivered',
      );
    }
    return inFlight.size;
  }

  async close(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#stopping.abort();
    await this.#session?.finish('stopping');
    await this.#loop;
    this.#state = 'stopped';
  }

  async #run(): Promise<void> {
    const signal = this.#stopping.signal;
    for (let attempt = 0; !signal.aborted; ) {
      const host = this.#nextHost();
      const log = this.#o.log.child({ broker: this.#o.describe(host) });
      this.#state = 'connecting';
      try {
        const session = await this.#o.open(host, log, (s) => (this.#session = s), signal);
        // A stop that arrived during set-up could not cancel this session: end it here.
        if (signal.aborted) {
          await session.finish('stopping');
          break;
        }
        this.#state = 'consuming';
        attempt = 0;
        log.info(this.#o.consumingFields, 'consuming');
        const why = await session.ended;
        this.#session = null;
        if (signal.aborted) break;
        log.warn({ why }, 'broker session ended; reconnecting');
      } catch (error) {
        if (signal.aborted) break;
        const message = errorMessage(error);
        log.error({ error: message, hint: this.#o.hint(message) }, 'cannot consume from the broker');
      }
      this.#state = 'connecting';
      await sleep(backoffDelay(attempt++, this.#o.reconnect), signal);
    }
  }

  #nextHost(): BrokerHost {
    const hosts = this.#o.hosts;
    this.#hostIndex = (this.#hostIndex + 1) % hosts.length;
    return hosts[this.#hostIndex] as BrokerHost;
  }
}

/**
 * A source whose life cycle is a BrokerLoop: the subclass says how to open a session (`start` calls
 * `run` with it); taking, stopping, draining and closing are the loop's.
 */
export abstract class BrokerSource<S extends BrokerSessionHandle> implements Source {
  abstract readonly name: string;
  readonly gatesReadiness = true;
  protected readonly config: Config['amqp'];
  protected readonly limits: EnvelopeLimits;
  protected readonly log: Logger;
  /** TLS options per host, or null when the URL asks for none. */
  protected readonly tls: ((host: BrokerHost) => tls.ConnectionOptions) | null;
  /** `connection_name` (AMQP 1.0: the container id too): how the broker's operators see us. */
  protected readonly connectionName: string;
  #loop: BrokerLoop<S> | null = null;

  constructor(config: Config['amqp'], region: string, limits: EnvelopeLimits, log: Logger) {
    this.config = config;
    this.limits = limits;
    this.log = log;
    this.tls = brokerTls(config);
    this.connectionName = `keystone-cache-invalidator:${region}:${process.pid}`;
  }

  /** The pool queue's arguments under which the broker may drop messages. */
  protected droppingArguments(): string[] {
    const set = Object.keys(this.config.queueArguments).filter((k) => DROPPING.has(k));
    // RabbitMQ 4 gives every quorum queue a delivery limit (20) unless one is set.
    const quorum = this.config.queueType === 'quorum' ? ['x-delivery-limit'] : [];
    return [...new Set([...set, ...quorum])];
  }

  abstract start(handler: ItemHandler, onGap: GapHandler): void;

  /** A handler failed (it never should): the delivery stays unsettled and comes back. */
  protected readonly handlingFailed = (error: unknown): void => {
    this.log.error({ error: errorMessage(error) }, 'unexpected failure handling a delivery');
  };

  protected run(options: BrokerLoopOptions<S>): void {
    if (this.#loop !== null) throw new Error('the source was already started');
    this.#loop = new BrokerLoop(options);
    this.#loop.start();
  }

  isTaking(): boolean {
    return this.#loop?.isTaking() ?? false;
  }

  async stopTaking(deadline: number): Promise<void> {
    await this.#loop?.stopTaking(deadline);
  }

  async drain(deadline: number): Promise<number> {
    return (await this.#loop?.drain(deadline)) ?? 0;
  }

  async close(): Promise<void> {
    await this.#loop?.close();
  }
}
