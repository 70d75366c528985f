import { ConfigError, parseConfig } from '../../src/config/load.ts';

// A minimal configuration and its helpers, shared by the configuration's unit tests.
export const SECRET = 'pa55-w0rd-never-logged';
export const minimal = `region: region-two
amqp:
  url: rabbit://kci:${SECRET}@rmq-0:5672,kci:${SECRET}@rmq-1:5672/openstack
  allowPlaintext: true
memcached:
  servers: ["inet:10.0.0.1:11211", "10.0.0.2:11211", "inet6:[fd00::3]:11211", "mc-4"]
  allowPlaintext: true
`;

/** The line a text appended to `minimal` starts on. */
export const NEXT = minimal.split('\n').length;

/** `minimal` with one more field, given by its dotted path, in flow style. */
export function withField(path: string, value: number): string {
  const [top, ...rest] = path.split('.');
  const nested = rest.reduceRight<string>((inner, key) => `{ ${key}: ${inner} }`, String(value));
  return top === 'amqp' || top === 'memcached'
    ? minimal.replace(`${top}:\n`, `${top}:\n  ${rest.join('.') === '' ? '' : nested.slice(2, -2)}\n`)
    : `${minimal}${top}: ${nested}\n`;
}

/** Why the configuration is refused, one problem each; none when it is accepted. */
export function refusals(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(yaml, 'test.yaml', env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

/** refusals(), for a configuration that must be refused. */
export function problems(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  const found = refusals(yaml, env);
  if (found.length === 0) throw new Error('expected the configuration to be rejected');
  return found;
}
