import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type tls from 'node:tls';
import type { Connection, ConnectionOptions, Delivery, EventContext, Message, Receiver } from 'rhea';
import type { BrokerHost } from '../../config/transport-url.ts';
import type { Settlement } from '../../ports/source.ts';
import { sleep } from '../../util/backoff.ts';
import type { BrokerSessionHandle } from '../broker-loop.ts';
import { InFlight } from '../in-flight.ts';

export interface Amqp10ConnectOptions {
  readonly host: BrokerHost;
  /** TLS options for this host, or null for plain TCP. */
  readonly tls: tls.ConnectionOptions | null;
  readonly sasl: 'PLAIN' | 'ANONYMOUS' | 'EXTERNAL';
  /** Sent as the open frame's hostname: the virtual host (RabbitMQ: `vhost:<name>`). */
  readonly vhost: string;
  readonly heartbeatSeconds: number;
  readonly connectTimeoutMs: number;
  /** Container id and `connection_name`: how the broker's operators see the connection. */
  readonly connectionName: string;
}

export type Delivered = (message: Message, delivery: Delivery) => void;

const CLOSE_TIMEOUT_MS = 5_000;
// rhea is CommonJS and exports a container instance, whose functions Node's ES module loader cannot
// name: it is required, on the first AMQP 1.0 connection only (a daemon on AMQP 0-9-1 never loads it).
let rhea: typeof import('rhea') | undefined;
function loadRhea(): typeof import('rhea') {
  rhea ??= createRequire(import.meta.url)('rhea') as typeof import('rhea');
  return rhea;
}

/**
 * One AMQP 1.0 connection (rhea) and its receiver. It ends, once, on the first of: the connection lost
 * or closed by the peer (RabbitMQ closes it with NOT_FOUND for a missing queue), idle time-out
 * (heartbeats), the receiver detached or closed by the peer, or `finish()` from the owner. rhea's own
 * reconnect is off: the source's loop owns reconnection, as for AMQP 0-9-1.
 *
 * Flow control is ours: rhea's credit window tops credit up when a message arrives, not when it is
 * settled, so unsettled deliveries would be unbounded. Credit starts at the prefetch and one is given
 * back per settled delivery; after `cancel` none is, and what still arrives is released.
 */
export class Amqp10Session implements BrokerSessionHandle {
  readonly #connection: Connection;
  readonly #ended = Promise.withResolvers<string>();
  readonly ended: Promise<string> = this.#ended.promise;
  readonly inFlight = new InFlight();
  #receiver: Receiver | null = null;
  #taking = true;
  #dead = false;
  /** The socket is gone: nothing to close, nobody to wait for. */
  #disconnected = false;

