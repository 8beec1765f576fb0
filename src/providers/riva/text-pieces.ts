/**
 * Cuts text for a TTS backend that limits the length of one request (Riva's Magpie rejects long
 * ones; NVIDIA's clients send at most 200 characters): at sentence ends, else at clause breaks,
 * else between words, and only mid-word when a single word is longer than the limit.
 */
const SENTENCE_END = /[.!?;:]["')\]]?\s/g;
const CLAUSE_BREAK = /[,\u2013\u2014-]\s/g;

export function splitForTts(text: string, maxChars: number): string[] {
  if (!(maxChars >= 1)) throw new RangeError(`maxChars must be at least 1; got ${maxChars}`);
  const pieces: string[] = [];
  let rest = text.replace(/\s+/g, ' ').trim();
  while (rest.length > maxChars) {
    const cut = cutAt(rest, maxChars);
    pieces.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest) pieces.push(rest);
  return pieces;
}

/** Where to end the next piece: the last good break that keeps it within `maxChars`. */
function cutAt(text: string, maxChars: number): number {
  const window = text.slice(0, maxChars + 1); // a break right after the limit still counts
  for (const pattern of [SENTENCE_END, CLAUSE_BREAK]) {
    const end = lastMatchEnd(window, pattern);
    // A break too near the start would leave a tiny piece and a long rest.
    if (end > maxChars / 3) return end;
  }
  const space = window.lastIndexOf(' ');
  return space > 0 ? space + 1 : maxChars;
}

function lastMatchEnd(text: string, pattern: RegExp): number {
  let end = -1;
  for (const match of text.matchAll(pattern)) end = match.index + match[0].length - 1; // keep the space out
  return end > 0 && end <= text.length - 1 ? end : -1;
}
