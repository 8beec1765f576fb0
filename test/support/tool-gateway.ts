/**
 * A gateway process with tools for transport tests: the scripted VAD, ASR and TTS, the real
 * OpenAI-compatible LLM provider against a scripted server that calls tools as OpenAI streams
 * them, and MCP_SERVERS pointing at a real MCP server on loopback (official SDK). Fillers are
 * off unless `env` sets TOOL_FILLER_AFTER_MS.
 */
import type * as grpc from '@grpc/grpc-js';
import type * as pb from '../../src/gen/voice/v1/voice_pb.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { startTestMcpServer, type TestMcpServer } from './mcp-test-server.js';
import { startScriptedOpenAiServer, type ReplyScript, type ScriptedServer } from './scripted-openai-server.js';

export interface ToolGateway {
  llm: ScriptedServer;
  mcp: TestMcpServer;
  gateway: GatewayProcess;
  stop(): Promise<void>;
}

export async function startToolGateway(reply: ReplyScript, env: Record<string, string> = {}): Promise<ToolGateway> {
  const llm = await startScriptedOpenAiServer({ reply, tokenDelayMs: 1 });
  const mcp = await startTestMcpServer();
  const gateway = await startGatewayProcess(['test/support/serve-scripted.ts'], {
    LLM_BASE_URL: llm.baseUrl,
    MCP_SERVERS: JSON.stringify([{ name: 'shop', url: mcp.url, allow: ['lookup_order', 'hold', 'find_order'] }]),
    DRAIN_GRACE_MS: '0',
    WEB_CLIENT_ENABLED: 'false',
    // No fillers unless a test asks: a tool slowed by a loaded machine must not change what is said.
    TOOL_FILLER_AFTER_MS: '0',
    ...env,
  });
  return {
    llm,
    mcp,
    gateway,
    async stop() {
      await gateway.stop();
      await llm.close();
      await mcp.close();
    },
  };
}

type EventCase = NonNullable<pb.ConverseResponse['event']['case']>;
export type EventValue<K extends EventCase> = Extract<pb.ConverseResponse['event'], { case: K }>['value'];

/** The first event of `kind` a gRPC call received that `match` accepts, waiting for it (bounded, never judged). */
export async function nextGrpc<K extends EventCase>(
  call: { call: grpc.ClientDuplexStream<pb.ConverseRequest, pb.ConverseResponse>; events: pb.ConverseResponse[] },
  kind: K,
  match: (value: EventValue<K>) => boolean = () => true,
): Promise<EventValue<K>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    for (const e of call.events) if (e.event.case === kind && match(e.event.value as EventValue<K>)) return e.event.value as EventValue<K>;
    if (Date.now() > deadline) throw new Error(`no ${kind} within 30 s; got ${call.events.map((e) => e.event.case).join(', ')}`);
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      // The listener goes with the timer: waits that time out must not pile listeners on the call.
      const timer = setTimeout(() => {
        call.call.off('data', wake);
        resolve();
      }, 200);
      call.call.once('data', wake);
    });
  }
}
