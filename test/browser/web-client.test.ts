/**
 * The web client end to end, as a person uses it: Debian's Chromium (driven by playwright-core)
 * opens the page the gateway serves, its fake microphone plays a flite WAV, and the gateway runs
 * the real `serve` command on the local engines (Silero VAD, pocketsphinx, espeak-ng) with the
 * LLM pointed at the scripted OpenAI-compatible server, and one MCP server (a real one on loopback,
 * official SDK) whose tool the model looks something up with first. The person asks a question,
 * sees the tool run in the captions, hears part of a long answer, and talks over it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { writeWav } from '../../src/audio/wav.js';
import type { VoiceStats } from '../../web/src/voice-stats.js';
import { buildWebClient } from '../../web/build.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { startTestMcpServer, type TestMcpServer } from '../support/mcp-test-server.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';
import { concatPcm, FIXTURE_SAMPLE_RATE_HZ, silence, speechFixture } from '../support/speech-fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts');
const QUESTION = 'what is the weather like today';
const FOLLOW_UP = 'please turn off the lights in the kitchen';
/** About half a minute of espeak speech: still playing when the follow-up comes. */
const LONG_REPLY =
  'Here is the weather for today. It will be sunny in the morning with a light breeze from the west. ' +
  'Clouds will come in around noon and the afternoon will be mild and grey. ' +
  'Rain is likely by the evening, so take an umbrella if you go out after work. ' +
  'Tomorrow looks brighter, with sunshine all day and warmer temperatures in the afternoon.';
const SHORT_REPLY = 'Okay, the kitchen lights are off.';
/** Waits only stop a broken run from hanging; nothing here judges speed. */
const WAIT_MS = 60_000;

let dir: string;
let llm: ScriptedServer;
let mcp: TestMcpServer;
let gateway: GatewayProcess;
let context: BrowserContext;
let page: Page;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (scripts/setup.sh --test does)`);
  dir = await mkdtemp(path.join(tmpdir(), 'web-client-e2e-'));
  await buildWebClient(path.join(dir, 'web'));

  // The fake microphone loops its file, so the file ends in a long silence: one question, a
  // follow-up about five seconds into the answer, then quiet until the test is over.
  const question = await speechFixture(QUESTION, { padStartS: 0, padEndS: 0 });
  const followUp = await speechFixture(FOLLOW_UP, { padStartS: 0, padEndS: 0 });
  const mic = concatPcm(silence(2000), question, silence(5500), followUp, silence(40_000));
  const micPath = path.join(dir, 'mic.wav');
  await writeFile(micPath, writeWav(mic, FIXTURE_SAMPLE_RATE_HZ));

  llm = await startScriptedOpenAiServer({
    // The question: the model looks the forecast up first (an MCP tool), then answers at length.
    reply: (request) => {
      if (request.messages.at(-1)?.role === 'tool') return LONG_REPLY;
      if (request.messages.filter((m) => m.role === 'user').length === 1) return { toolCalls: [{ id: 'call_forecast', name: 'get_time', arguments: '{"time_zone":"Europe/Oslo"}' }] };
      return SHORT_REPLY;
    },
    tokenDelayMs: 5,
  });
  mcp = await startTestMcpServer();
  gateway = await startGatewayProcess(['test/support/serve-cli.ts'], {
    LOG_LEVEL: 'info',
    LLM_PROVIDER: 'openai',
    LLM_BASE_URL: llm.baseUrl,
    MCP_SERVERS: JSON.stringify([{ name: 'clock', url: mcp.url, allow: ['get_time'] }]),
    WEB_CLIENT_DIR: path.join(dir, 'web'),
    DRAIN_GRACE_MS: '500',
  });

  context = await launchChromium(path.join(dir, 'profile'), ['--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${micPath}`]);
  page = context.pages()[0] ?? (await context.newPage());
});

/** Debian's Chromium, headless, with a fresh profile and a fake microphone. */
function launchChromium(profileDir: string, extraArgs: string[]): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-device-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
      ...extraArgs,
    ],
  });
}

after(async () => {
  await context?.close();
  await gateway?.stop();
  await llm?.close();
  await mcp?.close();
  await rm(dir, { recursive: true, force: true });
});

/** What the page reports on `window.__voiceStats` (web/src/voice-stats.ts). */
const stats = () => page.evaluate(() => (globalThis as unknown as { __voiceStats: VoiceStats }).__voiceStats);

async function waitForStats(what: string, ok: (s: VoiceStats) => boolean): Promise<VoiceStats> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const s = await stats();
    if (ok(s)) return s;
    if (Date.now() > deadline) {
      const log = gateway.output().split('\n').slice(-15).join('\n');
      throw new Error(`${what}: not seen in ${WAIT_MS} ms.\npage: ${JSON.stringify(s)}\ngateway log (end):\n${log}`);
    }
    await page.waitForTimeout(100);
  }
}

