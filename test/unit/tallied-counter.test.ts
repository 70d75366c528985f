import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TalliedCounter } from '../../src/observability/tallied-counter.ts';

function counterWith(labelNames: string[]) {
  const registry = new Registry();
  const counter = new TalliedCounter({ name: 'c_total', help: 'h', labelNames, registers: [registry] });
  return { registry, counter };
}

describe('TalliedCounter', () => {
  it('shows what was counted at each scrape, once', async () => {
    const { registry, counter } = counterWith(['outcome', 'source']);
    counter.count('applied', 'amqp091');
    counter.count('applied', 'amqp091');
    counter.add(3, 'parked', 'amqp10');
    const first = await registry.metrics();
    expect(first).toContain('c_total{outcome="applied",source="amqp091"} 2');
    expect(first).toContain('c_total{outcome="parked",source="amqp10"} 3');
    counter.count('applied', 'amqp091');
    const second = await registry.metrics();
    expect(second).toContain('c_total{outcome="applied",source="amqp091"} 3');
    expect(second).toContain('c_total{outcome="parked",source="amqp10"} 3');
  });

  it('counts with one label', async () => {
    const { counter } = counterWith(['action']);
    counter.add(5, 'markers');
    counter.count('markers');
    const { values } = await counter.get();
    expect(values).toEqual([{ labels: { action: 'markers' }, value: 6 }]);
  });

  it('keeps inc working beside count', async () => {
    const { counter } = counterWith(['action']);
    counter.inc({ action: 'markers' }, 2);
    counter.count('markers');
    expect((await counter.get()).values[0]?.value).toBe(3);
  });

  it('forgets counts not yet scraped when reset, and removes them with their series', async () => {
    const { registry, counter } = counterWith(['action']);
    counter.add(4, 'markers');
    counter.reset();
    counter.count('markers');
    expect(await registry.metrics()).toContain('c_total{action="markers"} 1');
    counter.add(2, 'purge');
    counter.remove('purge');
    expect(await registry.metrics()).not.toContain('action="purge"');
  });

  it('refuses a collect function of its own, and exemplars', () => {
    const collect = () => {};
    expect(() => new TalliedCounter({ name: 'c', help: 'h', labelNames: ['a'], collect })).toThrow(
      RangeError,
    );
    const exemplars = { name: 'c', help: 'h', labelNames: ['a'], enableExemplars: true };
    expect(() => new TalliedCounter(exemplars)).toThrow(RangeError);
  });

  it('takes one or two labels only', () => {
    expect(() => counterWith([])).toThrow(RangeError);
    expect(() => counterWith(['a', 'b', 'c'])).toThrow(RangeError);
  });
});
