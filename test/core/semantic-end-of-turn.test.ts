import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SemanticEndOfTurn, type EndOfTurnDecision } from '../../src/core/semantic-end-of-turn.js';
import type { TurnEndPrediction } from '../../src/providers/types.js';

/** A model whose answers the test gives, question by question. */
function scripted() {
  const asked: Array<{ signal: AbortSignal; answer: (p: number) => void; fail: (e: Error) => void }> = [];
  const decisions: EndOfTurnDecision[] = [];
  const settings = { silenceMs: 200, maxSilenceMs: 2000, threshold: 0.5 };
  const eot = new SemanticEndOfTurn(
    settings,
    (signal) =>
      new Promise<TurnEndPrediction>((resolve, reject) => {
        asked.push({ signal, answer: (probability) => resolve({ probability, computeMs: 12 }), fail: reject });
      }),
    (d) => decisions.push(d),
  );
  return { eot, asked, decisions };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('semantic end of turn', () => {
  test('nothing is asked before the short silence; "complete" then ends the turn', async () => {
    const { eot, asked, decisions } = scripted();
    eot.onSilence(100);
    assert.equal(asked.length, 0);
    eot.onSilence(200);
    assert.equal(asked.length, 1);
    asked[0]!.answer(0.93);
    await settle();
    assert.equal(decisions.length, 1);
    assert.deepEqual({ ...decisions[0], decisionMs: 0 }, { kind: 'end', why: 'complete', probability: 0.93, questions: 1, decisionMs: 0, computeMs: 12 });
  });

  test('"incomplete" waits; it asks again at 400 and 800 ms of silence, and the second "complete" ends it', async () => {
    const { eot, asked, decisions } = scripted();
    eot.onSilence(200);
    asked[0]!.answer(0.2);
    await settle();
    eot.onSilence(300);
    assert.equal(asked.length, 1, 'not again before twice the silence');
    eot.onSilence(400);
    assert.equal(asked.length, 2);
    asked[1]!.answer(0.4);
    await settle();
    eot.onSilence(790);
    eot.onSilence(800);
    assert.equal(asked.length, 3);
    asked[2]!.answer(0.6);
    await settle();
    assert.equal(decisions.length, 1);
    assert.equal(decisions[0]!.kind === 'end' && decisions[0]!.why, 'complete');
  });

  test('no second question while one is in flight; the max silence ends the turn whatever it says', async () => {
    const { eot, asked, decisions } = scripted();
    eot.onSilence(200);
    eot.onSilence(500);
    assert.equal(asked.length, 1);
    eot.onSilence(2000);
    assert.deepEqual(decisions, [{ kind: 'end', why: 'max_silence', questions: 1 }]);
    assert.ok(asked[0]!.signal.aborted, 'the question in flight is withdrawn');
    asked[0]!.answer(0.99);
    await settle();
    assert.equal(decisions.length, 1, 'a late answer decides nothing');
  });

  test('new speech withdraws the question; its late "complete" does not end the turn', async () => {
    const { eot, asked, decisions } = scripted();
    eot.onSilence(200);
    eot.onSpeech();
    assert.ok(asked[0]!.signal.aborted);
    asked[0]!.answer(0.99);
    await settle();
    assert.equal(decisions.length, 0);
    eot.onSilence(200);
    assert.equal(asked.length, 2, 'the next silence asks again from the short silence');
  });

  test('a failing model is reported once, then the max silence ends the turn', async () => {
    const { eot, asked, decisions } = scripted();
    eot.onSilence(200);
    asked[0]!.fail(new Error('worker died'));
    await settle();
    assert.equal(decisions[0]!.kind, 'model_failed');
    eot.onSilence(1600);
    assert.equal(asked.length, 1, 'no more questions');
    eot.onSilence(2000);
    assert.deepEqual(decisions[1], { kind: 'end', why: 'max_silence', questions: 1 });
  });
});
