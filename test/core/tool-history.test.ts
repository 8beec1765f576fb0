/**
 * The conversation's items as Chat Completions messages (core/tool-history.ts): tool calls only
 * with their results, together, wherever the items sit; and the filler's clock (tool-filler.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConversationItem } from '../../src/core/events.js';
import { ConversationHistory } from '../../src/core/history.js';
import { fillerPhrases, nextFillerAt } from '../../src/core/tool-filler.js';
import { chatMessages, orphanToolItems } from '../../src/core/tool-history.js';

const user = (id: string, text: string): ConversationItem => ({ id, role: 'user', text, origin: 'text' });
const said = (id: string, text: string): ConversationItem => ({ id, role: 'assistant', text, origin: 'audio' });
const callItem = (callId: string, name = 'f'): ConversationItem => ({ id: `fc_${callId}`, role: 'assistant', text: '', origin: 'text', tool: { kind: 'call', callId, name, arguments: '{}' } });
const output = (callId: string, text: string): ConversationItem => ({ id: `fco_${callId}`, role: 'tool', text, origin: 'text', tool: { kind: 'output', callId } });
const tc = (id: string, name = 'f') => ({ id, type: 'function' as const, function: { name, arguments: '{}' } });

void describe('items as Chat Completions messages', () => {
  const cases: Array<[string, ConversationItem[], unknown]> = [
    ['a reply with calls and results: one assistant message with the calls, then a tool message each', [user('u', 'q'), said('r', 'Checking.'), callItem('a'), callItem('b'), output('a', 'A'), output('b', 'B')], [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'Checking.', tool_calls: [tc('a'), tc('b')] },
      { role: 'tool', tool_call_id: 'a', content: 'A' },
      { role: 'tool', tool_call_id: 'b', content: 'B' },
    ]],
    ['a call with no result yet is left out; its reply text stays', [user('u', 'q'), said('r', 'Checking.'), callItem('a'), callItem('b'), output('b', 'B')], [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'Checking.', tool_calls: [tc('b')] },
      { role: 'tool', tool_call_id: 'b', content: 'B' },
    ]],
    ['a result added after other items still follows its call', [user('u', 'q'), callItem('a'), user('u2', 'more'), output('a', 'A')], [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: '', tool_calls: [tc('a')] },
      { role: 'tool', tool_call_id: 'a', content: 'A' },
      { role: 'user', content: 'more' },
    ]],
    ['a result whose call is gone is left out', [user('u', 'q'), output('x', 'X'), said('r', 'Hi.')], [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'Hi.' }]],
    ['calls of a reply with nothing heard: an empty assistant message carries them', [user('u', 'q'), said('r', ''), callItem('a'), output('a', 'A')], [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: '', tool_calls: [tc('a')] },
      { role: 'tool', tool_call_id: 'a', content: 'A' },
    ]],
  ];
  for (const [name, items, expected] of cases) void it(name, () => assert.deepEqual(chatMessages(items), expected));

  void it('orphans: calls without results (unless still pending) and results without calls', () => {
    const items = [callItem('a'), callItem('b'), output('b', 'B'), output('c', 'C'), callItem('p')];
    assert.deepEqual(orphanToolItems(items, new Set(['p'])), ['fc_a', 'fco_c']);
  });

  void it('trimming the oldest items never leaves half an exchange', () => {
    const history = new ConversationHistory(2);
    for (const item of [user('u', 'q'), callItem('a'), output('a', 'A'), said('r', 'Answer.')]) history.insert(item);
    // The bound cut the call: its result went with it.
    assert.equal(history.has('fco_a'), false);
    assert.deepEqual(history.request('', 1_000_000).messages, [{ role: 'assistant', content: 'Answer.' }]);
  });
});

void describe('fillers', () => {
  const table: Array<[number, number, number, number]> = [
    // now, silent since, after, due
    [1000, 0, 1500, 1500],
    [1000, 900, 1500, 2400],
    [5000, 1000, 1500, 5000],
  ];
  for (const [now, since, after, due] of table) void it(`silent since ${since}, now ${now}: due at ${due}`, () => assert.equal(nextFillerAt(now, since, after), due));
  void it('phrases by language: the tag, else its primary subtag, else none', () => {
    const table = { en: ['One moment.'], 'pt-br': ['Um instante.'] };
    assert.deepEqual(fillerPhrases('en-GB', table), ['One moment.']);
    assert.deepEqual(fillerPhrases('pt-BR', table), ['Um instante.']);
    assert.deepEqual(fillerPhrases('hi', table), []);
  });
});
