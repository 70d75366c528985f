import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeystoneServer } from '../../test/support/keystone-server.ts';
import { get, SERVERS } from '../../test/support/memcached-probe.ts';
import { tempDir } from '../../test/support/temp-dirs.ts';
import type { DaemonProcess } from './daemon-process.ts';
import { processCpuSeconds as cpuSeconds } from './process-cpu.ts';
import { type Percentiles, percentiles, round } from './stats.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RevocationFigures {
  /** The poller at its default interval, nothing being revoked: what it costs Keystone. */
  readonly idle: {
    readonly seconds: number;
    readonly pollsPerSecond: number;
    /** One poll as the daemon times it (GET /v3/OS-REVOKE/events, token reused). */
    readonly meanPollMs: number;
    /** keystone-wsgi-public's CPU over the stretch (one core = 100 %). */
    readonly keystoneCpuPercent: number;
  };
  readonly revocations: number;
  /** DELETE /v3/auth/tokens answered → the token's audit marker on every memcached server. */
  readonly revokeToMarker: Percentiles;
}

export interface RevocationPhaseOptions {
  readonly revocations: number;
  readonly idleSeconds: number;
  readonly keystoneCache: boolean;
  /** Starts the daemon on the bench config plus these YAML lines (the poller's section). */
  readonly startDaemon: (extraYaml: string) => Promise<DaemonProcess>;
  readonly endDaemon: (daemon: DaemonProcess) => Promise<void>;
}

/**
 * A real Keystone (scripts/local-keystone.sh), the daemon polling its revocation events at the default
 * interval: first idle, for Keystone's cost (requests per second, time per request, its CPU); then
 * tokens revoked one at a time, each timed from Keystone's answer to the marker on every server.
 */
export async function revocationPhase(o: RevocationPhaseOptions): Promise<RevocationFigures> {
  // Keystone's cache on, as in production (there with memcached): it caches the token validation and,
  // for an unchanged `since`, the answer itself.
  const keystone = await KeystoneServer.start({ notifications: false, cache: o.keystoneCache });
  try {
    const poller = await keystone.createUser('service');
    const credential = await keystone.applicationCredential(poller);
    const secret = join(tempDir('kci-bench-keystone'), 'secret');
    writeFileSync(secret, credential.secret, { mode: 0o600 });
    const daemon = await o.startDaemon(
      `revocations:\n  enabled: true\n  authUrl: ${keystone.url}\n  applicationCredentialId: ${credential.id}\n  applicationCredentialSecretFile: ${secret}\n`,
    );
    try {
      await waitForPoll(daemon);
      const idle = await idleCost(daemon, keystone.pid as number, o.idleSeconds);
      const user = await keystone.createUser();
      const latencies: number[] = [];
      for (let i = 0; i < o.revocations; i++) {
        const token = await keystone.passwordToken(user.name, user.password, user.project);
        const marker = `kci:v1:audit:${await keystone.auditId(token)}`;
        // At a random point of the poll cycle: this loop's own calls to Keystone would otherwise fall
        // into step with the poller's.
        await sleep(Math.random() * 1_200);
        await keystone.revoke(token);
        const revokedAt = performance.now();
        while (!(await onEveryServer(marker))) await sleep(5);
        latencies.push(performance.now() - revokedAt);
      }
      return { idle, revocations: o.revocations, revokeToMarker: percentiles(latencies) };
    } finally {
      await o.endDaemon(daemon);
    }
  } finally {
    await keystone.stop();
  }
}

async function waitForPoll(daemon: DaemonProcess): Promise<void> {
  while ((await daemon.metric('kci_revocation_polls_total', 'outcome="ok"')) === 0) await sleep(50);
}

async function idleCost(daemon: DaemonProcess, keystonePid: number, seconds: number) {
  const polls = () => daemon.metric('kci_revocation_polls_total', 'outcome="ok"');
  const timeSum = () => daemon.metric('kci_revocation_poll_duration_seconds_sum');
  const [polls0, time0, cpu0, at0] = [
    await polls(),
    await timeSum(),
    cpuSeconds(keystonePid),
    performance.now(),
  ];
  await sleep(seconds * 1000);
  const [polls1, time1, cpu1, at1] = [
    await polls(),
    await timeSum(),
    cpuSeconds(keystonePid),
    performance.now(),
  ];
  const wall = (at1 - at0) / 1000;
  return {
    seconds: round(wall),
    pollsPerSecond: round((polls1 - polls0) / wall),
    meanPollMs: round(((time1 - time0) / Math.max(1, polls1 - polls0)) * 1000),
    keystoneCpuPercent: round(((cpu1 - cpu0) / wall) * 100),
  };
}

async function onEveryServer(key: string): Promise<boolean> {
  return (await Promise.all(SERVERS.map((s) => get(s, key)))).every((v) => v !== null);
}
