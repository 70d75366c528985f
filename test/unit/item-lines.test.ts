import { describe, expect, it } from 'vitest';
import { ItemLines } from '../../src/observability/item-lines.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { ManualClock } from '../support/memory-cache-server.ts';
import { capturingLogger } from '../support/memory-pipeline.ts';

const WRITTEN = 'invalidation written';
const PARKED = 'parked a notification that cannot be applied';

function lines(perSecond: number) {
  const clock = new ManualClock(1_000_000);
  const { logger, lines } = capturingLogger();
  const limiter = new ItemLines(logger, perSecond, clock.now);
  const write = (level: 'info' | 'warn', message: string) => {
    if (limiter.allow(level, message)) logger[level](message);
  };
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { clock, limiter, write, parsed };
}

describe('per-item log lines', () => {
  it('writes up to the limit each second, then one summary of what was left out, by message', () => {
    const { clock, limiter, write, parsed } = lines(3);
    for (let i = 0; i < 10; i++) write('info', WRITTEN);
    write('warn', PARKED);
    expect(parsed().map((l) => l.msg)).toEqual([WRITTEN, WRITTEN, WRITTEN]);
    limiter.flush();
    const summary = parsed().at(-1);
    // A left-out warning makes the summary a warning too.
    expect(summary).toMatchObject({
      level: 'warn',
      leftOut: { [WRITTEN]: 7, [PARKED]: 1 },
      limitPerSecond: 3,
    });
    clock.advance(1000);
    write('info', WRITTEN);
    expect(parsed().at(-1)?.msg).toBe(WRITTEN);
  });

  it('writes the summary at the end of the second even when no further item comes', async () => {
    const { logger, lines: out } = capturingLogger();
    const limiter = new ItemLines(logger, 1);
    expect(limiter.allow('info', WRITTEN)).toBe(true);
    expect(limiter.allow('info', WRITTEN)).toBe(false);
    await new Promise((r) => setTimeout(r, 1100));
    expect(JSON.parse(out.at(-1) as string)).toMatchObject({ level: 'info', leftOut: { [WRITTEN]: 1 } });
  });

  it('0 writes only summaries; a level that is off is neither written nor counted', () => {
    const { limiter, write, parsed } = lines(0);
    write('info', WRITTEN);
    limiter.flush();
    expect(parsed()).toMatchObject([{ leftOut: { [WRITTEN]: 1 } }]);
    const quiet = new ItemLines(createLogger('warn', {}), 0);
    expect(quiet.allow('info', WRITTEN)).toBe(false);
    quiet.flush();
  });
});
