import { describe, expect, it } from 'vitest';
import { droppedFrom } from '../../src/adapters/amqp091/dead-letters.ts';

const death = (reason: string, queue = 'pool') => ({ 'x-death': [{ reason, queue, count: 1 }] });

describe('dead-lettered messages: a drop by the broker is a gap, our own parking is not', () => {
  it.each([
    ['maxlen', 'maxlen'],
    ['expired', 'expired'],
    ['delivery_limit', 'delivery_limit'],
    ['something-new', 'other'],
    ['constructor', 'other'],
    ['__proto__', 'other'],
    ['toString', 'other'],
    ['not a <word>', 'other'],
    ['', 'other'],
  ])('%s from the pool queue → %s', (reason, gap) => {
    expect(droppedFrom('pool', death(reason))).toBe(gap);
  });

  it('forged headers answer only with what they hold themselves, never with Object.prototype', () => {
    const inherited = Object.create({ reason: 'maxlen', queue: 'pool' }) as Record<string, unknown>;
    expect(droppedFrom('pool', { 'x-death': [inherited] })).toBeNull();
    expect(droppedFrom('pool', Object.create({ 'x-first-death-queue': 'pool' }))).toBeNull();
  });

  it('a rejection (this daemon parking a message) is no gap', () => {
    expect(droppedFrom('pool', death('rejected'))).toBeNull();
  });

  it('a death in another queue is not ours', () => {
    expect(droppedFrom('pool', death('maxlen', 'elsewhere'))).toBeNull();
  });

  it('the most recent death counts; the x-first-death headers stand in when x-death is absent', () => {
    expect(
      droppedFrom('pool', {
        'x-death': [death('expired')['x-death'][0], { reason: 'rejected', queue: 'pool' }],
      }),
    ).toBe('expired');
    expect(droppedFrom('pool', { 'x-first-death-reason': 'maxlen', 'x-first-death-queue': 'pool' })).toBe(
      'maxlen',
    );
    expect(droppedFrom('pool', {})).toBeNull();
  });
});
