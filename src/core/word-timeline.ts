/**
 * Word-exact heard text: where a TTS engine reported when each word's audio starts, a piece's
 * text is cut after the last word whose audio was played to its end (the next word's start, or
 * the end of the piece's audio for its last word). Timings are placed on the text's own words
 * (runs of non-space characters) in order, since an engine's text offsets may be a little off.
 */
import type { WordTiming } from '../providers/types.js';

/** The start (ms into the piece's audio) of each word of `text`; undefined where none was reported. */
export function wordStarts(text: string, timings: readonly WordTiming[]): Array<number | undefined> {
  const words = [...text.matchAll(/\S+/g)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
  const starts: Array<number | undefined> = new Array<number | undefined>(words.length).fill(undefined);
  let next = 0;
  let lastOffset = -1;
  for (const timing of timings) {
    // espeak also reports an event pointing back into the text at a sentence break: not a word.
    if (timing.textOffset < lastOffset) continue;
    lastOffset = timing.textOffset;
    // The word that holds (or follows) the reported offset; never one already placed.
    let j = words.findIndex((w) => w.end > timing.textOffset);
    if (j < 0) break;
    j = Math.max(j, next);
    if (j >= words.length) break;
    starts[j] = timing.startMs;
    next = j + 1;
  }
  return starts;
}

/**
 * How many words of a piece were heard after `heardMs` of its audio. `durationMs`: the piece's
 * audio; `complete`: all of it was synthesized (else its last word's end is not known yet).
 * A word with no timing of its own ends where the next timed word starts.
 */
export function wordsHeard(starts: ReadonlyArray<number | undefined>, heardMs: number, durationMs: number, complete: boolean): number {
  let heard = 0;
  for (let i = 0; i < starts.length; i++) {
    const nextStart = starts.slice(i + 1).find((s) => s !== undefined);
    const endMs = nextStart ?? (complete ? durationMs : Infinity);
    if (endMs > heardMs) break;
    heard = i + 1;
  }
  return heard;
}
