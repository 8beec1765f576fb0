/**
 * Tool calls as observers see them: a `voice.tool` span per call under the turn's span, a log line
 * per call that names the tool and its outcome (its arguments only at debug level), and server
 * tools' arguments and results on `tool_activity` only with TOOL_ACTIVITY_DETAIL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createLogger, sessionLogObserver } from '../../src/observability/logging.js';
import { TurnTracing } from '../../src/observability/tracing.js';
import type { McpToolBackend } from '../../src/providers/tools/mcp.js';
import type { ChatMessage } from '../../src/providers/types.js';
import { startTestMcpServer, type TestMcpServer } from '../support/mcp-test-server.js';
import { call, mcpBackend, toolSession, WEATHER_TOOL } from '../support/tool-session.js';

const lastIsTool = (messages: ChatMessage[]) => messages.at(-1)?.role === 'tool';
const SECRET_CITY = 'Reykjavik';

let mcp: TestMcpServer;
let backend: McpToolBackend;
before(async () => {
  mcp = await startTestMcpServer();
  backend = await mcpBackend(mcp.url, ['find_order', 'hold'], { hold: 300 });
});
after(async () => {
  await backend.close();
  await mcp.close();
});

/** A turn that calls the client's weather tool and the MCP server's order lookup. */
async function toolTurn(observer: Parameters<typeof toolSession>[0]['observer'], activityDetail = false) {
  const { driver: d } = toolSession({
    backend,
    observer,
    rounds: { activityDetail },
    reply: (messages) => (lastIsTool(messages) ? ['Done.'] : [call('w', 'get_weather', { city: SECRET_CITY }), call('o', 'find_order', { order_id: '77' })]),
  });
  await d.start({ tools: [WEATHER_TOOL] });
  d.session.handle({ type: 'text', text: 'weather and order' });
  await d.next('tool_call');
  d.session.handle({ type: 'tool_result', callId: 'w', output: 'snow' });
  await d.next('response_done');
  d.session.end();
  await d.finished;
  return d;
}

void describe('tool calls, observed', () => {
  void it('one voice.tool span per call under the turn span, with the tool, its kind and outcome', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = new TurnTracing(exporter, { includeText: false, processor: 'simple' });
    await toolTurn(tracing.forSession());
    const spans = exporter.getFinishedSpans();
    const turn = spans.find((s) => s.name === 'voice.turn')!;
    const tools = spans.filter((s) => s.name === 'voice.tool');
    assert.deepEqual(
      tools.map((s) => [s.attributes['voice.tool.name'], s.attributes['voice.tool.kind'], s.attributes['voice.tool.outcome'], s.attributes['voice.tool.server'] ?? null]).sort(),
      [['find_order', 'server', 'ok', 'shop'], ['get_weather', 'client', 'ok', null]],
    );
    for (const span of tools) assert.equal(span.parentSpanContext?.spanId, turn.spanContext().spanId);
    assert.ok(!JSON.stringify(tools.map((s) => s.attributes)).includes(SECRET_CITY), 'no arguments on spans');
  });

  for (const level of ['info', 'debug'] as const) {
    void it(`a log line per call naming the tool and outcome; arguments ${level === 'debug' ? 'at debug' : 'never at info'}`, async () => {
      const raw: string[] = [];
      await toolTurn(sessionLogObserver(createLogger(level, { write: (line: string) => void raw.push(line) })));
      const lines = raw.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'tool call');
      assert.deepEqual(lines.map((l) => [l.tool, l.kind, l.outcome, l.server ?? null]).sort(), [['find_order', 'server', 'ok', 'shop'], ['get_weather', 'client', 'ok', null]]);
      assert.ok(lines.every((l) => typeof l.durationMs === 'number' && l.turnId === 'turn_1'));
      assert.equal(raw.some((l) => l.includes(SECRET_CITY)), level === 'debug');
    });
  }

  void it('tool_activity carries a server tool\'s arguments and result only with TOOL_ACTIVITY_DETAIL', async () => {
    const plain = await toolTurn({});
    assert.ok(plain.all('tool_activity').every((e) => e.arguments === undefined && e.output === undefined));
    const detailed = await toolTurn({}, true);
    const finished = detailed.all('tool_activity').find((e) => e.outcome === 'ok')!;
    assert.deepEqual([finished.arguments, finished.output], ['{"order_id":"77"}', 'Order 77 ships Thursday.']);
  });

  void it('a slow MCP tool past its own timeout: cancelled on the server, outcome timeout, the model is told', async () => {
    const { driver: d, llm } = toolSession({ backend, reply: (messages) => (lastIsTool(messages) ? ['Too slow.'] : [call('s', 'hold', { what: 'x' })]) });
    await d.start();
    const held = mcp.nextHeld();
    d.session.handle({ type: 'text', text: 'go' });
    assert.match(await (await held).cancelled, /./);
    const finished = await d.next('tool_activity', (e) => e.outcome !== undefined);
    assert.equal(finished.outcome, 'timeout');
    await d.next('response_done');
    assert.match(llm.requests[1]!.at(-1)!.content, /did not answer within 300 ms/);
    d.session.end();
  });
});
