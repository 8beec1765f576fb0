import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitForTts } from '../../src/providers/riva/text-pieces.js';

void describe('splitForTts', () => {
  void it('keeps short text whole', () => {
    assert.deepEqual(splitForTts('  Hello   there. ', 200), ['Hello there.']);
  });

  void it('cuts at sentence ends, then clause breaks, then spaces, within the limit', () => {
    assert.deepEqual(splitForTts('One two three. Four five six seven.', 20), ['One two three.', 'Four five six seven.']);
    assert.deepEqual(splitForTts('Alpha beta gamma, delta epsilon zeta eta', 25), ['Alpha beta gamma,', 'delta epsilon zeta eta']);
    assert.deepEqual(splitForTts('aaaa bbbb cccc dddd eeee', 10), ['aaaa bbbb', 'cccc dddd', 'eeee']);
  });

  void it('cuts a word longer than the limit, and never returns a piece over it', () => {
    const pieces = splitForTts('x'.repeat(25), 10);
    assert.deepEqual(pieces, ['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
    const text = 'word '.repeat(300);
    assert.ok(splitForTts(text, 200).every((p) => p.length <= 200));
  });
});
