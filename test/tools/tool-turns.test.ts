/**
 * The turn semantics of tools in the core, with server tools from a real MCP server on loopback
 * (official SDK) and client tools answered by the test: speculation, barge-in, late results,
 * timeouts, fillers, malformed arguments, rounds, a server that goes away.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { McpToolBackend } from '../../src/providers/tools/mcp.js';
import type { ChatMessage } from '../../src/providers/types.js';
import { startTestMcpServer, type TestMcpServer } from '../support/mcp-test-server.js';
import { concat, ScriptedAsr, silence, tone } from '../support/scripted-providers.js';
import { assertValidToolHistory, call, mcpBackend, toolResults, toolSession, WEATHER_TOOL } from '../support/tool-session.js';

const words = (text: string) => text.split(/(?<= )/);
const lastIsTool = (messages: ChatMessage[]) => messages.at(-1)?.role === 'tool';
const lastUser = (messages: ChatMessage[]) => messages.findLast((m) => m.role === 'user')?.content ?? '';

let mcp: TestMcpServer;
let backend: McpToolBackend;
before(async () => {
  mcp = await startTestMcpServer();
  backend = await mcpBackend(mcp.url);
});
after(async () => {
  await backend.close();
  await mcp.close();
});

/** An order lookup on the MCP server with the digits the user said (the model's arguments). */
const lookupFor = (messages: ChatMessage[], id = 'call_lookup') => call(id, 'find_order', { order_id: lastUser(messages).replace(/\D/g, '') });
const orderCalls = () => mcp.calls.filter((c) => c.startsWith('find_order:'));

void describe('tools and speculative start', () => {
  /** Speech, then quiet up to Riva's early end of utterance (stable at 100 ms, final at 400 ms of quiet). */
  const speechToStable = concat(silence(200), tone(800), silence(200));
  const restOfQuiet = silence(600);

  void it('hit: the early reply reaches its call and waits; the call runs once, after the final', async () => {
    const before = orderCalls().length;
    const { driver: d, llm } = toolSession({
      backend,
      speculativeStart: true,
      asr: new ScriptedAsr(['where is order 1001'], 400, { stableAfterMs: 100 }),
      reply: (messages) => (lastIsTool(messages) ? words('It ships Thursday.') : [lookupFor(messages)]),
    });
    await d.start();
    d.audio(speechToStable);
    await llm.untilCompleted(1); // the early reply's LLM said its call: the reply now waits to act
    assert.equal(orderCalls().length, before, 'nothing ran before the final');
    assert.equal(d.all('tool_activity').length, 0);
    d.audio(restOfQuiet);
    const done = await d.next('response_done');
    assert.equal(done.heardText, 'It ships Thursday.');
    assert.equal((await d.next('turn_metrics')).metrics.speculative, 'hit');
    assert.deepEqual(orderCalls().slice(before), ['find_order:1001'], 'the call ran once');
    const finalAt = d.events.findIndex((e) => e.type === 'transcript' && e.stability === 'final');
    const ranAt = d.events.findIndex((e) => e.type === 'tool_activity');
    assert.ok(finalAt >= 0 && ranAt > finalAt, 'the tool ran after the final transcript');
    d.session.end();
  });

  void it('miss: the early reply that reached a call is dropped without running it; the due reply calls with the final words', async () => {
    const before = orderCalls().length;
    const { driver: d, llm } = toolSession({
      backend,
      speculativeStart: true,
      asr: new ScriptedAsr(['where is order 1001'], 400, { stableAfterMs: 100, finalOf: () => 'where is order 1002' }),
      reply: (messages) => (lastIsTool(messages) ? words('It ships Thursday.') : [lookupFor(messages)]),
    });
    await d.start();
    d.audio(speechToStable);
    await llm.untilCompleted(1);
    d.audio(restOfQuiet);
    const done = await d.next('response_done');
    assert.equal(done.heardText, 'It ships Thursday.');
    assert.equal((await d.next('turn_metrics')).metrics.speculative, 'miss');
    assert.deepEqual(orderCalls().slice(before), ['find_order:1002'], 'only the due reply called, with the final words');
    assert.deepEqual(toolResults(llm.requests.at(-1)!), { call_lookup: 'Order 1002 ships Thursday.' });
    d.session.end();
  });
});

