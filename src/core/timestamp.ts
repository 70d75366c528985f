// oslo writes str(datetime.utcnow()): naive UTC, a space separator, and no fraction when microseconds are 0.
const OSLO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

/** Unix epoch milliseconds for an oslo notification timestamp, or null when it is not one. */
export function parseOsloTimestamp(text: string): number | null {
  const m = OSLO_TIMESTAMP.exec(text);
  if (!m) return null;
  const [, year, month, day, hour, minute, second, fraction = '0'] = m;
  const ms = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
    Math.floor(Number(fraction.padEnd(6, '0')) / 1000),
  );
  // Date.UTC rolls 2026-02-31 over to March; a real timestamp round-trips.
  const check = new Date(ms);
  if (check.getUTCDate() !== Number(day) || check.getUTCMonth() !== Number(month) - 1) return null;
  return ms;
}
