/**
 * The command line of the project's scripts (demo, bench, fuzz, …), the same way for each: `--help`
 * (or `-h`) prints the usage on stdout and exits 0; an unknown option, a missing value or a bad number
 * prints one line naming it, then the usage, on stderr and exits 2. Never a stack trace.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

export interface Script {
  /** How the script names itself in an error line, e.g. `bench`. */
  readonly name: string;
  /** The whole usage text, starting with `usage: …`. */
  readonly usage: string;
}

export function parseScriptArgs<T extends ParseArgsConfig>(
  script: Script,
  config: T,
  args: readonly string[] = process.argv.slice(2),
): ReturnType<typeof parseArgs<T>> {
  // Help wins over everything else on the line, as in most command-line tools.
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${script.usage.trim()}\n`);
    process.exit(0);
  }
  try {
    // Only the arguments are added: the results are typed by the caller's options, as parseArgs<T>'s.
    return parseArgs({ ...config, args: [...args], strict: true }) as ReturnType<typeof parseArgs<T>>;
  } catch (error) {
    return usageError(script, (error as Error).message);
  }
}

/** Ends the script with a usage error: one line, then the usage. */
export function usageError(script: Script, message: string): never {
  process.stderr.write(`${script.name}: ${message}\n\n${script.usage.trim()}\n`);
  process.exit(2);
}

/** A whole number option of at least `min`, or a usage error naming the option. */
export function wholeNumber(script: Script, option: string, text: string, min = 0): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < min) {
    usageError(script, `--${option} takes a whole number ≥ ${min}, not "${text}"`);
  }
  return n;
}
