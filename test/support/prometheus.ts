import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dirs.ts';
import { freePort } from './tls.ts';
import { waitFor } from './wait.ts';

/** One alert as Prometheus' /api/v1/alerts lists it (pending or firing; inactive ones are not listed). */
export interface ActiveAlert {
  readonly labels: Record<string, string>;
  readonly state: 'pending' | 'firing';
}

export interface RuleHealth {
  readonly name: string;
  readonly health: string;
  readonly lastError?: string;
}

export interface TestPrometheus {
  readonly url: string;
  /** An instant query: Prometheus' answer, success or error, as it gives it. */
  query(expr: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }>;
  alerts(): Promise<ActiveAlert[]>;
  rules(): Promise<RuleHealth[]>;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** host:port of the /metrics to scrape, as job `kci`. */
  readonly target: string;
  /** The text of the rule file to load. */
  readonly rules: string;
}

/**
 * Debian's Prometheus (scripts/local-services.sh installs it), with a configuration, rule file and
 * database in a temporary folder, on a free port of 127.0.0.1: never the machine's :9090, never another
 * test's. Scrapes and evaluates every second. `stop` ends it (and it is killed if the test process
 * exits first); the folder goes with the test file's temporary folders.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<TestPrometheus> {
  const dir = tempDir('kci-prometheus');
  writeFileSync(join(dir, 'rules.yaml'), options.rules);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }
rule_files: [rules.yaml]
scrape_configs:
  - job_name: kci
    static_configs: [{ targets: ["${options.target}"] }]
`,
  );
  // freePort can lose a race with another process for the port: Prometheus then exits at once, and a
  // second port is tried.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor('Prometheus to be ready', async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
        return (await fetch(`${url}/-/ready`)).ok ? true : undefined;
      });
    } catch (error) {
      await stopChild(child);
      process.off('exit', killOnExit);
      if (attempt < 2) continue;
      throw error;
    }
    return prometheusAt(url, async () => {
      await stopChild(child);
      process.off('exit', killOnExit);
    });
  }
}

function prometheusAt(url: string, stop: () => Promise<void>): TestPrometheus {
  const api = async <T>(path: string) => (await (await fetch(`${url}${path}`)).json()) as T;
  return {
    url,
    query: (expr) => api(`/api/v1/query?query=${encodeURIComponent(expr)}`),
    alerts: async () => (await api<{ data: { alerts: ActiveAlert[] } }>('/api/v1/alerts')).data.alerts,
    rules: async () =>
      (await api<{ data: { groups: Array<{ rules: RuleHealth[] }> } }>('/api/v1/rules')).data.groups.flatMap(
        (g) => g.rules,
      ),
    stop,
  };
}

/** SIGTERM, then SIGKILL if it has not exited within 5 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
