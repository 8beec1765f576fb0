/**
 * The built-in end_call in the core: offered only to a session started with endCallTool; a call
 * made together with other tools is refused (the model is told to call it alone, after the
 * results); called alone, the reply ends there and its response_done carries endsCall.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { END_CALL_NOT_ALONE } from '../../src/core/end-call-tool.js';
import { assertValidToolHistory, call, toolResults, toolSession, WEATHER_TOOL } from '../support/tool-session.js';

void describe('end_call in the core', () => {
  void it('is refused beside other tools, ends the reply when called alone, and is offered only with endCallTool', async () => {
    const { driver: d, llm } = toolSession({
      reply: (messages) => {
        const last = messages.at(-1)!;
        if (last.role !== 'tool') return ['Let me check. ', call('w', 'get_weather', { city: 'Oslo' }), call('e1', 'end_call', { reason: 'done' })];
        return ['It is sunny. Goodbye. ', call('e2', 'end_call', { reason: 'the caller is done' })];
      },
    });
    d.session.handle({ type: 'start', settings: { tools: [WEATHER_TOOL] }, metadata: {}, endCallTool: true });
    await d.next('ready');
    d.session.handle({ type: 'text', text: 'weather in Oslo, then bye' });
    const weather = await d.next('tool_call');
    assert.equal(weather.name, 'get_weather', 'end_call is never sent to the client');
    d.session.handle({ type: 'tool_result', callId: 'w', output: 'sunny' });
    const done = await d.next('response_done');
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.endsCall, { reason: 'the caller is done' });
    assert.equal(done.heardText, 'Let me check. It is sunny. Goodbye.');
    assert.equal(llm.requests.length, 2, 'no LLM round after end_call');
    assert.deepEqual((llm.options[0]!.tools ?? []).map((t) => t.name), ['get_weather', 'end_call']);
    const second = llm.requests[1]!;
    assertValidToolHistory(second);
    assert.deepEqual(toolResults(second), { w: 'sunny', e1: END_CALL_NOT_ALONE });
    d.session.end();

    const plain = toolSession({ reply: () => ['Hello.'] });
    plain.driver.session.handle({ type: 'start', settings: { tools: [WEATHER_TOOL] }, metadata: {} });
    plain.driver.session.handle({ type: 'text', text: 'hi' });
    const ended = await plain.driver.next('response_done');
    assert.equal(ended.endsCall, undefined);
    assert.deepEqual((plain.llm.options[0]!.tools ?? []).map((t) => t.name), ['get_weather'], 'no end_call without the capability');
    plain.driver.session.end();
  });
});
