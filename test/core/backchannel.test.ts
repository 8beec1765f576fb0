import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyWords } from '../../src/core/backchannel.js';

describe('backchannel words', () => {
  const cases: Array<[string, string, number, boolean]> = [
    // text, language, words, only backchannel
    ['uh-huh', 'en-US', 2, true],
    ['Uh huh.', 'en-US', 2, true],
    ['Mm-hmm, yeah, okay!', 'en', 4, true],
    ['yeah yeah yeah', 'en-GB', 3, true],
    ['all right', 'en-US', 2, true],
    ['I see', 'en-US', 2, true],
    ['wait', 'en-US', 1, false],
    ['yeah but what about Paris', 'en-US', 5, false],
    ['okay stop', 'en-US', 2, false],
    ['', 'en-US', 0, false],
    ['ja genau', 'de-DE', 2, true],
    ['ja aber warte', 'de', 3, false],
    ["d'accord", 'fr-FR', 1, true],
    ['vale, claro', 'es', 2, true],
    ['हाँ जी', 'hi', 2, true],
    ['हाँ लेकिन रुको', 'hi-IN', 3, false],
    ['嗯嗯', 'zh-CN', 1, true],
    ['okay', 'sw', 1, true], // no Swahili list: the English one
  ];
  for (const [text, language, words, onlyBackchannel] of cases) {
    test(`${JSON.stringify(text)} (${language}): ${words} words, ${onlyBackchannel ? 'only backchannel' : 'a real interruption'}`, () => {
      assert.deepEqual(classifyWords(text, language), { words, onlyBackchannel });
    });
  }
});
