import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { checkReplies, expectedHeardText, sameWords } from '../../src/bench/scenarios/invariants.js';
import type { LoggedEvent } from '../../src/bench/scenarios/scenario-client.js';
import { toolCallChecks } from '../../src/bench/scenarios/tool-call-checks.js';
import * as pb from '../../src/gen/voice/v1/voice_pb.js';

const ev = (event: pb.ConverseResponse['event'], atMs = 0): LoggedEvent => ({ atMs, event });
const started = (id: string) => ev({ case: 'responseStarted', value: create(pb.ResponseStartedSchema, { responseId: id }) });
const audio = (id: string, offsetMs: number) => ev({ case: 'responseAudio', value: create(pb.ResponseAudioSchema, { responseId: id, offsetMs, data: new Uint8Array(320) }) });
const done = (id: string) => ev({ case: 'responseDone', value: create(pb.ResponseDoneSchema, { responseId: id, status: pb.ResponseStatus.INTERRUPTED }) });
const paused = (id: string) => ev({ case: 'responsePaused', value: create(pb.ResponsePausedSchema, { responseId: id }) });
const resumed = (id: string) => ev({ case: 'responseUnpaused', value: create(pb.ResponseUnpausedSchema, { responseId: id }) });

const cancelled = (callId: string, reason: pb.ToolCancelReason, resultIgnored = false) =>
  ev({ case: 'toolCallCancelled', value: create(pb.ToolCallCancelledSchema, { responseId: 'r1', callId, reason, resultIgnored }) });
const completed = (id: string) => ev({ case: 'responseDone', value: create(pb.ResponseDoneSchema, { responseId: id, status: pb.ResponseStatus.COMPLETED }) });
const llmRefused = ev({ case: 'error', value: create(pb.ErrorSchema, { message: 'the LLM failed: 400 invalid request: an assistant message with tool_calls must be followed by tool messages' }) });

describe('the interruption suite finds what breaks', () => {
  test('barge-in during a tool call: cancelled, late result ignored, no refused history, the barge-in answered; else each is a violation', () => {
    const barge = pb.ToolCancelReason.BARGE_IN;
    assert.deepEqual(toolCallChecks([started('r1'), cancelled('c1', barge), done('r1'), cancelled('c1', barge, true), started('r2'), completed('r2')], 'r1', 'c1'), []);
    const found = toolCallChecks([started('r1'), cancelled('c1', pb.ToolCancelReason.TIMEOUT), done('r1'), llmRefused, started('r2'), done('r2')], 'r1', 'c1');
    assert.deepEqual(found.map((v) => v.invariant), ['tool_call_cancelled', 'tool_call_cancelled', 'tool_history_valid', 'answers_next_question']);
    assert.deepEqual(toolCallChecks([started('r1'), done('r1')], 'r1', 'c1').map((v) => v.invariant), ['tool_call_cancelled', 'tool_call_cancelled', 'answers_next_question']);
  });

  test('a clean log has no violation', () => {
    assert.deepEqual(checkReplies([started('r1'), audio('r1', 0), paused('r1'), resumed('r1'), audio('r1', 10), done('r1')]), []);
  });

  test('audio after "interrupted", audio while paused, a reply with two ends or none', () => {
    const found = checkReplies([started('r1'), audio('r1', 0), done('r1'), audio('r1', 10), started('r2'), paused('r2'), audio('r2', 0), started('r3'), done('r3'), done('r3')]);
    assert.deepEqual(
      found.map((v) => v.invariant).sort(),
      ['no_audio_after_done', 'no_audio_while_paused', 'one_done_per_reply', 'one_done_per_reply'],
    );
  });

  test('the heard text of the simulated voice: a word counts once played to its end', () => {
    const reply = { responseId: 'r', receivedMs: 2000, playedMs: 0, paused: false, stopped: true, pieces: [{ text: 'Sure, happy to help.', startMs: 0 }, { text: 'The forecast', startMs: 800 }] };
    const at = (playedMs: number) => expectedHeardText({ ...reply, playedMs }, 40, false);
    assert.equal(at(0), '');
    assert.equal(at(239), ''); // "Sure, " is 6 characters: it ends at 240 ms
    assert.equal(at(240), 'Sure,');
    assert.equal(at(800), 'Sure, happy to help.');
    assert.equal(at(960), 'Sure, happy to help. The');
    assert.equal(expectedHeardText(reply, 40, true), 'Sure, happy to help. The forecast');
  });

  test('same words: exact, or one word off at the end for an estimate', () => {
    assert.ok(sameWords('a b c', 'a b c', false));
    assert.ok(!sameWords('a b', 'a b c', false));
    assert.ok(sameWords('a b', 'a b c', true));
    assert.ok(!sameWords('a', 'a b c', true));
    assert.ok(!sameWords('a x c', 'a b c', true));
  });
});
