import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpeakableSplitter, type SpeakableSplitterOptions } from '../../src/core/speakable-splitter.js';

const DEFAULTS: SpeakableSplitterOptions = { maxPieceChars: 200, firstPieceMinChars: 12 };

/** Feeds the tokens one by one; returns the pieces of every push and of the flush, in order. */
function split(tokens: string[], options: Partial<SpeakableSplitterOptions> = {}): string[] {
  const splitter = new SpeakableSplitter({ ...DEFAULTS, ...options });
  const pieces: string[] = [];
  for (const token of tokens) pieces.push(...splitter.push(token));
  pieces.push(...splitter.flush());
  return pieces;
}

const whole = (text: string, options?: Partial<SpeakableSplitterOptions>) => split([text], options);
const chars = (text: string, options?: Partial<SpeakableSplitterOptions>) => split([...text], options);
/** Word tokens with their trailing whitespace, like most LLM tokenizers emit. */
const words = (text: string, options?: Partial<SpeakableSplitterOptions>) => split(text.split(/(?<=\s)/), options);

describe('SpeakableSplitter', () => {
  it('emits the first clause early, as soon as its comma is followed by a space', () => {
    const splitter = new SpeakableSplitter(DEFAULTS);
    assert.deepEqual(splitter.push('Well, I think'), []); // "Well," is shorter than firstPieceMinChars
    assert.deepEqual(splitter.push(' that is right,'), []); // the comma is not confirmed yet
    assert.deepEqual(splitter.push(' and then'), ['Well, I think that is right,']);
    // Later pieces wait for a sentence end: commas no longer cut.
    assert.deepEqual(splitter.push(' more, and more'), []);
    assert.deepEqual(splitter.push('. Next'), ['and then more, and more.']);
    assert.deepEqual(splitter.flush(), ['Next']);
  });

  it('emits the first piece at a sentence end too, and ignores clause marks after it', () => {
    assert.deepEqual(whole('Of course you can! Here it is: one, two; three. Done.'), ['Of course you can!', 'Here it is: one, two; three.', 'Done.']);
    // "Sure thing!" is shorter than firstPieceMinChars, so the first piece runs on to the next boundary.
    assert.deepEqual(whole('Sure thing! Here it is: one, two.'), ['Sure thing! Here it is:', 'one, two.']);
    assert.deepEqual(whole('The answer — as you know — is yes.'), ['The answer —', 'as you know — is yes.']);
  });

  it('cuts sentences at . ! ? … followed by whitespace', () => {
    assert.deepEqual(whole('It works now. Are you sure? Yes! Well… maybe. "Quoted." (Aside.) End'), [
      'It works now.',
      'Are you sure?',
      'Yes!',
      'Well…',
      'maybe.',
      '"Quoted."',
      '(Aside.)',
      'End',
    ]);
  });

  it('waits for the character after a period before cutting', () => {
    const splitter = new SpeakableSplitter(DEFAULTS);
    assert.deepEqual(splitter.push('The version is 3.'), []);
    assert.deepEqual(splitter.push('5 now. Then'), ['The version is 3.5 now.']);
    assert.deepEqual(splitter.flush(), ['Then']);
  });

  it('does not split decimals, domains, or abbreviations', () => {
    const text = 'Dr. Smith paid $3.50 at example.com yesterday, e.g. for tea. Mr. J. R. Tolkien vs. i.e. nobody. U.S. readers agree.';
    assert.deepEqual(whole(text), [
      'Dr. Smith paid $3.50 at example.com yesterday,',
      'e.g. for tea.',
      'Mr. J. R. Tolkien vs. i.e. nobody.',
      'U.S. readers agree.',
    ]);
  });

  it('splits Hindi at the danda, and CJK at its full-width marks', () => {
    assert.deepEqual(whole('नमस्ते, आप कैसे हैं। मैं ठीक हूँ। धन्यवाद।'), ['नमस्ते, आप कैसे हैं।', 'मैं ठीक हूँ।', 'धन्यवाद।']);
    assert.deepEqual(whole('这是第一个句子，很长很长。这是第二句！好吗？'), ['这是第一个句子，很长很长。', '这是第二句！', '好吗？']);
  });

  it('never exceeds maxPieceChars: cuts at the last space that fits, else mid-word', () => {
    const long = 'word '.repeat(100).trim();
    const pieces = whole(long, { maxPieceChars: 42 });
    for (const piece of pieces) assert.ok(piece.length <= 42, piece);
    assert.equal(pieces.join(' '), long);
    assert.deepEqual(pieces.slice(0, 2), ['word word word word word word word word', 'word word word word word word word word']);
    assert.deepEqual(whole('x'.repeat(25), { maxPieceChars: 10 }), ['xxxxxxxxxx', 'xxxxxxxxxx', 'xxxxx']);
  });

  it('cuts a long sentence into pieces that fit, not only at its end', () => {
    const sentence = `${'lorem ipsum '.repeat(30).trim()}. Short one.`;
    const pieces = whole(sentence, { maxPieceChars: 100 });
    for (const piece of pieces) assert.ok(piece.length <= 100, piece);
    assert.equal(pieces.at(-1), 'Short one.');
    assert.equal(pieces.join(' '), sentence);
  });

  it('strips markdown: emphasis, code, headings, bullets, numbered items, links, quotes', () => {
    const markdown = [
      '# A heading',
      '',
      'This is **bold**, *italic*, __strong__, _emphasis_ and `inline code` with a [link text](https://example.com/a_b?c=d).',
      '- first item',
      '* second item',
      '1. numbered item',
      '2) another item',
      '> quoted words',
      '### Sub heading',
      'Keep snake_case, 3 * 4 and 1.5 liters.',
    ].join('\n');
    assert.deepEqual(whole(markdown), [
      'A heading',
      'This is bold, italic, strong, emphasis and inline code with a link text.',
      'first item',
      'second item',
      'numbered item',
      'another item',
      'quoted words',
      'Sub heading',
      'Keep snake_case, 3 4 and 1.5 liters.',
    ]);
  });

  it('drops fenced code blocks entirely, fence lines and language tags included', () => {
    const text = 'Run this, my friend:\n```python\nprint("Hello. World!")\nx = 1\n```\nThen it prints.\n~~~\nnot this.\n~~~\nDone.';
    assert.deepEqual(whole(text), ['Run this, my friend:', 'Then it prints.', 'Done.']);
    assert.deepEqual(whole('Look:\n```\nsecret()'), ['Look:']); // an unclosed block is dropped too
  });

  it('never speaks a URL held in a link split across tokens', () => {
    assert.deepEqual(split(['See the [docs', '](https://exa', 'mple.com/x', ') for more. OK']), ['See the docs for more.', 'OK']);
  });

  it('removes <think> content, even when the tags are split across tokens', () => {
    assert.deepEqual(whole('<think>The user wants a greeting. Fine.</think>Hello there, how are you?'), ['Hello there,', 'how are you?']);
    const tokens = ['<', 'thi', 'nk>Let me reason. Step one, ', 'step two.</th', 'ink', '>Answer: forty-two', ' is it. Bye.'];
    assert.deepEqual(split(tokens), ['Answer: forty-two is it.', 'Bye.']);
    assert.deepEqual(split(['Before that, we said hi. <think>hidden', ' thoughts']), ['Before that,', 'we said hi.']);
  });

  it('keeps a "<" that is not a think tag', () => {
    assert.deepEqual(split(['Since 3 <', ' 4, it is fine.']), ['Since 3 < 4,', 'it is fine.']);
  });

  it('rejects a maxPieceChars too small to make progress', () => {
    assert.throws(() => new SpeakableSplitter({ maxPieceChars: 0, firstPieceMinChars: 12 }), RangeError);
  });

  it('collapses whitespace, trims, and never returns empty or unspeakable pieces', () => {
    assert.deepEqual(whole('  Lots   of \t space,\n\n\n  and   lines.  \n\n'), ['Lots of space,', 'and lines.']);
    assert.deepEqual(whole('**\n---\n...\n'), []);
    assert.deepEqual(whole(''), []);
  });

  it('flush returns the tail and resets for the next stream', () => {
    const splitter = new SpeakableSplitter(DEFAULTS);
    assert.deepEqual(splitter.push('A complete sentence here. And a tail'), ['A complete sentence here.']);
    assert.deepEqual(splitter.flush(), ['And a tail']);
    assert.deepEqual(splitter.flush(), []);
    // The new stream gets an early first piece again, and no markdown or think state leaks in.
    assert.deepEqual(splitter.push('Second stream, first clause'), ['Second stream,']);
    assert.deepEqual(splitter.flush(), ['first clause']);
  });

  it('gives the same pieces for single-character, word, and whole-text feeding', () => {
    const texts = [
      'Well, I think that is right. Dr. Smith said so, e.g. in 2020. The value is 3.5 today! Really? Yes…',
      '<think>Hmm, let me see. OK.</think>Sure thing, here you go: done.',
      '# Title\n\nHere is **bold** and _it_ and `code` and a [link](https://x.com/a_b).\n\n- one\n- two\n```js\nx()\n```\nAfter the code, snake_case stays.',
      'नमस्ते, आप कैसे हैं। मैं ठीक हूँ।',
      `${'long words without any stop '.repeat(20)}end`,
    ];
    for (const text of texts) {
      const expected = whole(text, { maxPieceChars: 60 });
      assert.ok(expected.length > 1, text);
      assert.deepEqual(chars(text, { maxPieceChars: 60 }), expected, `character by character: ${text}`);
      assert.deepEqual(words(text, { maxPieceChars: 60 }), expected, `word by word: ${text}`);
    }
  });
});
