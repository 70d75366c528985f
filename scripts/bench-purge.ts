/**
 * `npm run bench:purge -- [--tokens N] [--json]`: how long a middlewarePurge scan takes on the local
 * memcached servers (scripts/local-services.sh), for N cached keystonemiddleware entries per server
 * (see scripts/bench/purge-scan.ts). `npm run bench` measures 10,000 and 100,000 the same way.
 * Flushes both servers: run it on test servers only.
 */
import { parseArgs } from 'node:util';
import { measurePurge } from './bench/purge-scan.ts';

const { values } = parseArgs({
  options: { tokens: { type: 'string', default: '10000' }, json: { type: 'boolean' } },
});

measurePurge(Number(values.tokens)).then(
  (result) => {
    if (values.json) console.log(JSON.stringify(result));
    else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(18)} ${v}`);
  },
  (error: unknown) => {
    console.error((error as Error).message);
    process.exitCode = 1;
  },
);
