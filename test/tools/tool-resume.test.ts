/**
 * Tools and resume (core/tool-resume.ts, core/session-snapshot.ts): a session saved with a tool
 * exchange in its history and restored (as on another replica) sends that exchange to the LLM
 * again; a client call still waiting for its result when the session was saved is cancelled on
 * restore, so the next LLM request holds no call without its result.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerEvent } from '../../src/core/events.js';
import { Session } from '../../src/core/session.js';
import type { SessionSnapshot } from '../../src/core/session-snapshot.js';
import { DEFAULT_FILLER_PHRASES } from '../../src/core/tool-filler.js';
import type { ChatMessage } from '../../src/providers/types.js';
import { sessionConfig } from '../support/session-harness.js';
import { ScriptedAsr, ScriptedTts, ScriptedVad, type ScriptedLlm } from '../support/scripted-providers.js';
import { assertValidToolHistory, call, toolResults, toolRoundSettings, toolSession, WEATHER_TOOL } from '../support/tool-session.js';
import { waitUntil } from '../support/wait-until.js';

const words = (text: string) => text.split(/(?<= )/);
const lastIsTool = (messages: ChatMessage[]) => messages.at(-1)?.role === 'tool';

/** The session of `snapshot` restored in a new Session (through JSON, as a store keeps it), and what it sends. */
function restored(llm: ScriptedLlm, snapshot: SessionSnapshot, played?: { responseId: string; playedMs: number }) {
  const data = JSON.parse(JSON.stringify(snapshot)) as SessionSnapshot;
  const tools = { rounds: toolRoundSettings(), fillerPhrases: DEFAULT_FILLER_PHRASES, declarationsMaxBytes: 65536 };
  const session = new Session({ vad: new ScriptedVad(), asr: new ScriptedAsr([]), llm, tts: new ScriptedTts({ msPerChar: 20 }) }, sessionConfig({ tools }), {}, data.sessionId);
  const events: ServerEvent[] = [];
  void (async () => {
    for await (const event of session.events) events.push(event);
  })();
  session.resume.restore(data, played);
  return { session, events };
}

void describe('tools and resume', () => {
  void it('a completed tool exchange is in the next LLM request after a restore', async () => {
    const { driver: d, llm } = toolSession({
      reply: (messages) => (lastIsTool(messages) ? words('It is 12 degrees in Oslo.') : messages.at(-1)?.content === 'and tomorrow?' ? words('Milder.') : ['Let me check. ', call('call_1', 'get_weather', { city: 'Oslo' })]),
    });
    await d.start({ tools: [WEATHER_TOOL] });
    d.session.handle({ type: 'text', text: 'weather in Oslo?' });
    await d.next('tool_call');
    d.session.handle({ type: 'tool_result', callId: 'call_1', output: '{"temperature_c":12}' });
    await d.next('response_done', (e) => e.status === 'completed');
    const snapshot = d.session.resume.snapshot();
    d.session.close('saved', 'other');

    const again = restored(llm, snapshot);
    again.session.handle({ type: 'text', text: 'and tomorrow?' });
    await waitUntil(() => again.events.some((e) => e.type === 'response_done' && e.responseId === 'resp_2'), 'the reply after the restore', 10_000);
    const next = llm.requests.at(-1)!;
    assertValidToolHistory(next);
    assert.deepEqual(toolResults(next), { call_1: '{"temperature_c":12}' });
    assert.ok(next.some((m) => m.role === 'assistant' && m.tool_calls?.[0]?.id === 'call_1'), 'the call is there with its result');
    assert.deepEqual(llm.options.at(-1)!.tools, [WEATHER_TOOL], 'the restored settings still offer the client tool');
    again.session.close('done', 'other');
  });

  void it('a client call waiting for its result when saved is cancelled on restore; a late result is ignored; the history stays valid', async () => {
    const { driver: d, llm } = toolSession({
      reply: (messages) => (messages.at(-1)?.content === 'never mind' ? words('All right.') : ['Let me check. ', call('call_1', 'get_weather', { city: 'Oslo' })]),
    });
    await d.start({ tools: [WEATHER_TOOL] });
    d.session.handle({ type: 'text', text: 'weather in Oslo?' });
    await d.next('tool_call');
    await d.next('response_text'); // "Let me check." is being spoken while the call waits
    const snapshot = d.session.resume.snapshot();
    assert.equal(snapshot.replies.active?.id, 'resp_1');
    assert.ok(snapshot.history.some((i) => i.tool?.kind === 'call' && i.tool.callId === 'call_1'), 'the pending call is in the snapshot');
    d.session.close('saved', 'other');

    // The client had played all the reply's audio ("Let me check.") when its connection dropped.
    const again = restored(llm, snapshot, { responseId: 'resp_1', playedMs: 60_000 });
    await waitUntil(() => again.events.some((e) => e.type === 'response_done'), 'the lost reply ends', 10_000);
    const types = again.events.map((e) => e.type);
    assert.deepEqual(
      again.events.find((e) => e.type === 'tool_call_cancelled'),
      { type: 'tool_call_cancelled', responseId: 'resp_1', callId: 'call_1', reason: 'client' },
    );
    assert.ok(types.indexOf('tool_call_cancelled') < types.indexOf('response_done'), 'cancelled before its reply ends');
    const done = again.events.find((e) => e.type === 'response_done');
    assert.equal(done?.type === 'response_done' && done.status, 'interrupted');
    assert.ok(!again.session.resume.snapshot().history.some((i) => i.tool), 'the unanswered call left the history');

    again.session.handle({ type: 'tool_result', callId: 'call_1', output: '{"temperature_c":12}', ref: 'late' });
    await waitUntil(() => again.events.some((e) => e.type === 'tool_call_cancelled' && e.resultIgnored === true), 'the late result is acknowledged', 10_000);
    assert.ok(!again.events.some((e) => e.type === 'error'), 'a late result is no error');

    again.session.handle({ type: 'text', text: 'never mind' });
    await waitUntil(() => again.events.some((e) => e.type === 'response_done' && e.status === 'completed'), 'the next reply', 10_000);
    const next = llm.requests.at(-1)!;
    assertValidToolHistory(next);
    assert.ok(!next.some((m) => (m.role === 'assistant' && m.tool_calls?.length) || m.role === 'tool'), 'no call without its result is sent');
    assert.deepEqual(next.slice(-3).map((m) => [m.role, m.content]), [['user', 'weather in Oslo?'], ['assistant', 'Let me check.'], ['user', 'never mind']]);
    again.session.close('done', 'other');
  });
});
