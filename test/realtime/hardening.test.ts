/**
 * What a Realtime client tried as an attacker would (hardening issue, findings 1, 5 and 8), against
 * a real gateway process on loopback: fields that are stored and echoed are checked for shape and
 * size (a 100,000-deep array in `tracing` once ended the process), client text is never echoed
 * whole, and a frame is bounded in bytes at its default settings. After each, the process still
 * serves other sessions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { connectRawRealtime, type RawRealtime, type WireEvent } from '../support/raw-realtime.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';

let llm: ScriptedServer;
let gateway: GatewayProcess;
const url = () => `ws://127.0.0.1:${gateway.httpPort}/v1/realtime?model=cascade`;

before(async () => {
  llm = await startScriptedOpenAiServer({ reply: 'Fine.', tokenDelayMs: 2 });
  // Frame and message bounds at their defaults: the defaults are what is under test.
  gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], { LLM_BASE_URL: llm.baseUrl });
});

after(async () => {
  await gateway.stop();
  await llm.close();
});

async function connect(): Promise<RawRealtime> {
  const rt = await connectRawRealtime(url());
  await rt.next('session.created');
  return rt;
}

/** A text turn on a fresh socket: the process lives and serves sessions. */
async function healthyTurn(): Promise<void> {
  assert.equal(gateway.child.exitCode, null, `the gateway process exited:\n${gateway.output().slice(-2000)}`);
  const rt = await connect();
  rt.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] } });
  rt.send({ type: 'response.create' });
  const done = await rt.next('response.done');
  assert.equal((done.response as { status: string }).status, 'completed');
  await rt.close();
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** Sends `session` (JSON text) in a session.update and returns the error it gets. */
async function updateError(rt: RawRealtime, sessionJson: string, eventId: string): Promise<{ code: string; param: string; message: string }> {
  const from = rt.events.length;
  rt.sendText(`{"type":"session.update","event_id":"${eventId}","session":${sessionJson}}`);
  const error = await rt.next('error', (e) => (e.error as { event_id: string }).event_id === eventId, from);
  return error.error as { code: string; param: string; message: string };
}

void describe('session.update: what is stored or echoed is checked', { timeout: 120_000 }, () => {
  void it('a 100,000-deep array in tracing, tool_choice or noise_reduction is refused; the process lives', async () => {
    const rt = await connect();
    const deep = nested(100_000);
    const cases: Array<[string, string]> = [
      [`{"tracing":${deep}}`, 'session.tracing'],
      [`{"tool_choice":${deep}}`, 'session.tool_choice'],
      [`{"audio":{"input":{"noise_reduction":${deep}}}}`, 'session.audio.input.noise_reduction'],
      [`{"audio":{"input":{"transcription":{"prompt":${deep}}}}}`, 'session.audio.input.transcription.prompt'],
    ];
    for (const [i, [session, param]] of cases.entries()) {
      const error = await updateError(rt, session, `deep_${i}`);
      assert.equal(error.param, param, error.message);
    }
    assert.equal(rt.events.filter((e) => e.type === 'session.updated').length, 0, 'nothing unchecked was echoed');
    await healthyTurn();
    await rt.close();
  });

  void it('valid values are echoed as given; odd shapes and huge strings are refused', async () => {
    const rt = await connect();
    const from = rt.events.length;
    rt.send({
      type: 'session.update',
      session: {
        tracing: { workflow_name: 'support', group_id: 'g1', metadata: { team: 'voice' } },
        tool_choice: 'none',
        audio: { input: { noise_reduction: { type: 'near_field' }, transcription: { model: 'whisper-1', language: 'en' } } },
      },
    });
    const updated = await rt.next('session.updated', () => true, from);
    const session = updated.session as { tracing: unknown; tool_choice: unknown; audio: { input: Record<string, unknown> } };
    assert.deepEqual(session.tracing, { workflow_name: 'support', group_id: 'g1', metadata: { team: 'voice' } });
    assert.equal(session.tool_choice, 'none');
    assert.deepEqual(session.audio.input.noise_reduction, { type: 'near_field' });
    assert.deepEqual(session.audio.input.transcription, { model: 'whisper-1', language: 'en' });

    const huge = JSON.stringify('x'.repeat(500_000));
    const refused: Array<[string, string]> = [
      [`{"tracing":{"workflow_name":${huge}}}`, 'session.tracing'],
      [`{"model":${huge}}`, 'session.model'],
      // A named function is a choice since tools (issue 12); an MCP choice is not one a client makes.
      [`{"tool_choice":{"type":"mcp","server_label":"x"}}`, 'session.tool_choice'],
      [`{"audio":{"input":{"noise_reduction":{"type":"loud","extra":1}}}}`, 'session.audio.input.noise_reduction'],
      [`{"tracing":{"metadata":{"k":{"nested":true}}}}`, 'session.tracing'],
    ];
    for (const [i, [json, param]] of refused.entries()) {
      const error = await updateError(rt, json, `odd_${i}`);
      assert.ok(error.param.startsWith(param), `${error.param}: ${error.message}`);
      assert.ok(error.message.length < 400, `the error does not echo the value (${error.message.length} characters)`);
    }
    await rt.close();
  });

  void it('an event_id longer than 128 characters is not echoed: the event is refused and the error says so', async () => {
    const rt = await connect();
    const from = rt.events.length;
    rt.send({ type: 'input_audio_buffer.clear', event_id: 'e'.repeat(300_000) });
    const error = await rt.next('error', () => true, from);
    const body = error.error as { event_id: unknown; param: string; message: string };
    assert.equal(body.event_id, null);
    assert.equal(body.param, 'event_id');
    assert.match(body.message, /event_id is 300000 characters long: at most 128/);
    assert.ok(JSON.stringify(error).length < 1000);
    await rt.close();
  });
});

