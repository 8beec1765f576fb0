/**
 * Client tools in the core, as voice.v1 runs them: the gateway sends `tool_call`, the client
 * answers `tool_result`, and the reply goes on with the result in the same reply.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChatMessage } from '../../src/providers/types.js';
import { assertValidToolHistory, call, toolResults, toolSession, WEATHER_TOOL } from '../support/tool-session.js';

const words = (text: string) => text.split(/(?<= )/);
const lastIsTool = (messages: ChatMessage[]) => messages.at(-1)?.role === 'tool';

void describe('client tools', () => {
  void it('a tool round trip: text before the call is spoken, the result goes back, the reply goes on', async () => {
    const { driver: d, llm, tts } = toolSession({
      reply: (messages) =>
        lastIsTool(messages) ? words('It is 12 degrees in Oslo.') : messages.at(-1)?.content === 'and tomorrow?' ? words('Milder.') : ['Let me check. ', call('call_1', 'get_weather', { city: 'Oslo' })],
    });
    await d.start({ tools: [WEATHER_TOOL] });
    d.session.handle({ type: 'text', text: 'weather in Oslo?' });
    const toolCall = await d.next('tool_call');
    assert.deepEqual({ ...toolCall, itemId: undefined }, { type: 'tool_call', responseId: 'resp_1', callId: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}', itemId: undefined, previousItemId: toolCall.previousItemId });
    d.session.handle({ type: 'tool_result', callId: 'call_1', output: '{"temperature_c":12}' });
    const done = await d.next('response_done');
    assert.equal(done.status, 'completed');
    assert.equal(done.heardText, 'Let me check. It is 12 degrees in Oslo.');
    assert.deepEqual(tts.texts, ['Let me check.', 'It is 12 degrees in Oslo.']);
    // The second request: the assistant's call (with what it said) and the tool's result.
    const second = llm.requests[1]!;
    assert.deepEqual(second.slice(-2), [
      { role: 'assistant', content: 'Let me check. ', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"temperature_c":12}' },
    ]);
    assert.deepEqual(llm.options[0]!.tools, [WEATHER_TOOL]);
    assert.equal(llm.options[0]!.toolChoice, 'auto');
    // The next turn sees the exchange, whole and valid.
    d.session.handle({ type: 'text', text: 'and tomorrow?' });
    await d.next('response_done', (e) => e.responseId === 'resp_2');
    const third = llm.requests.at(-1)!;
    assertValidToolHistory(third);
    assert.deepEqual(toolResults(third), { call_1: '{"temperature_c":12}' });
    d.session.end();
  });

  void it('several calls in one round run together; their results go back in call order', async () => {
    const { driver: d, llm } = toolSession({
      reply: (messages) => (lastIsTool(messages) ? words('Oslo is colder.') : [call('a', 'get_weather', { city: 'Oslo' }), call('b', 'get_weather', { city: 'Lima' })]),
    });
    await d.start({ tools: [WEATHER_TOOL] });
    d.session.handle({ type: 'text', text: 'Oslo or Lima?' });
    await d.next('tool_call', (e) => e.callId === 'b');
    d.session.handle({ type: 'tool_result', callId: 'b', output: '20 C' });
    d.session.handle({ type: 'tool_result', callId: 'a', output: '5 C' });
    await d.next('response_done');
    const second = llm.requests[1]!;
    assert.deepEqual(second.slice(-3).map((m) => (m.role === 'tool' ? `${m.tool_call_id}=${m.content}` : m.role)), ['assistant', 'a=5 C', 'b=20 C']);
    d.session.end();
  });
});
