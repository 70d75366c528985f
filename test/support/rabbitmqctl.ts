import { execFileSync } from 'node:child_process';

const RABBITMQCTL = '/usr/sbin/rabbitmqctl';

/**
 * Closes, as an operator would with `rabbitmqctl close_connection`, every broker connection whose
 * connection_name contains `match`. Returns how many were closed.
 */
export function closeConnections(match: string, reason = 'closed by a test'): number {
  // The plain listing gives pids as <rabbit@host.N.N.N>, the form close_connection takes (the JSON
  // formatter's #PID<...> is refused).
  const listing = execFileSync(
    RABBITMQCTL,
    ['list_connections', 'pid', 'client_properties', '-q', '--no-table-headers'],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  const matching = listing
    .split('\n')
    .filter((line) => line.includes(match))
    .map((line) => line.split('\t')[0] as string);
  for (const pid of matching)
    execFileSync(RABBITMQCTL, ['close_connection', pid, reason], { timeout: 30_000 });
  return matching.length;
}
