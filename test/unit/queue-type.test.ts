import { describe, expect, it } from 'vitest';
import { poolQueueArguments, topologyOptions } from '../../src/adapters/amqp091/topology.ts';
import { parseConfig } from '../../src/config/load.ts';
import { problems } from '../support/config-text.ts';

/** A configuration with these lines under `amqp:`. */
const yaml = (...amqp: string[]) => `region: region-two
amqp:
  url: rabbit://kci:secret@127.0.0.1:5672/
${amqp.map((l) => `  ${l}\n`).join('')}memcached:
  servers: ["127.0.0.1:11211"]
`;

const argumentsOf = (...amqp: string[]) =>
  poolQueueArguments(topologyOptions(parseConfig(yaml(...amqp), 't').amqp));

describe('amqp.queueType', () => {
  it('classic (the default) declares no queue type, as oslo without rabbit_quorum_queue', () => {
    expect(argumentsOf()).toEqual({});
    expect(argumentsOf('queueArguments: { x-max-length: 10 }')).toEqual({ 'x-max-length': 10 });
  });

  it("quorum declares oslo's arguments, each rabbit_quorum_* only when set", () => {
    expect(argumentsOf('durable: true', 'queueType: quorum')).toEqual({ 'x-queue-type': 'quorum' });
    expect(
      argumentsOf(
        'durable: true',
        'queueType: quorum',
        'quorum: { deliveryLimit: 50 }',
        'deadLetterExchange: dlx',
      ),
    ).toEqual({ 'x-queue-type': 'quorum', 'x-delivery-limit': 50, 'x-dead-letter-exchange': 'dlx' });
  });

  it('quorum without durable: true is an error naming the field and the fix', () => {
    expect(problems(yaml('queueType: quorum'))).toEqual([
      expect.stringMatching(/^amqp\.durable: amqp\.queueType quorum needs amqp\.durable: true/),
    ]);
  });

  it('the queue type in queueArguments is an error pointing at queueType', () => {
    expect(problems(yaml('durable: true', 'queueArguments: { x-queue-type: quorum }'))).toEqual([
      'amqp.queueArguments.x-queue-type: set amqp.queueType (classic or quorum) instead',
    ]);
  });

  it('quorum settings on a classic queue, and two delivery limits, are errors', () => {
    expect(problems(yaml('quorum: { deliveryLimit: 5 }')).join('\n')).toContain(
      'amqp.quorum: applies only with amqp.queueType: quorum',
    );
    const both = yaml(
      'durable: true',
      'queueType: quorum',
      'quorum: { deliveryLimit: 5 }',
      'queueArguments: { x-delivery-limit: 9 }',
    );
    expect(problems(both)).toEqual([
      'amqp.queueArguments.x-delivery-limit: set amqp.quorum.deliveryLimit only, not both',
    ]);
  });
});
