/** Cutting a recognizer stream into utterances at the VAD's edges: the lead-in, the tail, the longest length. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UtteranceCutter, type UtteranceEnd } from '../../src/providers/asr/utterances.js';
import type { SpeechEdge } from '../../src/providers/types.js';

/** 1 kHz so that samples are ms; each written ms holds its own index, so what was cut is visible. */
type Step = { write: number } | SpeechEdge | 'end';

function cut(steps: Step[], settings = { paddingMs: 300, maxUtteranceMs: 5000 }) {
  const utterances: Array<{ samples: number[]; end?: UtteranceEnd }> = [];
  const cutter = new UtteranceCutter({ sampleRateHz: 1000, ...settings }, {
    begin: (lead) => utterances.push({ samples: [...lead] }),
    audio: (pcm) => utterances.at(-1)!.samples.push(...pcm),
    finish: (why) => (utterances.at(-1)!.end = why),
  });
  let t = 0;
  for (const step of steps) {
    if (step === 'end') cutter.end();
    else if ('write' in step) cutter.write(Int16Array.from({ length: step.write }, () => t++));
    else cutter.speech(step);
  }
  return utterances.map((u) => ({ from: u.samples[0], to: u.samples.at(-1), ms: u.samples.length, end: u.end }));
}

void describe('UtteranceCutter', () => {
  const table: Array<[string, Step[], ReturnType<typeof cut>, { paddingMs: number; maxUtteranceMs: number }?]> = [
    ['speech between edges, with the padding before the start edge and the speech the VAD heard first', [{ write: 1000 }, { type: 'start', msAgo: 100 }, { write: 700 }, { type: 'end', msAgo: 300 }], [{ from: 600, to: 1699, ms: 1100, end: 'speech_end' }]],
    ['less audio before the start than the padding: all there is', [{ write: 150 }, { type: 'start', msAgo: 100 }, { write: 500 }, { type: 'end', msAgo: 0 }], [{ from: 0, to: 649, ms: 650, end: 'speech_end' }]],
    ['no padding: from the start edge exactly', [{ write: 1000 }, { type: 'start', msAgo: 100 }, { write: 200 }, { type: 'end', msAgo: 0 }], [{ from: 900, to: 1199, ms: 300, end: 'speech_end' }], { paddingMs: 0, maxUtteranceMs: 5000 }],
    ['audio outside speech is dropped; two utterances', [{ write: 500 }, { type: 'start', msAgo: 0 }, { write: 100 }, { type: 'end', msAgo: 0 }, { write: 2000 }, { type: 'start', msAgo: 0 }, { write: 100 }, { type: 'end', msAgo: 0 }], [{ from: 200, to: 599, ms: 400, end: 'speech_end' }, { from: 2300, to: 2699, ms: 400, end: 'speech_end' }]],
    ['longer than the longest utterance: cut there, and it goes on with no lead-in', [{ write: 300 }, { type: 'start', msAgo: 0 }, { write: 11000 }, { type: 'end', msAgo: 0 }], [{ from: 0, to: 4999, ms: 5000, end: 'max_length' }, { from: 5000, to: 9999, ms: 5000, end: 'max_length' }, { from: 10000, to: 11299, ms: 1300, end: 'speech_end' }]],
    ['the stream ends in the middle of speech: the utterance ends with it', [{ write: 100 }, { type: 'start', msAgo: 0 }, { write: 400 }, 'end'], [{ from: 0, to: 499, ms: 500, end: 'stream_end' }]],
    ['edges out of turn change nothing', [{ type: 'end', msAgo: 0 }, { write: 100 }, { type: 'start', msAgo: 0 }, { type: 'start', msAgo: 0 }, { write: 100 }, { type: 'end', msAgo: 0 }, { type: 'end', msAgo: 0 }], [{ from: 0, to: 199, ms: 200, end: 'speech_end' }]],
  ];
  for (const [name, steps, expected, settings] of table) {
    void it(name, () => assert.deepEqual(cut(steps, settings), expected));
  }

  void it('the audio kept before speech is bounded: the padding and the longest start-edge lag (2.5 s)', () => {
    const [u] = cut([{ write: 60_000 }, { type: 'start', msAgo: 10_000 }, { write: 10 }, { type: 'end', msAgo: 0 }]);
    assert.deepEqual([u!.ms, u!.end], [300 + 2500 + 10, 'speech_end']);
  });
});
