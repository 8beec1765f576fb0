/**
 * Text a client sent, as it may appear in an error message or a log line: cut to a few dozen
 * characters with its length said, so that a 1 MB field is neither echoed back (held in the
 * client's outbound queue) nor written to the logs. Every message that names a client value
 * quotes it through `quoted`; `boundedMessage` is the last guard for the rest.
 */

/** Longest client value quoted in a message, in characters. */
const QUOTE_MAX_CHARS = 64;
/** Longest error message the session sends or logs, in characters. */
const MESSAGE_MAX_CHARS = 1000;

/** `value` as JSON text, cut to `maxChars` with its length said when it is longer. */
export function quoted(value: string, maxChars = QUOTE_MAX_CHARS): string {
  if (value.length <= maxChars) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, maxChars))}... (${value.length} characters)`;
}

/** A message cut to MESSAGE_MAX_CHARS, saying how long it was. */
export function boundedMessage(message: string): string {
  if (message.length <= MESSAGE_MAX_CHARS) return message;
  return `${message.slice(0, MESSAGE_MAX_CHARS)}... (message cut: it was ${message.length} characters)`;
}

/** An error's message, whatever was thrown. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
