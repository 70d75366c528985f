/**
 * What the demo and the benchmark need before they start, done after their command line is read (so
 * that `--help` and a mistyped option change nothing on the machine).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** RabbitMQ and the two memcached servers on 127.0.0.1, started (and installed) where absent. */
export function startLocalServices(): void {
  execFileSync('bash', [resolve(ROOT, 'scripts/local-services.sh')], { stdio: ['ignore', 2, 2] });
}

/** dist/, which the daemon's command (bin/) runs. Build output goes to stderr: stdout may be JSON. */
export function buildDaemon(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
}
