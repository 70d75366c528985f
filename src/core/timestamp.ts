// oslo writes str(datetime.utcnow()): naive UTC, a space separator, and no fraction when microseconds
// are 0: `2026-11-22 05:42:18.050543`. Read by character, not by a regular expression and a Date: every
// notification has one, and a drain reads tens of thousands a second.
const SEPARATORS: readonly (readonly [number, number])[] = [
  [4, 0x2d], // -
  [7, 0x2d],
  [10, 0x20], // space
  [13, 0x3a], // :
  [16, 0x3a],
];
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Unix epoch milliseconds for an oslo notification timestamp, or null when it is not one. */
export function parseOsloTimestamp(text: string): number | null {
  const length = text.length;
  // Seconds alone (19 characters), or a fraction of 1 to 6 digits after a dot.
  if (length !== 19 && (length < 21 || length > 26 || text.charCodeAt(19) !== 0x2e)) return null;
  for (const [at, code] of SEPARATORS) if (text.charCodeAt(at) !== code) return null;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  const hour = digits(text, 11, 13);
  const minute = digits(text, 14, 16);
  const second = digits(text, 17, 19);
  const fraction = length === 19 ? 0 : digits(text, 20, length);
  // Before the epoch is no notification's time (and Date.UTC would read a year under 100 as 19xx).
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || fraction < 0) {
    return null;
  }
  // The fraction in microseconds, then whole milliseconds (as Python's own isoformat truncates).
  const micros = fraction * 10 ** (6 - (length === 19 ? 6 : length - 20));
  return Date.UTC(year, month - 1, day, hour, minute, second, Math.floor(micros / 1000));
}

/** The decimal number in text[from, to), or -1 when a character there is not a digit. */
function digits(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function daysIn(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month - 1] as number;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return leap ? 29 : 28;
}
