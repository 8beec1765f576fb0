/**
 * The pure pieces under the session, table by table: the VAD segmenter, the floor table,
 * `heardText`, and bounded cancellation (`untilAborted`, `settlesWithin`). Each row says its case;
 * the scenario tests (session.test.ts and others) drive them together through a session.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settlesWithin, untilAborted } from '../../src/core/abortable.js';
import { heardText, type SpokenPiece } from '../../src/core/history.js';
import { turnRules, turnState, type ReplyPhase, type TurnState } from '../../src/core/turn-state.js';
import { VadSegmenter, type VadEdge } from '../../src/core/vad-segmenter.js';

const FRAME_MS = 32;
const segmenterSettings = { threshold: 0.5, negThreshold: 0.35, minSpeechMs: 64, minSilenceMs: 96 };

/** Feeds one probability per 32 ms frame; returns the edges with the frame they came on. */
function edges(probabilities: number[]): Array<[number, VadEdge]> {
  const segmenter = new VadSegmenter(segmenterSettings);
  const out: Array<[number, VadEdge]> = [];
  probabilities.forEach((p, i) => {
    const edge = segmenter.push(p, i * FRAME_MS, (i + 1) * FRAME_MS);
    if (edge) out.push([i, edge]);
  });
  return out;
}

void describe('VadSegmenter', () => {
  const cases: Array<{ name: string; probabilities: number[]; expected: Array<[number, VadEdge]> }> = [
    { name: 'silence stays silence', probabilities: [0, 0.1, 0.2, 0.3], expected: [] },
    { name: 'one loud frame is a click, not speech (minSpeechMs 64)', probabilities: [0, 0.9, 0, 0, 0], expected: [] },
    {
      name: 'speech starts where its first frame began, once it lasted minSpeechMs',
      probabilities: [0, 0.9, 0.9, 0.9],
      expected: [[2, { type: 'speech_start', offsetMs: 32 }]],
    },
    {
      name: 'speech ends where the silence began, once it lasted minSilenceMs',
      probabilities: [0.9, 0.9, 0.9, 0, 0, 0, 0],
      expected: [
        [1, { type: 'speech_start', offsetMs: 0 }],
        [5, { type: 'speech_end', offsetMs: 96 }],
      ],
    },
    {
      name: 'between the thresholds the state holds (hysteresis): no end while at 0.4',
      probabilities: [0.9, 0.9, 0.4, 0.4, 0.4, 0.4, 0.9],
      expected: [[1, { type: 'speech_start', offsetMs: 0 }]],
    },
    {
      name: 'a short pause inside speech does not end it',
      probabilities: [0.9, 0.9, 0, 0, 0.9, 0, 0, 0],
      expected: [
        [1, { type: 'speech_start', offsetMs: 0 }],
        [7, { type: 'speech_end', offsetMs: 160 }],
      ],
    },
  ];
  for (const { name, probabilities, expected } of cases) {
    void it(name, () => assert.deepEqual(edges(probabilities), expected));
  }

  void it('a session threshold moves the silence threshold down with it, never above', () => {
    const segmenter = new VadSegmenter(segmenterSettings);
    segmenter.setThreshold(0.2);
    assert.equal(segmenter.push(0.25, 0, 32), null); // 0.25 >= 0.2: a speech candidate
    assert.deepEqual(segmenter.push(0.25, 32, 64), { type: 'speech_start', offsetMs: 0 });
  });
});

void describe('who has the floor', () => {
  const rows: Array<[ReplyPhase, boolean, TurnState, boolean]> = [
    // reply phase, user speaking -> state, agent has the floor (barge-in possible, VAD may not end the turn)
    ['none', false, 'listening', false],
    ['none', true, 'user_speaking', false],
    ['thinking', false, 'thinking', true],
    ['thinking', true, 'thinking', true],
    ['speaking', false, 'speaking', true],
    ['speaking', true, 'speaking', true],
  ];
  for (const [reply, userSpeaking, state, floor] of rows) {
    void it(`reply ${reply}, user ${userSpeaking ? 'speaking' : 'silent'}: ${state}`, () => {
      assert.equal(turnState({ reply, userSpeaking }), state);
      assert.deepEqual(turnRules(state), { agentHasFloor: floor, bargeInPossible: floor, vadMayEndTurn: !floor });
    });
  }
  void it('a reply that ends while the user speaks leaves user_speaking, not listening', () => {
    assert.equal(turnState({ reply: 'speaking', userSpeaking: true }), 'speaking');
    assert.equal(turnState({ reply: 'none', userSpeaking: true }), 'user_speaking');
  });
});

