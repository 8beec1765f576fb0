import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { heardCut, type SpokenPiece } from '../../src/core/history.js';

const timed: SpokenPiece = {
  text: 'Sure, happy to help.',
  startMs: 0,
  durationMs: 1000,
  complete: true,
  words: [
    { textOffset: 0, textLength: 5, startMs: 0 },
    { textOffset: 6, textLength: 5, startMs: 300 },
    { textOffset: 12, textLength: 2, startMs: 650 },
    { textOffset: 15, textLength: 5, startMs: 760 },
  ],
};
const untimed: SpokenPiece = { text: 'The forecast is mild.', startMs: 1000, durationMs: 1000, complete: true };

describe('heard text of an interrupted reply', () => {
  test('with word timings: cut after the last word played to its end, not an estimate', () => {
    assert.deepEqual(heardCut([timed, untimed], 299), { text: '', estimated: false });
    assert.deepEqual(heardCut([timed, untimed], 300), { text: 'Sure,', estimated: false });
    assert.deepEqual(heardCut([timed, untimed], 700), { text: 'Sure, happy', estimated: false });
    assert.deepEqual(heardCut([timed, untimed], 1000), { text: 'Sure, happy to help.', estimated: false });
  });

  test('without: in proportion to the time played, and said to be an estimate', () => {
    assert.deepEqual(heardCut([timed, untimed], 1500), { text: 'Sure, happy to help. The forecast', estimated: true });
    assert.deepEqual(heardCut([timed, untimed], 2000), { text: 'Sure, happy to help. The forecast is mild.', estimated: false }, 'all of it played: nothing estimated');
  });
});