void describe('barge-in during tool calls', () => {
  void it('pending calls are cancelled (MCP and client), a late result is acknowledged and ignored, results that came first stay', async () => {
    const { driver: d, llm } = toolSession({
      backend,
      utterances: ['never mind'],
      reply: (messages) => {
        if (lastUser(messages) === 'never mind') return words('Okay.');
        return [call('a', 'get_weather', { city: 'Oslo' }), call('b', 'get_weather', { city: 'Lima' }), call('c', 'hold', { what: 'stock' })];
      },
    });
    await d.start({ tools: [WEATHER_TOOL] });
    const held = mcp.nextHeld();
    d.session.handle({ type: 'text', text: 'weather and stock?' });
    await d.next('tool_call', (e) => e.callId === 'b');
    d.session.handle({ type: 'tool_result', callId: 'a', output: 'Oslo: 5 C' });
    const hold = await held;
    d.audio(concat(silence(100), tone(800), silence(800))); // the user speaks over the agent
    const done = await d.next('response_done', (e) => e.responseId === 'resp_1');
    assert.equal(done.status, 'interrupted');
    assert.equal(done.cause, 'barge_in');
    assert.match(await hold.cancelled, /./, 'the MCP server got notifications/cancelled');
    const cancelled = await d.next('tool_call_cancelled');
    assert.deepEqual(cancelled, { type: 'tool_call_cancelled', responseId: 'resp_1', callId: 'b', reason: 'barge_in' });
    assert.equal(d.all('tool_call_cancelled').filter((e) => e.callId === 'a').length, 0, 'an answered call is not cancelled');
    d.session.handle({ type: 'tool_result', callId: 'b', output: 'Lima: 20 C' });
    const late = await d.next('tool_call_cancelled', (e) => e.resultIgnored === true);
    assert.equal(late.callId, 'b');
    // The next turn: the answered call and its result are there, the cancelled ones are not.
    await d.next('response_done', (e) => e.responseId === 'resp_2');
    const next = llm.requests.at(-1)!;
    assertValidToolHistory(next);
    assert.deepEqual(toolResults(next), { a: 'Oslo: 5 C' });
    assert.equal(lastUser(next), 'never mind');
    assert.ok(!d.all('error').length, JSON.stringify(d.all('error')));
    d.session.end();
  });
});