void describe('heardText', () => {
  const piece = (text: string, startMs: number, durationMs: number, complete = true): SpokenPiece => ({ text, startMs, durationMs, complete });
  const two = [piece('Hello there.', 0, 1000), piece('How are you today?', 1000, 2000)];
  const cases: Array<[string, readonly SpokenPiece[], number, string]> = [
    ['nothing played', two, 0, ''],
    ['everything played', two, Infinity, 'Hello there. How are you today?'],
    ['exactly the first piece', two, 1000, 'Hello there.'],
    ['half of the second piece: half of its words', two, 2000, 'Hello there. How are'],
    ['a word is heard only whole', two, 1400, 'Hello there.'],
    ['half of the first piece', two, 500, 'Hello'],
    // A piece still being synthesized is measured at the rate of the pieces before it (12 chars/1000 ms).
    ['a piece still being synthesized', [piece('Hello there.', 0, 1000), piece('How are you today?', 1000, 100, false)], 1750, 'Hello there. How are'],
  ];
  for (const [name, pieces, heardMs, expected] of cases) {
    void it(`${name} (${heardMs} ms)`, () => assert.equal(heardText(pieces, heardMs), expected));
  }
});

void describe('bounded cancellation', () => {
  /** A source that yields `values`, then hangs in next(); return() settles after `returnMs` (never if null). */
  function stuckSource(values: number[], returnMs: number | null): AsyncIterable<number> & { returned: boolean } {
    const source = {
      returned: false,
      [Symbol.asyncIterator]() {
        let i = 0;
        return {
          next: () => (i < values.length ? Promise.resolve({ value: values[i++]!, done: false as const }) : new Promise<IteratorResult<number>>(() => undefined)),
          return: () => {
            source.returned = true;
            return returnMs === null ? new Promise<IteratorResult<number>>(() => undefined) : new Promise<IteratorResult<number>>((r) => setTimeout(() => r({ value: undefined, done: true }), returnMs));
          },
        };
      },
    };
    return source;
  }

  const cases: Array<{ name: string; returnMs: number | null; abandoned: boolean }> = [
    { name: 'a source that winds down within the budget is not abandoned', returnMs: 0, abandoned: false },
    { name: 'a source that never winds down is abandoned once the budget is spent', returnMs: null, abandoned: true },
  ];
  for (const { name, returnMs, abandoned } of cases) {
    void it(name, async () => {
      const controller = new AbortController();
      const source = stuckSource([1, 2], returnMs);
      let abandonedCalls = 0;
      const got: number[] = [];
      for await (const value of untilAborted(source, controller.signal, 50, () => abandonedCalls++)) {
        got.push(value);
        if (got.length === 2) setImmediate(() => controller.abort()); // abort while the source hangs in next()
      }
      assert.deepEqual(got, [1, 2], 'stops at once on abort, even while the source is stuck');
      assert.ok(source.returned, 'the source was asked to stop');
      assert.equal(abandonedCalls, abandoned ? 1 : 0);
    });
  }

  void it('an already aborted signal yields nothing', async () => {
    const got: number[] = [];
    for await (const value of untilAborted(stuckSource([1], 0), AbortSignal.abort(), 50, () => undefined)) got.push(value);
    assert.deepEqual(got, []);
  });

  const settles: Array<[string, () => Promise<unknown>, boolean]> = [
    ['a resolved promise settles', () => Promise.resolve(1), true],
    ['a rejected promise settles too', () => Promise.reject(new Error('no')), true],
    ['a promise that never settles does not', () => new Promise(() => undefined), false],
  ];
  for (const [name, promise, expected] of settles) {
    void it(`settlesWithin: ${name}`, async () => assert.equal(await settlesWithin(promise(), 20), expected));
  }
});
