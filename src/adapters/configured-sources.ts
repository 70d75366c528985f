import type { Config } from '../config/load.ts';
import type { Logger } from '../observability/logger.ts';
import type { Source } from '../ports/source.ts';
import { Amqp091Source } from './amqp091/source.ts';

/**
 * The sources the configuration asks for, as `configuredActions` builds the actions: today Keystone's
 * notifications over AMQP 0-9-1, always. Each logs as its own component.
 */
export function configuredSources(config: Config, logger: Logger): Source[] {
  const limits = { maxBodyBytes: config.processing.maxBodyBytes };
  return [new Amqp091Source(config.amqp, config.region, limits, logger.child({ component: 'amqp091' }))];
}