void describe('the web client in Chromium', () => {
  void it('hears a question, answers aloud with captions and a latency chart, and stops at once when talked over', async (t) => {
    await page.goto(`http://127.0.0.1:${gateway.httpPort}/`);
    assert.equal(await page.title(), 'Voice Gateway');
    await page.getByRole('button', { name: 'Start the conversation' }).click();
    await waitForStats('the session is live', (s) => s.connection === 'live');

    // The question is recognised and shown.
    const heard = await waitForStats('the question is transcribed', (s) => s.finalTranscripts.length >= 1);
    assert.match(heard.finalTranscripts[0]!, /weather/);
    await page.locator('.bubble.user', { hasText: 'weather' }).waitFor({ timeout: WAIT_MS });
    // The tool the gateway ran for it shows in the captions, with how it ended.
    const toolCaption = page.locator('.bubble.tool[data-status="ok"]', { hasText: 'get_time: ok' });
    await toolCaption.waitFor({ timeout: WAIT_MS });
    assert.match((await toolCaption.textContent()) ?? '', /Tool · clock.*get_time: ok, \d+\.\d s/);

    // The answer is played: real, non-silent samples come out of the playback worklet.
    const playing = await waitForStats('the reply is heard', (s) => s.soundSamples > s.outputSampleRateHz);
    assert.ok(playing.peak > 0.05, `peak ${playing.peak}`);
    await page.locator('.bubble.agent[data-status="speaking"]', { hasText: 'weather' }).waitFor({ timeout: WAIT_MS });

    // The follow-up comes while the long answer is still playing: the gateway interrupts it and
    // the page drops what it had queued at once.
    const cut = await waitForStats('the long reply is interrupted', (s) => Object.values(s.replies).some((r) => r.status === 'interrupted') && s.flushes.length > 0);
    const [interruptedId, interrupted] = Object.entries(cut.replies).find(([, r]) => r.status === 'interrupted')!;
    const flush = cut.flushes.find((f) => f.responseId === interruptedId);
    assert.ok(flush, `a flush of ${interruptedId}: ${JSON.stringify(cut.flushes)}`);
    assert.ok(flush.droppedMs > 1000, `queued audio was dropped, not played out (${flush.droppedMs} ms)`);
    assert.ok(interrupted.playedMs < interrupted.audioReceivedMs, 'less was played than was received');
    await page.locator('.bubble.agent[data-status="interrupted"]').waitFor({ timeout: WAIT_MS });

    // The follow-up gets its own answer; every turn's latencies are drawn.
    const done = await waitForStats('the follow-up is answered', (s) => s.turnMetrics.length >= 2 && Object.values(s.replies).some((r) => r.status === 'completed'));
    assert.match(done.finalTranscripts[1] ?? '', /lights|kitchen/);
    assert.equal((await stats()).replies[interruptedId]!.playedMs, flush.playedMs, 'nothing of the interrupted reply played after the flush');
    assert.ok((await page.locator('#latency-chart svg rect.bar').count()) >= 5, 'the latency chart has bars');
    assert.match((await page.locator('#v2v-latest').textContent()) ?? '', /\d+(\.\d)? (ms|s)/);

    // The gateway's history holds what the person heard of the interrupted answer (the page
    // reported its playback positions), not the whole answer.
    const followUpRequest = llm.requests.find((r) => r.messages.filter((m) => m.role === 'user').length === 2);
    const kept = followUpRequest?.messages.find((m) => m.role === 'assistant')?.content ?? '';
    assert.equal(followUpRequest?.messages.find((m) => m.role === 'tool')?.tool_call_id, 'call_forecast', 'the tool result stays in the history');
    assert.ok(kept.length > 0 && kept.length < LONG_REPLY.length && LONG_REPLY.startsWith(kept), `history kept: "${kept}"`);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-client.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-client-phone.png'), fullPage: true });

    const v2v = done.turnMetrics.map((m) => m.voiceToVoiceMs);
    t.diagnostic(`voice-to-voice (turn_metrics) per turn: ${v2v.join(', ')} ms; flush confirmed ${(flush.confirmedAtMs - flush.requestedAtMs).toFixed(1)} ms after response_done; ${Math.round(flush.droppedMs)} ms of queued reply audio dropped`);
    t.diagnostic(`turn_metrics: ${JSON.stringify(done.turnMetrics)}`);
  });

  void it('is usable from the keyboard: push-to-talk with the Space bar', async () => {
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.getByRole('radio', { name: 'Push-to-talk' }).check();
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.down('Space');
    await page.locator('#talk[data-state="talking"]').waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('#talk').getAttribute('aria-pressed'), 'true');
    await page.keyboard.up('Space');
    await page.locator('#talk:not([data-state="talking"])').waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('#talk').getAttribute('aria-pressed'), 'false');
  });

  void it('a denied microphone gets a message that says what to do', async () => {
    // No fake permission UI: the permission prompt is refused.
    const denied = await launchChromium(path.join(dir, 'profile-denied'), ['--deny-permission-prompts']);
    try {
      const deniedPage = denied.pages()[0] ?? (await denied.newPage());
      await deniedPage.goto(`http://127.0.0.1:${gateway.httpPort}/`);
      await deniedPage.getByRole('button', { name: 'Start the conversation' }).click();
      const alert = deniedPage.getByRole('alert');
      await alert.waitFor({ timeout: WAIT_MS });
      assert.match((await alert.textContent()) ?? '', /Microphone access was denied\. Allow the microphone for this site/);
      assert.equal(await deniedPage.getByRole('button', { name: 'Try again' }).isVisible(), true);
    } finally {
      await denied.close();
    }
  });

  void it('a gateway that goes away: the page says so and keeps trying to reconnect', async () => {
    await page.getByRole('radio', { name: 'Hands-free' }).check();
    assert.equal((await stats()).connection, 'live');
    assert.equal(await gateway.stop(), 0, 'the gateway drains and exits cleanly');
    await waitForStats('the page notices', (s) => s.connection === 'reconnecting');
    const alert = page.getByRole('alert');
    await alert.filter({ hasText: /Reconnecting in \d+ s/ }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.getByRole('button', { name: 'Reconnect now' }).isVisible(), true);
    assert.equal(await page.locator('#connection').getAttribute('data-state'), 'reconnecting');
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-client-reconnecting.png') });
  });
});