void describe('what a client that does not read makes a connection keep (finding 8)', { timeout: 120_000 }, () => {
  void it('events awaiting their answers are bounded in bytes: past REALTIME_PENDING_ANSWERS_MAX_BYTES they are refused', async () => {
    const rt = await connect();
    rt.ws.pause(); // stops reading: the answers pile up in the gateway
    const metadata = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`key_${i}`, 'v'.repeat(500)]));
    // Each context holds about 8.5 kB of tracing, and each answer echoes it: 1,000 of them are
    // 8.5 MB, more than the loopback socket buffers take, so contexts pass the 1 MiB default.
    for (let i = 0; i < 1000; i++) rt.send({ type: 'session.update', event_id: `u${i}`, session: { tracing: { workflow_name: `w${i}`, metadata } } });
    await new Promise((r) => setTimeout(r, 500));
    rt.ws.resume();
    const refused = await rt.next('error', (e) => (e.error as { code: string }).code === 'too_many_pending_events');
    assert.match((refused.error as { message: string }).message, /wait for their answers \(at most 1048576\): read the server's events/);
    const updated = rt.events.filter((e) => e.type === 'session.updated').length;
    assert.ok(updated > 0 && updated < 1000, `${updated} updates were answered, the rest refused`);
    await rt.close();
    await healthyTurn();
  });
});

void describe('frames are bounded in bytes at the default settings', { timeout: 120_000 }, () => {
  void it('a frame over MAX_MESSAGE_BYTES gets an error; one over REALTIME_MAX_FRAME_BYTES (2 MiB) closes the socket', async () => {
    const rt = await connect();
    const audio = (bytes: number) => `{"type":"input_audio_buffer.append","audio":"${'A'.repeat(bytes)}"}`;
    const from = rt.events.length;
    rt.sendText(audio(1_500_000));
    const tooLarge = await rt.next('error', () => true, from);
    assert.equal((tooLarge.error as { code: string }).code, 'message_too_large');
    rt.sendText(audio(3 * 1024 * 1024));
    const closed = await rt.closed;
    assert.equal(closed.code, 1009);
    assert.match(closed.reason, /REALTIME_MAX_FRAME_BYTES/);
    await healthyTurn();
  });
});

export type { WireEvent };
