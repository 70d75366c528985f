import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createPoolQueue, useBroker } from '../support/broker.ts';
import { startTestDaemon, testConfigYaml } from '../support/daemon.ts';
import { SERVERS } from '../support/memcached-probe.ts';
import { osloV2Body } from '../support/oslo-wire.ts';
import { runName } from '../support/run-name.ts';

const POOL = runName('kci-test-http-metrics');

/** Every metric family the daemon exports (issue: operable), with what a scrape must show after traffic. */
const FAMILIES = [
  'kci_notifications_received_total',
  'kci_notifications_total',
  'kci_notifications_parked_total',
  'kci_invalidations_total',
  'kci_memcached_write_failures_total',
  'kci_keystone_region_resets_total',
  'kci_gaps_total',
  'kci_middleware_scan_duration_seconds',
  'kci_middleware_keys_scanned_total',
  'kci_middleware_entries_deleted_total',
  'kci_middleware_scans_incomplete_total',
  'kci_broker_consuming',
  'kci_memcached_server_up',
  'kci_notification_lag_seconds',
  'kci_replays_total',
  'kci_memcached_wipes_total',
  'kci_replay_pending_items',
  'kci_live_markers',
  'kci_coalescer_items_requested_total',
  'kci_coalescer_items_written_total',
  'kci_build_info',
  'kci_middleware_purges_total',
  'kci_purge_index_entries',
  'kci_purge_index_trusted',
  'kci_purge_index_build_seconds',
  'kci_purge_index_distrusted_total',
  'kci_purge_index_skipped_lines_total',
  'kci_purge_index_failures_total',
  'kci_revocation_polls_total',
  'kci_revocation_events_total',
  'kci_revocation_poll_duration_seconds',
  'kci_revocation_last_success_timestamp_seconds',
  'kci_revocation_poll_age_seconds',
  'kci_revocation_newest_event_timestamp_seconds',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_seconds',
];

describe('HTTP: /livez, /readyz, /metrics', () => {
  const broker = useBroker(POOL);

  it('exports every metric family, with bounded labels and values that follow the traffic', async () => {
    const extra =
      'keystoneRegions: { enabled: true, repeatAfterMs: 0 }\nmiddlewarePurge: { enabled: true, repeatAfterMs: 0 }\n';
    // A backlog on one subject, waiting before the daemon starts: the deliveries arrive together, and
    // one write answers many of them (coalescing).
    await createPoolQueue(broker(), POOL);
    const user = randomBytes(16).toString('hex');
    for (let i = 0; i < 40; i++)
      await broker().publish(osloV2Body('identity.user.updated', { resource_info: user }));
    await broker().publish(osloV2Body('identity.made_up.thing', { resource_info: user }));
    await broker().publish(Buffer.from('not json'));
    const d = await startTestDaemon(testConfigYaml(POOL, { extra }));
    const base = `http://127.0.0.1:${d.daemon.httpAddress.port}`;
    try {
      await d.settled(42);

      const response = await fetch(`${base}/metrics`);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const text = await response.text();
      for (const family of FAMILIES) expect(text, family).toMatch(new RegExp(`^# TYPE ${family} `, 'm'));
      // No id, token or credential as a label value: the burst's user id appears nowhere.
      expect(text).not.toContain(user);
      expect(text).not.toContain('guest');

      expect(await d.metric('kci_notifications_received_total', 'event_type="identity.user.updated"')).toBe(
        40,
      );
      expect(await d.metric('kci_notifications_received_total', 'event_type="other"')).toBe(1);
      expect(await d.metric('kci_notifications_received_total', 'event_type="unparseable"')).toBe(1);
      expect(await d.metric('kci_notifications_parked_total', 'reason="json"')).toBe(1);
      expect(await d.metric('kci_invalidations_total', 'kind="user",action="markers"')).toBeGreaterThan(0);
      expect(await d.metric('kci_keystone_region_resets_total', 'region="tokens"')).toBeGreaterThan(0);
      expect(await d.metric('kci_notification_lag_seconds_count')).toBe(40);
      expect(await d.metric('kci_broker_consuming')).toBe(1);
      for (const server of SERVERS) {
        expect(await d.metric('kci_memcached_server_up', `server="${server}"`)).toBe(1);
        // From the index, or by a scan while the index was still being built.
        expect(await d.metric('kci_middleware_purges_total', `server="${server}"`)).toBeGreaterThan(0);
      }
      const requested = await d.metric('kci_coalescer_items_requested_total', 'action="markers"');
      const written = await d.metric('kci_coalescer_items_written_total', 'action="markers"');
      expect(requested).toBeGreaterThanOrEqual(40);
      expect(written).toBeGreaterThan(0);
      expect(written).toBeLessThan(requested);
      expect(await d.metric('kci_live_markers')).toBeGreaterThan(0);
      expect(await d.metric('kci_build_info', 'version="test"')).toBe(1);
    } finally {
      await d.stop();
    }
  });

  it('answers /livez, /readyz with its checks, and nothing else', async () => {
    const d = await startTestDaemon(testConfigYaml(POOL));
    const base = `http://127.0.0.1:${d.daemon.httpAddress.port}`;
    try {
      const live = await fetch(`${base}/livez`);
      expect([live.status, await live.text()]).toEqual([200, 'ok\n']);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        ready: true,
        checks: { consuming: true, memcached: true, running: true },
      });
      expect((await fetch(`${base}/nope`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
      expect((await fetch(`${base}/livez`, { method: 'HEAD' })).status).toBe(200);
      const stopping = d.stop();
      // Not ready from the moment shutdown begins; the HTTP server is the last thing to close.
      const during = await fetch(`${base}/readyz`);
      expect(during.status).toBe(503);
      expect(((await during.json()) as { checks: { running: boolean } }).checks.running).toBe(false);
      await stopping;
    } finally {
      await d.stop();
    }
  });
});
