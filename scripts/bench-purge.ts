/** How long a middlewarePurge scan takes on the local memcached servers. See USAGE. */
import { measurePurge } from './bench/purge-scan.ts';
import { parseScriptArgs, type Script, wholeNumber } from './script-args.ts';

const SCRIPT: Script = {
  name: 'bench:purge',
  usage: `usage: npm run bench:purge -- [--tokens N] [--json]

Seeds N cached keystonemiddleware entries per server (the MAC format real keystonemiddleware wrote,
test/fixtures/keystonemiddleware-memcache) on the two local memcached servers
(scripts/local-services.sh), then times the key listing and a whole middlewarePurge scan.
\`npm run bench\` measures 10,000 and 100,000 the same way. FLUSHES both servers: test servers only.

  --tokens N  cached entries per server (default 10000)
  --json      one JSON object instead of a table
  -h, --help  print this help`,
};

const { values } = parseScriptArgs(SCRIPT, {
  options: { tokens: { type: 'string', default: '10000' }, json: { type: 'boolean' } },
});

measurePurge(wholeNumber(SCRIPT, 'tokens', values.tokens, 1)).then(
  (result) => {
    if (values.json) console.log(JSON.stringify(result));
    else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(18)} ${v}`);
  },
  (error: unknown) => {
    console.error(`bench:purge: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
