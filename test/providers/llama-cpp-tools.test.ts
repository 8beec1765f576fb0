/**
 * Function calling on the real node-llama-cpp engine. A random-weight model never writes a call,
 * so the test writes a tiny model that does: a hand-made bigram model (test/support/tiny-gguf.ts,
 * `nextToken`) whose greedy text is "Let me check." then the call prefix of the model's chat
 * wrapper, after which node-llama-cpp's own grammar takes over and writes the call's name and
 * parameters; given the result, it answers "It is noon.". Everything between is the library's:
 * the prompt that describes the functions, the trigger, the grammar, the stop on a call, and the
 * history format that carries a call and its result back.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chatFunctions, toChatHistory } from '../../src/providers/llm/llama-cpp-history.js';
import { gbnfParams, withoutDeclinedOptionals } from '../../src/providers/llm/gbnf-params.js';
import { LlamaCppChatModel } from '../../src/providers/llm/llama-cpp.js';
import type { ChatMessage, ToolSpec } from '../../src/providers/types.js';
import { outputs } from '../support/llm-output.js';
import { ScriptedAsr, ScriptedTts, ScriptedVad } from '../support/scripted-providers.js';
import { SessionDriver, sessionConfig } from '../support/session-harness.js';
import { toolRoundSettings } from '../support/tool-session.js';
import { writeTinyGguf } from '../support/tiny-gguf.js';

const dir = mkdtempSync(join(tmpdir(), 'llama-cpp-tools-'));
const modelPath = join(dir, 'caller.gguf');
let llm: LlamaCppChatModel;

/** The text the scripted model writes: after the prompt's last token ("▁" of " [/INST] "), and after a result ("\n"). */
const SCRIPT = {
  '▁': '▁Let',
  '▁Let': '▁me',
  '▁me': '▁check.',
  '▁check.': '||call:',
  '<0x0A>': '▁It',
  '▁It': '▁is',
  '▁is': '▁noon.',
  '▁noon.': '</s>',
};

const CLOCK: ToolSpec = {
  name: 'get_time',
  description: 'The time now in a city',
  parameters: { type: 'object', properties: { city: { type: 'string', enum: ['Oslo', 'Lima'] }, format: { type: 'string', enum: ['24h', '12h'] } }, required: ['city'] },
};
const question: ChatMessage[] = [
  { role: 'system', content: 'Answer briefly.' },
  { role: 'user', content: 'what time is it in Oslo' },
];
const live = () => new AbortController().signal;

before(() => {
  writeTinyGguf(modelPath, { nextToken: SCRIPT });
  llm = new LlamaCppChatModel({ modelPath, threads: 1, contextSize: 2048, sequences: 1, sequenceWaitMs: 10_000, temperature: 0, maxTokens: 64 });
});

after(async () => {
  await llm.close();
  rmSync(dir, { recursive: true, force: true });
});

void describe('node-llama-cpp function calling', () => {
  void it('speaks the text before the call, then yields the call with arguments its grammar held to the schema', async () => {
    const got = await outputs(llm.stream(question, { tools: [CLOCK] }, live()));
    assert.equal(got.text.join(''), 'Let me check.');
    assert.deepEqual(got.order.at(-1), 'tool_call');
    assert.equal(got.calls.length, 1);
    const call = got.calls[0]!;
    assert.equal(call.function.name, 'get_time');
    assert.match(call.id, /^call_\w{24}$/);
    const args = JSON.parse(call.function.arguments) as Record<string, unknown>;
    assert.ok(['Oslo', 'Lima'].includes(args.city as string), call.function.arguments);
    // The optional property became "this or null" in the grammar; a null it chose is not sent on.
    assert.ok(!('format' in args) || ['24h', '12h'].includes(args.format as string), call.function.arguments);
  });

  void it('continues after the result in the same model turn and answers', async () => {
    const history: ChatMessage[] = [
      ...question,
      { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_time', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"time":"12:00"}' },
    ];
    const got = await outputs(llm.stream(history, { tools: [CLOCK] }, live()));
    assert.equal(got.text.join(''), 'It is noon.');
    assert.deepEqual(got.calls, []);
  });

  void it('tool_choice "none" offers no functions: the same prompt then writes the call prefix as plain text', async () => {
    const got = await outputs(llm.stream(question, { tools: [CLOCK], toolChoice: 'none' }, live()));
    assert.deepEqual(got.calls, []);
    assert.match(got.text.join(''), /^Let me check\./);
  });
});