void describe('timeouts, fillers, bad arguments, rounds', () => {
  void it('a client tool past its timeout is cancelled and the model is told', async () => {
    const { driver: d, llm } = toolSession({
      reply: (messages) => (lastIsTool(messages) ? words('The weather service is slow.') : [call('t', 'get_weather', { city: 'Oslo' })]),
    });
    await d.start({ tools: [{ ...WEATHER_TOOL, timeoutMs: 200 }] });
    d.session.handle({ type: 'text', text: 'weather?' });
    const cancelled = await d.next('tool_call_cancelled');
    assert.equal(cancelled.reason, 'timeout');
    await d.next('response_done');
    assert.match(toolResults(llm.requests[1]!).t!, /did not answer within 200 ms/);
    d.session.end();
  });

  void it('a long server tool gets a filler; the answer follows it', async () => {
    const { driver: d, tts } = toolSession({
      backend,
      rounds: { fillerAfterMs: 100 },
      reply: (messages) => (lastIsTool(messages) ? words('In stock.') : [call('h', 'hold', { what: 'stock' })]),
    });
    await d.start();
    const held = mcp.nextHeld();
    d.session.handle({ type: 'text', text: 'is it in stock?' });
    const hold = await held;
    const filler = await d.next('response_text', (e) => e.delta.includes('One moment.'));
    assert.ok(filler, 'a filler while the tool runs');
    hold.answer('yes, 3 left');
    const done = await d.next('response_done');
    assert.match(done.heardText, /^One moment\.( Still working on it\.)* In stock\.$/);
    assert.equal(tts.texts.at(-1), 'In stock.');
    const started = d.events.findIndex((e) => e.type === 'tool_activity');
    assert.ok(started >= 0 && started < d.events.indexOf(filler));
    d.session.end();
  });

  for (const filler of [true, false]) {
    void it(`client tools get a filler unless the client turned it off (toolFiller ${filler})`, async () => {
      const { driver: d, tts } = toolSession({
        rounds: { fillerAfterMs: 50 },
        reply: (messages) => (lastIsTool(messages) ? words('Sorry.') : [call('f', 'get_weather', { city: 'Oslo' })]),
      });
      await d.start({ tools: [{ ...WEATHER_TOOL, timeoutMs: 600 }], toolFiller: filler });
      d.session.handle({ type: 'text', text: 'weather?' });
      await d.next('tool_call_cancelled'); // 600 ms passed: a filler was due at 50
      await d.next('response_done');
      assert.equal(tts.texts.includes('One moment.'), filler, tts.texts.join(' | '));
      d.session.end();
    });
  }

  void it('malformed arguments go back to the model as the result; it retries and the tool runs', async () => {
    const { driver: d, llm } = toolSession({
      reply: (messages) => {
        const results = messages.filter((m) => m.role === 'tool').length;
        if (results === 0) return [call('bad', 'get_weather', '{"city": Oslo')];
        if (results === 1) return [call('bad2', 'get_weather', { town: 'Oslo' })];
        if (results === 2) return [call('good', 'get_weather', { city: 'Oslo' })];
        return words('Cold.');
      },
    });
    await d.start({ tools: [WEATHER_TOOL] });
    d.session.handle({ type: 'text', text: 'weather?' });
    const toolCall = await d.next('tool_call');
    assert.equal(toolCall.callId, 'good', 'malformed calls never reach the client');
    d.session.handle({ type: 'tool_result', callId: 'good', output: '3 C' });
    await d.next('response_done');
    const results = toolResults(llm.requests.at(-1)!);
    assert.match(results.bad!, /^Error: the arguments are not valid JSON/);
    assert.match(results.bad2!, /^Error: the arguments do not match the tool's parameters: .*city/);
    assert.equal(results.good, '3 C');
    d.session.end();
  });

  void it('bounded: a model that keeps writing bad arguments is told to answer without tools', async () => {
    const { driver: d, llm } = toolSession({
      rounds: { argumentRetries: 1 },
      reply: (messages, opts) => (opts.toolChoice === 'none' ? words('I cannot check that.') : [call(`x${messages.length}`, 'get_weather', 'nonsense')]),
    });
    await d.start({ tools: [WEATHER_TOOL] });
    d.session.handle({ type: 'text', text: 'weather?' });
    const done = await d.next('response_done');
    assert.equal(done.heardText, 'I cannot check that.');
    assert.deepEqual(llm.options.map((o) => o.toolChoice), ['auto', 'auto', 'none']);
    assert.match(Object.values(toolResults(llm.requests.at(-1)!)).at(-1)!, /No more attempts: answer without calling tools\./);
    assert.equal(d.all('tool_call').length, 0);
    d.session.end();
  });

  void it(`at most TOOL_MAX_ROUNDS rounds, then the model answers without tools`, async () => {
    const { driver: d, llm } = toolSession({
      rounds: { maxRounds: 2 },
      reply: (messages, opts) => (opts.toolChoice === 'none' ? words('Enough lookups.') : [call(`r${messages.length}`, 'get_weather', { city: 'Oslo' })]),
    });
    await d.start({ tools: [WEATHER_TOOL] });
    d.session.handle({ type: 'text', text: 'weather?' });
    for (let i = 0; i < 2; i++) {
      const c = await d.next('tool_call', (e) => !d.all('tool_call').slice(0, i).includes(e));
      d.session.handle({ type: 'tool_result', callId: c.callId, output: 'cold' });
    }
    const done = await d.next('response_done');
    assert.equal(done.heardText, 'Enough lookups.');
    assert.deepEqual(llm.options.map((o) => o.toolChoice), ['auto', 'auto', 'none']);
    assert.equal(d.all('tool_call').length, 2);
    d.session.end();
  });

  void it('an MCP tool that fails (isError): the turn goes on and the model is told', async () => {
    const { driver: d, llm } = toolSession({ backend, reply: (messages) => (lastIsTool(messages) ? words('Sorry, try later.') : [call('m', 'broken', {})]) });
    await d.start();
    d.session.handle({ type: 'text', text: 'please' });
    const done = await d.next('response_done');
    assert.equal(done.heardText, 'Sorry, try later.');
    assert.equal(toolResults(llm.requests[1]!).m, 'Error: the database is on fire');
    assert.equal((await d.next('tool_activity', (e) => e.outcome !== undefined)).outcome, 'error');
    d.session.end();
  });

  void it('an MCP server that goes away mid-call: the call ends as unavailable, the model is told, the turn goes on', async () => {
    const gone = await startTestMcpServer();
    const goneBackend = await mcpBackend(gone.url, ['hold']);
    const { driver: d, llm } = toolSession({ backend: goneBackend, reply: (messages) => (lastIsTool(messages) ? words('The stock system is down.') : [call('g', 'hold', { what: 'stock' })]) });
    await d.start();
    const held = gone.nextHeld();
    d.session.handle({ type: 'text', text: 'in stock?' });
    await held;
    await gone.close(); // the server is gone, its connections cut
    const done = await d.next('response_done');
    assert.equal(done.heardText, 'The stock system is down.');
    assert.match(toolResults(llm.requests[1]!).g!, /^Error: the tool server "shop" (went away|failed) during the call/);
    assert.equal((await d.next('tool_activity', (e) => e.outcome !== undefined)).outcome, 'unavailable');
    d.session.end();
    await goneBackend.close();
  });
});
