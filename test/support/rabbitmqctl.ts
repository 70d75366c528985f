import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const RABBITMQCTL = '/usr/sbin/rabbitmqctl';
const run = promisify(execFile);

/**
 * Closes, as an operator would with `rabbitmqctl close_connection`, every broker connection whose
 * connection_name contains `match`. Returns how many were closed. Asynchronous: the tests' TCP proxies
 * live in the test process, and a blocked event loop would freeze every connection through them.
 */
export async function closeConnections(
  match: string,
  { reason = 'closed by a test', node }: { reason?: string; node?: string } = {},
): Promise<number> {
  const target = node === undefined ? [] : ['-n', node];
  // The plain listing gives pids as <rabbit@host.N.N.N>, the form close_connection takes (the JSON
  // formatter's #PID<...> is refused).
  const { stdout } = await run(
    RABBITMQCTL,
    [...target, 'list_connections', 'pid', 'client_properties', '-q', '--no-table-headers'],
    { encoding: 'utf8', timeout: 30_000 },
  );
  const matching = stdout
    .split('\n')
    .filter((line) => line.includes(match))
    .map((line) => line.split('\t')[0] as string);
  for (const pid of matching)
    await run(RABBITMQCTL, [...target, 'close_connection', pid, reason], { timeout: 30_000 });
  return matching.length;
}

/** The names of every queue, or every exchange, in vhost `/`, as `rabbitmqctl list_…` gives them. */
export async function listNames(what: 'queues' | 'exchanges'): Promise<string[]> {
  const { stdout } = await run(
    RABBITMQCTL,
    [`list_${what}`, 'name', '-p', '/', '-q', '--formatter', 'json'],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  return (JSON.parse(stdout) as Array<{ name: string }>).map((row) => row.name);
}

/** Deliveries of `queue` (vhost `/`) that a consumer holds and has not settled. */
export async function unacknowledged(queue: string): Promise<number> {
  const { stdout } = await run(
    RABBITMQCTL,
    ['list_queues', 'name', 'messages_unacknowledged', '-p', '/', '-q', '--formatter', 'json'],
    { encoding: 'utf8', timeout: 30_000 },
  );
  const rows = JSON.parse(stdout) as Array<{ name: string; messages_unacknowledged: number }>;
  return rows.find((row) => row.name === queue)?.messages_unacknowledged ?? 0;
}
