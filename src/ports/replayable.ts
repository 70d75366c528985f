/**
 * An action that keeps, per memcached server, what that server missed, and gives it to the server when it
 * is reachable again. Servers are named as in the config (`host:port`).
 */
export interface Replayable {
  readonly name: string;
  /** How many items `server` still has to be given; 0 when it is up to date. */
  pending(server: string): number;
  /** Give `server` what it missed; rejects (keeping the backlog) when the server fails again. */
  replay(server: string, signal: AbortSignal): Promise<void>;
}