  private constructor(connection: Connection) {
    this.#connection = connection;
    // Every event that ends the connection ends the session; 'error' must be listened to, or rhea
    // rethrows it and the daemon goes down.
    connection.on('disconnected', (ctx: EventContext) => {
      this.#disconnected = true;
      this.#end(`connection lost${ctx.error ? `: ${errorText(ctx.error)}` : ''}`);
    });
    connection.on('connection_error', (ctx: EventContext) =>
      this.#end(`connection closed by the broker: ${errorText(ctx.error ?? ctx.connection.error)}`),
    );
    connection.on('connection_close', () => this.#end('connection closed by the broker'));
    connection.on('error', (error: unknown) => this.#end(`connection error: ${errorText(error)}`));
    connection.on('protocol_error', (error: unknown) => this.#end(`protocol error: ${errorText(error)}`));
  }

  /** Connects and waits for the peer's open frame, within `connectTimeoutMs`. */
  static async open(o: Amqp10ConnectOptions): Promise<Amqp10Session> {
    const container = loadRhea().create_container({ id: o.connectionName });
    const connection = container.connect(connectOptions(o));
    const session = new Amqp10Session(connection);
    const opened = new Promise<void>((resolve) => connection.once('connection_open', () => resolve()));
    const timer = setTimeout(
      () => session.#end(`no AMQP 1.0 open within ${o.connectTimeoutMs} ms`),
      o.connectTimeoutMs,
    );
    const outcome = await Promise.race([opened.then(() => null), session.ended]);
    clearTimeout(timer);
    if (outcome !== null) {
      await session.finish(outcome);
      throw new Error(outcome);
    }
    return session;
  }

  /** The peer's open-frame properties (RabbitMQ: product, version). */
  get peer(): Readonly<Record<string, unknown>> | undefined {
    return this.#connection.properties as Record<string, unknown> | undefined;
  }

  /**
   * Attach a receiver to `address` with `credit` deliveries outstanding at most, settled by the owner
   * through `settle`. Resolves once the broker attached it; rejects when the session ends first.
   */
  async receive(address: string, credit: number, delivered: Delivered): Promise<void> {
    const receiver = this.#connection.open_receiver({
      source: { address },
      credit_window: 0,
      autoaccept: false,
    });
    this.#receiver = receiver;
    const attached = new Promise<void>((resolve) =>
      receiver.once('receiver_open', () => {
        receiver.add_credit(credit);
        resolve();
      }),
    );
    receiver.on('receiver_error', (ctx: EventContext) =>
      this.#end(`the broker detached the receiver: ${errorText(ctx.receiver?.error)}`),
    );
    receiver.on('receiver_close', () => this.#end('the broker closed the receiver'));
    receiver.on('message', (ctx: EventContext) => {
      const delivery = ctx.delivery as Delivery;
      // After cancel no credit is given back; what was already on its way goes back to the queue.
      if (!this.#taking) this.settle(delivery, { outcome: 'retry' });
      else delivered(ctx.message as Message, delivery);
    });
    const outcome = await Promise.race([attached.then(() => null), this.ended]);
    if (outcome !== null) throw new Error(outcome);
  }

  /**
   * The broker's side of a settlement: accepted (applied), rejected (parked: RabbitMQ dead-letters it
   * where the queue has a dead-letter exchange) or released (retry). Never on a dead session: the
   * broker gives its deliveries again. One credit goes back for each.
   *
   * Only accepts are settled at once. rhea writes the dispositions of one tick together and merges a
   * run of consecutive deliveries into one range, but compares outcomes only once the run holds two
   * (`write_dispositions` in lib/session.js, rhea 3.0.5): a reject right after a lone accept was sent
   * as accepted, and the message lost. Anything else is settled on a turn of its own, where it goes
   * out alone.
   */
  settle(delivery: Delivery, settlement: Settlement): void {
    if (settlement.outcome === 'applied') this.#settled(() => delivery.accept());
    else if (settlement.outcome === 'parked') setImmediate(() => this.#settled(() => delivery.reject()));
    else setImmediate(() => this.#settled(() => delivery.release()));
  }

  /**
   * No new deliveries: no credit is given back from now on, and what the broker still sends on the
   * credit it holds (at most the prefetch) is released. The link stays attached, so what is in flight
   * can still be accepted. Not a drain: RabbitMQ 3.10 closes the whole connection when a receiver on a
   * classic queue asks for one (function_clause in rabbit_classic_queue's send_drained).
   */
  async cancel(_timeoutMs: number): Promise<void> {
    this.#taking = false;
  }

  async finish(why: string): Promise<void> {
    this.#end(why);
    if (this.#disconnected) return;
    const socket = (this.#connection as unknown as { socket?: Socket }).socket;
    // The peer ends the socket after answering our close; rhea sees that end and clears its timers
    // (a heartbeat timer left behind would keep the process alive for a minute).
    const ended = new Promise<void>((resolve) => {
      if (socket === undefined || socket.destroyed) resolve();
      socket?.once('close', () => resolve());
    });
    this.#connection.close();
    const timer = new AbortController();
    await Promise.race([ended, sleep(CLOSE_TIMEOUT_MS, timer.signal)]);
    timer.abort();
    // A peer that never answered the close: the socket goes all the same.
    socket?.destroy();
  }

  #settled(how: () => void): void {
    if (this.#dead) return;
    how();
    if (this.#taking) this.#receiver?.add_credit(1);
  }

  #end(why: string): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#ended.resolve(why);
  }
}

function connectOptions(o: Amqp10ConnectOptions): ConnectionOptions {
  const credentials =
    o.sasl === 'PLAIN'
      ? { username: o.host.username, password: o.host.password }
      : o.sasl === 'ANONYMOUS'
        ? { username: 'anonymous' }
        : { enable_sasl_external: true };
  return {
    host: o.host.hostname,
    port: o.host.port,
    // RabbitMQ reads the virtual host from the open frame's hostname.
    hostname: `vhost:${o.vhost}`,
    container_id: o.connectionName,
    properties: { connection_name: o.connectionName },
    reconnect: false,
    idle_time_out: o.heartbeatSeconds * 1000,
    ...credentials,
    ...(o.tls === null ? {} : { transport: 'tls' as const, ...o.tls }),
  } as ConnectionOptions;
}

/** rhea's errors: AMQP error descriptions (`{condition, description}`), Errors (with a condition), or nothing. */
function errorText(error: unknown): string {
  if (error instanceof Error) {
    const condition = (error as { condition?: unknown }).condition;
    return typeof condition === 'string' ? `${condition}: ${error.message}` : error.message;
  }
  if (typeof error === 'object' && error !== null) {
    const { condition, description } = error as { condition?: unknown; description?: unknown };
    return [condition, description].filter((part) => typeof part === 'string').join(': ') || 'unknown';
  }
  return error === undefined ? 'unknown' : String(error);
}
