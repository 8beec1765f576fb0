/**
 * Fuzzing the OpenAI Realtime endpoint (JSON over a WebSocket) with fast-check, against a real
 * gateway process: valid events with random fields, mutated ones, deep nesting, huge strings,
 * binary frames, frames past the limits, and audio interleaved with item and response events in
 * any order. Every session must get an answer to a probe or a clear close; the process must live,
 * with no internal error, and give its memory back once the sessions close (support/fuzz.ts).
 */
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { FUZZ_LIMITS, fuzzAudioBytes, fuzzBudget, fuzzFor, fuzzText, startFuzzTarget, webSocketCase, type FuzzTarget } from '../support/fuzz.js';

let target: FuzzTarget;
before(async () => {
  target = await startFuzzTarget();
});
after(() => target.stop());

const id = fc.oneof(fc.constantFrom('turn_1', 'turn_2', 'reply_1', 'item_1', 'root', 'resp_1'), fuzzText());
const anyJson = fc.jsonValue({ maxDepth: 4 });
const deepArray = fc.integer({ min: 1, max: 150_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`);
const ms = fc.oneof(fc.integer({ min: -10, max: 10_000 }), fc.double(), fc.constantFrom(1e308, -0, 2 ** 53));
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const format = fc.oneof(
  fc.record({ type: fc.constantFrom('audio/pcm', 'audio/pcmu', 'audio/pcma', 'audio/opus'), rate: optional(fc.oneof(fc.constantFrom(8000, 16000, 24000, 48000), fc.integer())) }, { requiredKeys: ['type'] }),
  anyJson,
);
const turnDetection = fc.oneof(
  fc.constant(null),
  fc.record(
    {
      type: fc.constantFrom('server_vad', 'semantic_vad', 'none'),
      threshold: fc.double({ min: -1, max: 2 }),
      prefix_padding_ms: ms,
      silence_duration_ms: ms,
      create_response: fc.boolean(),
      interrupt_response: fc.boolean(),
      eagerness: fc.constantFrom('low', 'medium', 'high', 'auto', 'x'),
    },
    { requiredKeys: [] },
  ),
  anyJson,
);
const session = fc.record(
  {
    instructions: fuzzText(),
    voice: fc.oneof(fuzzText(), fc.record({ id: fuzzText() }), anyJson),
    model: fuzzText(),
    tools: fc.oneof(fc.constant([]), fc.array(anyJson, { maxLength: 2 })),
    tool_choice: fc.oneof(fc.constantFrom('auto', 'none', 'required'), anyJson),
    tracing: fc.oneof(fc.constantFrom('auto', null), fc.record({ workflow_name: fuzzText(), metadata: fc.dictionary(fc.string(), anyJson, { maxKeys: 20 }) }, { requiredKeys: [] }), anyJson),
    output_modalities: fc.oneof(fc.constant(['audio']), fc.array(fc.string(), { maxLength: 3 })),
    max_output_tokens: fc.oneof(fc.integer(), fc.constant('inf')),
    audio: fc.record(
      {
        input: fc.record({ format, transcription: fc.oneof(fc.constant(null), fc.record({ model: fuzzText(), language: fuzzText(), prompt: fuzzText() }, { requiredKeys: [] }), anyJson), noise_reduction: fc.oneof(fc.constant(null), fc.record({ type: fc.constantFrom('near_field', 'far_field', 'x') }), anyJson), turn_detection: turnDetection }, { requiredKeys: [] }),
        output: fc.record({ format, voice: fuzzText(), speed: fc.double({ min: 0, max: 3 }) }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ),
    type: fc.constantFrom('realtime', 'transcription'),
  },
  { requiredKeys: [] },
);
const base64Audio = fc.oneof({ weight: 4, arbitrary: fuzzAudioBytes().map((bytes) => Buffer.from(bytes).toString('base64')) }, { weight: 1, arbitrary: fuzzText() });
const content = fc.array(fc.record({ type: fc.constantFrom('input_text', 'text', 'output_text', 'input_audio', 'input_image'), text: optional(fuzzText()) }, { requiredKeys: ['type'] }), { maxLength: 40 });
const eventId = optional(fc.oneof(fc.string({ maxLength: 20 }), fc.integer({ min: 100, max: 5000 }).map((n) => 'e'.repeat(n)), anyJson));

/** One valid-looking event of each client type, with random (often wrong) fields. */
const event = fc.oneof(
  fc.record({ type: fc.constant('session.update'), session: fc.oneof({ weight: 5, arbitrary: session }, { weight: 1, arbitrary: anyJson }), event_id: eventId }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('input_audio_buffer.append'), audio: base64Audio, event_id: eventId }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constantFrom('input_audio_buffer.commit', 'input_audio_buffer.clear', 'response.cancel', 'output_audio_buffer.clear'), response_id: optional(id), event_id: eventId }, { requiredKeys: ['type'] }),
  fc.record(
    { type: fc.constant('conversation.item.create'), previous_item_id: optional(fc.oneof(id, fc.constant(null))), item: fc.record({ id: optional(id), type: fc.constantFrom('message', 'function_call'), role: fc.constantFrom('user', 'assistant', 'system', 'tool'), content }, { requiredKeys: [] }), event_id: eventId },
    { requiredKeys: ['type'] },
  ),
  fc.record({ type: fc.constantFrom('conversation.item.retrieve', 'conversation.item.delete', 'conversation.item.truncate'), item_id: id, content_index: optional(fc.integer({ min: -1, max: 2 })), audio_end_ms: ms, event_id: eventId }, { requiredKeys: ['type'] }),
  fc.record(
    { type: fc.constant('response.create'), response: optional(fc.oneof(fc.record({ instructions: fuzzText(), conversation: fc.constantFrom('auto', 'none'), output_modalities: fc.array(fc.constantFrom('audio', 'text')), tools: fc.array(anyJson, { maxLength: 1 }) }, { requiredKeys: [] }), anyJson)), event_id: eventId },
    { requiredKeys: ['type'] },
  ),
  fc.record({ type: fuzzText(), event_id: eventId }),
);

/** A valid event with one field replaced by anything. */
const mutated = fc.tuple(event, fc.string({ maxLength: 12 }), anyJson).map(([e, key, value]) => ({ ...e, [key || 'type']: value }));

/** One frame: mostly events, sometimes garbage, deep nesting, binary, or past the limits. */
const frame: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 20, arbitrary: event.map((e) => JSON.stringify(e)) },
  { weight: 5, arbitrary: mutated.map((e) => JSON.stringify(e)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: deepArray.map((deep) => `{"type":"session.update","session":{"tracing":${deep}}}`) },
  { weight: 1, arbitrary: deepArray },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom(FUZZ_LIMITS.MAX_MESSAGE_BYTES + 10, FUZZ_LIMITS.REALTIME_MAX_FRAME_BYTES + 10).map((n) => `{"type":"input_audio_buffer.append","audio":"${'A'.repeat(n)}"}`) },
);

const PROBE = JSON.stringify({ type: 'input_audio_buffer.clear', event_id: 'probe' });

/** One session: its frames once it is created, then a probe that an open session answers. */
function runCase(frames: Array<string | Uint8Array>): Promise<void> {
  const typeOf = (data: Buffer) => JSON.parse(data.toString()) as { type: string; error?: { event_id?: string } };
  return webSocketCase({
    url: `ws://127.0.0.1:${target.gateway.httpPort}/v1/realtime?model=fuzz`,
    frames: [...frames, PROBE],
    sendAt: (data) => typeOf(data).type === 'session.created',
    isProbeAnswer: (data) => {
      const e = typeOf(data);
      return e.type === 'input_audio_buffer.cleared' || (e.type === 'error' && e.error?.event_id === 'probe');
    },
  });
}

void describe('fuzzing the Realtime endpoint', { timeout: fuzzBudget().timeLimitMs + 600_000 }, () => {
  void it('every session gets an answer or a clear close; the process lives and gives its memory back', async (t) => {
    await runCase([]); // warm-up
    await target.markBaseline();
    const run = await fuzzFor(fc.array(frame, { minLength: 1, maxLength: 20 }), runCase);
    t.diagnostic(await target.checkAfterRun('realtime', run));
  });
});
