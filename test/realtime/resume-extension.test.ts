/**
 * Resume on the OpenAI Realtime endpoint, an extension OpenAI clients ignore (the SDK tests beside
 * this one run with it on): `session.created` carries `resume_token`; a client whose socket was
 * cut reconnects with `x-resume-token` and finds its conversation (the same session, its items).
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { WebSocket } from 'ws';
import { startTcpProxy, type TcpProxy } from '../../src/bench/network-link.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { startScriptedOpenAiServer, type ScriptedServer } from '../support/scripted-openai-server.js';
import { waitUntil } from '../support/wait-until.js';

type Event = { type: string } & Record<string, unknown>;
let llm: ScriptedServer;
let gateway: GatewayProcess;
let network: TcpProxy;

before(async () => {
  llm = await startScriptedOpenAiServer({ reply: 'ok' });
  gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], { LLM_BASE_URL: llm.baseUrl });
  network = await startTcpProxy(`127.0.0.1:${gateway.httpPort}`);
});
after(async () => {
  await network?.close();
  await gateway?.stop();
  await llm?.close();
});

function connect(headers: Record<string, string> = {}): { ws: WebSocket; events: Event[] } {
  const ws = new WebSocket(`ws://127.0.0.1:${network.port}/v1/realtime?model=any`, ['realtime'], { headers });
  const events: Event[] = [];
  ws.on('message', (data: Buffer) => events.push(JSON.parse(data.toString()) as Event));
  ws.on('error', () => undefined);
  return { ws, events };
}

const created = (events: Event[]) => events.find((e) => e.type === 'session.created') as (Event & { session: { id: string }; resume_token?: string; resumed?: boolean }) | undefined;

void it('a Realtime client cut off resumes its session with x-resume-token and finds its items', async () => {
  const first = connect();
  await waitUntil(() => created(first.events) !== undefined, 'session.created', 30_000);
  const session = created(first.events)!;
  assert.ok(typeof session.resume_token === 'string' && session.resume_token.length > 0, 'the token, as an extra field');
  assert.equal(session.resumed, false);
  first.ws.send(JSON.stringify({ type: 'conversation.item.create', item: { id: 'note_1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'remember pineapple' }] } }));
  await waitUntil(() => first.events.some((e) => e.type === 'conversation.item.created' || e.type === 'conversation.item.added'), 'the item', 30_000);

  network.cutAll();
  const again = connect({ 'x-resume-token': session.resume_token });
  await waitUntil(() => created(again.events) !== undefined, 'session.created after the resume', 30_000);
  const resumed = created(again.events)!;
  assert.equal(resumed.resumed, true);
  assert.equal(resumed.session.id, session.session.id, 'the same session');
  again.ws.send(JSON.stringify({ type: 'conversation.item.retrieve', item_id: 'note_1' }));
  await waitUntil(() => again.events.some((e) => e.type === 'conversation.item.retrieved'), 'the item is still there', 30_000);
  const item = again.events.find((e) => e.type === 'conversation.item.retrieved') as Event & { item: { content: Array<{ text?: string; transcript?: string }> } };
  assert.match(JSON.stringify(item.item.content), /remember pineapple/);
  again.ws.close();
});
