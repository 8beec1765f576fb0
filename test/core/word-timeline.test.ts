import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { wordsHeard, wordStarts } from '../../src/core/word-timeline.js';

const at = (text: string, word: string, startMs: number) => ({ textOffset: text.indexOf(word), textLength: word.length, startMs });

describe('word timings placed on the text', () => {
  test('exact offsets: one start per word', () => {
    const text = 'Hello there, my friend.';
    assert.deepEqual(wordStarts(text, [at(text, 'Hello', 0), at(text, 'there', 300), at(text, 'my', 850), at(text, 'friend', 980)]), [0, 300, 850, 980]);
  });

  test('an offset that falls inside a word already placed goes to the next word (espeak after accents)', () => {
    const text = 'Café déjà vu! How';
    const timings = [at(text, 'Café', 0), at(text, 'déjà', 370), { textOffset: text.indexOf('éjà'), textLength: 4, startMs: 650 }, at(text, 'How', 1350)];
    assert.deepEqual(wordStarts(text, timings), [0, 370, 650, 1350]);
  });

  test('an event pointing back into the text (espeak at a sentence break) is not a word', () => {
    const text = 'a light breeze. Tomorrow brings';
    const timings = [at(text, 'a', 0), at(text, 'light', 60), at(text, 'breeze', 340), { textOffset: 1, textLength: 1, startMs: 1050 }, at(text, 'Tomorrow', 1060), at(text, 'brings', 1450)];
    assert.deepEqual(wordStarts(text, timings), [0, 60, 340, 1060, 1450]);
  });

  test('a word without a timing is left undefined; offsets past the text are dropped', () => {
    const text = 'one two three';
    assert.deepEqual(wordStarts(text, [at(text, 'one', 0), at(text, 'three', 500), { textOffset: 99, textLength: 1, startMs: 900 }]), [0, undefined, 500]);
  });
});

describe('words heard', () => {
  const starts = [0, 300, 850, 980];
  const cases: Array<[number, number, boolean, number]> = [
    // heardMs, durationMs, complete, words heard
    [0, 1400, true, 0],
    [299, 1400, true, 0],
    [300, 1400, true, 1], // "Hello" played to its end
    [849, 1400, true, 1],
    [979, 1400, true, 2],
    [1399, 1400, true, 3],
    [1400, 1400, true, 4],
    [5000, 1400, false, 3], // the last word's end is not known until the piece is complete
  ];
  for (const [heardMs, durationMs, complete, expected] of cases) {
    test(`${heardMs} ms of ${durationMs} (${complete ? 'complete' : 'still synthesizing'}): ${expected} words`, () => {
      assert.equal(wordsHeard(starts, heardMs, durationMs, complete), expected);
    });
  }

  test('an untimed word ends where the next timed word starts', () => {
    assert.equal(wordsHeard([0, undefined, 500], 499, 800, true), 0);
    assert.equal(wordsHeard([0, undefined, 500], 500, 800, true), 2);
  });
});
