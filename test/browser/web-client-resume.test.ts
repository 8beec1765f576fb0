/**
 * The web client resumes on its own, in Debian's Chromium (playwright-core): the page talks to a
 * real gateway (scripted speech providers, the scripted OpenAI-compatible LLM) through a TCP
 * proxy that stands for the network. Mid-reply the network drops every connection; the page
 * reconnects with its resume token, keeps its captions, and the reply goes on in the same caption
 * from where it was heard, without the gateway asking the LLM again.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { writeWav } from '../../src/audio/wav.js';
import { startTcpProxy, type TcpProxy } from '../../src/bench/network-link.js';
import type { VoiceStats } from '../../web/src/voice-stats.js';
import { buildWebClient } from '../../web/build.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';
import { concat, silence, tone } from '../support/scripted-providers.js';
import { LONG_REPLY } from '../resume/support.js';

const CHROMIUM = '/usr/bin/chromium';
const WAIT_MS = 60_000;

let dir: string;
let llm: ScriptedServer;
let gateway: GatewayProcess;
let network: TcpProxy;
let context: BrowserContext;
let page: Page;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (scripts/setup.sh --test does)`);
  dir = await mkdtemp(path.join(tmpdir(), 'web-client-resume-'));
  await buildWebClient(path.join(dir, 'web'));
  // One utterance (a tone the scripted VAD and recognizer hear as speech), then quiet: the fake
  // microphone loops its file, so the quiet is long.
  const micPath = path.join(dir, 'mic.wav');
  await writeFile(micPath, writeWav(concat(silence(1000), tone(1200), silence(90_000)), 16000));
  llm = await startScriptedOpenAiServer({ reply: LONG_REPLY, tokenDelayMs: 5 });
  gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], { LLM_BASE_URL: llm.baseUrl, WEB_CLIENT_DIR: path.join(dir, 'web'), SCRIPTED_TTS_MS_PER_CHAR: '50' });
  network = await startTcpProxy(`127.0.0.1:${gateway.httpPort}`);
  context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${micPath}`, '--autoplay-policy=no-user-gesture-required'],
  });
  page = context.pages()[0] ?? (await context.newPage());
});

after(async () => {
  await context?.close();
  await network?.close();
  await gateway?.stop();
  await llm?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const stats = () => page.evaluate(() => (globalThis as unknown as { __voiceStats: VoiceStats }).__voiceStats);

async function waitForStats(what: string, ok: (s: VoiceStats) => boolean): Promise<VoiceStats> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const s = await stats();
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`${what}: not seen in ${WAIT_MS} ms.\npage: ${JSON.stringify(s)}\ngateway log (end):\n${gateway.output().slice(-2000)}`);
    await page.waitForTimeout(100);
  }
}

void it('after its WebSocket is cut the page resumes the conversation: captions kept, the reply goes on where it was heard', async () => {
  await page.goto(`http://127.0.0.1:${network.port}/`);
  await page.getByRole('button', { name: 'Start the conversation' }).click();
  const live = await waitForStats('the session is live', (s) => s.connection === 'live');
  const playing = await waitForStats('a reply is heard', (s) => Object.values(s.replies).some((r) => r.status === 'speaking' && r.playedMs > 1500));
  const [replyId] = Object.entries(playing.replies).find(([, r]) => r.status === 'speaking')!;
  await page.locator('.bubble.user').first().waitFor({ timeout: WAIT_MS });
  const userCaption = await page.locator('.bubble.user').first().textContent();

  assert.ok(network.cutAll() > 0, 'the page had connections to cut');
  const back = await waitForStats('the page resumes', (s) => s.resumes === 1 && s.connection === 'live');
  assert.equal(back.sessionId, live.sessionId, 'the same session');
  assert.equal(await page.locator('.bubble.user').first().textContent(), userCaption, 'the captions are kept');

  const done = await waitForStats('the reply goes on to its end', (s) => s.replies[replyId]?.status === 'completed');
  assert.ok(done.replies[replyId]!.playedMs > 1500);
  const agent = page.locator('.bubble.agent[data-status="completed"]');
  await agent.waitFor({ timeout: WAIT_MS });
  assert.equal(await page.locator('.bubble.agent').count(), 1, 'one caption for the reply, before and after the drop');
  assert.match((await agent.textContent()) ?? '', /last sentence of it all/);
  assert.equal(llm.requests.length, 1, 'the gateway did not ask the LLM again');
});
