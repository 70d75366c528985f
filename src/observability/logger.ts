import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout. Components log through children (`component`). Broker addresses are logged as
 * `broker` without userinfo (describeBroker); the redact list is a second line of defence should an
 * object carrying a credential ever be logged whole.
 */
export function createLogger(
  level: string,
  base: Record<string, string>,
  destination: DestinationStream = pino.destination({ sync: false }),
): Logger {
  return pino(
    {
      level,
      base: { service: 'keystone-cache-invalidator', ...base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'password',
          '*.password',
          'url',
          '*.url',
          'transport',
          '*.transport',
          'headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