void describe('the local model acting in a session', () => {
  void it('the gateway runs the local model\'s call as a client tool and the model answers with the result', async () => {
    const tools = { rounds: toolRoundSettings(), fillerPhrases: {}, declarationsMaxBytes: 65536 };
    const d = new SessionDriver({ vad: new ScriptedVad(), asr: new ScriptedAsr([]), llm, tts: new ScriptedTts({ msPerChar: 5 }) }, sessionConfig({ tools, llmTemperature: 0 }));
    await d.start({ tools: [{ name: CLOCK.name, description: CLOCK.description, parameters: CLOCK.parameters }] });
    d.session.handle({ type: 'text', text: 'what time is it in Oslo' });
    const toolCall = await d.next('tool_call', () => true, 60_000);
    assert.equal(toolCall.name, 'get_time');
    d.session.handle({ type: 'tool_result', callId: toolCall.callId, output: '{"time":"12:00"}' });
    const done = await d.next('response_done', () => true, 60_000);
    assert.equal(done.heardText, 'Let me check. It is noon.');
    d.session.end();
  });
});

void describe('Chat Completions history as node-llama-cpp history', () => {
  void it('one model turn holds the text, the calls with their results, and the text after them', () => {
    const items = toChatHistory([
      { role: 'system', content: 's' },
      { role: 'user', content: 'u' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          { id: 'a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
          { id: 'b', type: 'function', function: { name: 'g', arguments: 'not json' } },
        ],
      },
      { role: 'tool', tool_call_id: 'b', content: 'plain text' },
      { role: 'tool', tool_call_id: 'a', content: '{"ok":true}' },
      { role: 'assistant', content: 'Done.' },
      { role: 'user', content: 'next' },
      { role: 'tool', tool_call_id: 'stray', content: 'nowhere to go' },
    ]);
    assert.deepEqual(items, [
      { type: 'system', text: 's' },
      { type: 'user', text: 'u' },
      {
        type: 'model',
        response: [
          'Checking.',
          { type: 'functionCall', name: 'f', params: { x: 1 }, result: { ok: true }, startsNewChunk: true },
          { type: 'functionCall', name: 'g', params: 'not json', result: 'plain text', startsNewChunk: false },
          'Done.',
        ],
      },
      { type: 'user', text: 'next' },
    ]);
  });

  void it('tool choice: none offers nothing, a name offers that tool only, auto and required offer all', () => {
    const other: ToolSpec = { name: 'other', description: 'o', parameters: { type: 'object', properties: {} } };
    assert.equal(chatFunctions([CLOCK, other], 'none'), undefined);
    assert.equal(chatFunctions([], 'auto'), undefined);
    assert.deepEqual(Object.keys(chatFunctions([CLOCK, other], { name: 'other' })!), ['other']);
    assert.equal(chatFunctions([CLOCK], { name: 'missing' }), undefined);
    assert.deepEqual(Object.keys(chatFunctions([CLOCK, other], 'required')!), ['get_time', 'other']);
  });
});

void describe('JSON Schema parameters as the grammar takes them', () => {
  const cases: Array<[string, Record<string, unknown>, unknown]> = [
    ['required stays, optional may be null', { type: 'object', properties: { a: { type: 'string' }, b: { type: 'integer' } }, required: ['a'] }, { type: 'object', properties: { a: { type: 'string' }, b: { oneOf: [{ type: 'null' }, { type: 'integer' }] } } }],
    ['enum, const, formats, bounds', { type: 'object', properties: { e: { enum: ['x', 'y'] }, c: { const: 3 }, d: { type: 'string', format: 'date' }, s: { type: 'string', maxLength: 5, pattern: '^a' } }, required: ['e', 'c', 'd', 's'] }, { type: 'object', properties: { e: { enum: ['x', 'y'] }, c: { const: 3 }, d: { type: 'string', format: 'date' }, s: { type: 'string', maxLength: 5 } } }],
    ['arrays, type lists, anyOf', { type: 'object', properties: { l: { type: 'array', items: { type: ['string', 'null'] }, maxItems: 3 }, u: { anyOf: [{ type: 'number' }, { type: 'boolean' }] } }, required: ['l', 'u'] }, { type: 'object', properties: { l: { type: 'array', items: { type: ['string', 'null'] }, maxItems: 3 }, u: { oneOf: [{ type: 'number' }, { type: 'boolean' }] } } }],
    ['an object with no properties takes any keys', { type: 'object' }, { type: 'object', properties: {}, additionalProperties: true }],
    ['$defs and $ref', { type: 'object', properties: { p: { $ref: '#/definitions/P' } }, required: ['p'], definitions: { P: { type: 'string' } } }, { type: 'object', properties: { p: { $ref: '#/$defs/P' } }, $defs: { P: { type: 'string' } } }],
  ];
  for (const [name, schema, expected] of cases) void it(name, () => assert.deepEqual(gbnfParams(schema), expected));

  void it('a null the model wrote for an optional property is dropped; one the schema allows is kept', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' }, n: { type: ['string', 'null'] }, o: { type: 'object', properties: { x: { type: 'integer' } } } }, required: ['a'] };
    assert.deepEqual(withoutDeclinedOptionals({ a: null, n: null, o: { x: null } }, schema), { a: null, n: null, o: {} });
  });
});
