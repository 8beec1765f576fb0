/**
 * Until the agent has an `end_call` tool (issue 12), a reply that says one of the configured
 * phrases (TELEPHONY_END_PHRASES, e.g. "goodbye") ends the call once it has been heard. Matching
 * is by whole words, ignoring case and punctuation, so "Goodbye!" matches "goodbye" and
 * "goodbyes" does not.
 */
export function parseEndPhrases(setting: string): string[] {
  return setting
    .split(',')
    .map((phrase) => words(phrase))
    .filter((phrase) => phrase.length > 0);
}

export function saysEndPhrase(text: string, phrases: readonly string[]): boolean {
  if (phrases.length === 0) return false;
  const said = ` ${words(text)} `;
  return phrases.some((phrase) => said.includes(` ${phrase} `));
}

function words(text: string): string {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}']+/u)
    .filter(Boolean)
    .join(' ');
}
