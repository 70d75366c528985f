/** The message of anything thrown: an Error's message, else its text. Never the value of a secret. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
