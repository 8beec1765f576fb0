/**
 * What the history sends the LLM: bounded by LLM_CONTEXT_TOKENS (oldest turns first, never the
 * system prompt), and rendered the same way for the early (speculative) request and the due one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TurnReport } from '../../src/core/turn-metrics.js';
import { createLogger, sessionLogObserver } from '../../src/observability/logging.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { parseExposition, valueOf } from '../support/prometheus-text.js';
import { ConversationHistory, estimateTokens } from '../../src/core/history.js';
import type { ChatMessage } from '../../src/providers/types.js';
import { SessionDriver, sessionConfig } from '../support/session-harness.js';
import { ScriptedAsr, ScriptedLlm, ScriptedTts, ScriptedVad, concat, silence, tone } from '../support/scripted-providers.js';

const echo = (messages: ChatMessage[]) => [`You said ${messages.at(-1)?.content.slice(0, 20) ?? ''}.`];

void describe('history sent to the LLM', () => {
  void it('past ConversationHistory.maxItems items, a speculative start still hits', async () => {
    const llm = new ScriptedLlm({ reply: echo });
    const p = { vad: new ScriptedVad(), asr: new ScriptedAsr(['what is the weather'], 1000, { stableAfterMs: 240 }), llm, tts: new ScriptedTts() };
    const d = new SessionDriver(p, sessionConfig({}, { speculativeStart: true }));
    await d.start({ turn: { endOfTurnSource: 'asr' } });
    const maxItems = new ConversationHistory().maxItems;
    for (let i = 0; i < maxItems; i++) d.session.handle({ type: 'add_item', item: { role: i % 2 ? 'assistant' : 'user', text: `message ${i}` } });
    d.audio(concat(silence(200), tone(800), silence(1500)));
    const metrics = (await d.next('turn_metrics')).metrics;
    assert.equal(metrics.speculative, 'hit', d.summary());
    assert.equal(llm.requests.length, 1, 'the early request was the one due');
    assert.equal(llm.requests[0]!.length, 1 + maxItems, 'system prompt and the newest items, the user turn last');
    assert.equal(llm.requests[0]!.at(-1)!.content, 'what is the weather');
    d.session.end();
  });

  void it('LLM_CONTEXT_TOKENS bounds the request: oldest turns go first, never the system prompt; observers are told', async () => {
    const llm = new ScriptedLlm({ reply: echo });
    const reports: TurnReport[] = [];
    const p = { vad: new ScriptedVad(), asr: new ScriptedAsr([]), llm, tts: new ScriptedTts() };
    const contextTokens = 1000;
    const metrics = new GatewayMetrics({ latencyBucketsS: [1], providers: { vad: 'x', asr: 'x', llm: 'x', tts: 'x' } });
    const lines: string[] = [];
    const log = sessionLogObserver(createLogger('info', { write: (line: string) => void lines.push(line) }));
    const observer = {
      ...log,
      onTurn: (r: TurnReport) => {
        reports.push(r);
        metrics.observer.onTurn(r);
        log.onTurn?.(r);
      },
    };
    const d = new SessionDriver(p, sessionConfig({ llmContextTokens: contextTokens }), observer);
    await d.start();
    const cursor = d.cursor();
    const typed = (i: number) => `question ${i}: ${'all work and no play makes a long message '.repeat(9)}`;
    for (let i = 0; i < 12; i++) {
      d.session.handle({ type: 'text', text: typed(i) });
      await cursor.next('response_done');
    }
    const last = llm.requests.at(-1)!;
    assert.equal(last[0]!.role, 'system');
    assert.equal(last[0]!.content, 'Be brief.');
    assert.equal(last.at(-1)!.content, typed(11).trim());
    assert.ok(estimateTokens(last) <= contextTokens, `estimated ${estimateTokens(last)} tokens`);
    assert.equal(last[1]!.role, 'user', 'a turn is dropped whole: the first message after the system prompt is a user message');
    assert.ok(!last.some((m) => m.content === typed(0).trim()), 'the oldest turn was dropped');
    const trimmed = reports.at(-1)!.historyTrimmed;
    assert.ok(trimmed && trimmed.droppedMessages > 0 && trimmed.estimatedTokens <= contextTokens, JSON.stringify(trimmed));
    assert.equal(reports[0]!.historyTrimmed, undefined, 'the first request fitted');
    const trimmedTurns = reports.filter((r) => r.historyTrimmed).length;
    const { series } = parseExposition(await metrics.registry.metrics());
    assert.equal(valueOf(series, 'voice_gateway_history_trimmed_total', {}), trimmedTurns);
    const turnLines = lines.map((l) => JSON.parse(l) as { msg: string; historyTrimmed?: { droppedMessages: number } }).filter((l) => l.msg === 'turn');
    assert.equal(turnLines.filter((l) => l.historyTrimmed && l.historyTrimmed.droppedMessages > 0).length, trimmedTurns, 'the turn log line says so');
    d.session.end();
  });
});
