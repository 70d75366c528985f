import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Readiness {
  /** Named checks; the daemon is ready when all pass. */
  checks(): Record<string, boolean>;
}

/**
 * /livez answers while the event loop runs (a broker or memcached outage must not restart the pod);
 * /readyz is 200 only when every readiness check passes; /metrics is the Prometheus exposition.
 */
export async function startHttpServer(
  host: string,
  port: number,
  readiness: Readiness,
  registry: Registry,
): Promise<{ server: http.Server; address: AddressInfo }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(res, 405, 'text/plain', 'method not allowed\n');
    if (path === '/livez') return send(res, 200, 'text/plain', 'ok\n');
    if (path === '/readyz') {
      const checks = readiness.checks();
      const ready = Object.values(checks).every(Boolean);
      return send(res, ready ? 200 : 503, 'application/json', `${JSON.stringify({ ready, checks })}\n`);
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (body) => send(res, 200, registry.contentType, body),
        () => send(res, 500, 'text/plain', 'metrics unavailable\n'),
      );
      return;
    }
    send(res, 404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, address: server.address() as AddressInfo };
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}
