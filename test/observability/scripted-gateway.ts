/**
 * A gateway started in this process with the scripted providers of test/support: real gRPC and
 * HTTP on loopback, the composition root's own observability, nothing from the network.
 */
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { startGateway, type Gateway } from '../../src/server.js';
import { ScriptedAsr, ScriptedLlm, ScriptedTts, ScriptedVad } from '../support/scripted-providers.js';
import { scrape, valueOf } from '../support/prometheus-text.js';

export interface ScriptedGatewayOptions {
  env?: Record<string, string>;
  logger?: Logger;
  traceExporter?: SpanExporter;
  /** What the user says in each spoken turn, in order. */
  utterances?: string[];
  reply?: string;
}

export async function startScriptedGateway(options: ScriptedGatewayOptions = {}): Promise<Gateway & { grpcAddress: string }> {
  const config = loadConfig({ HOST: '127.0.0.1', GRPC_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'silent', ...options.env });
  const reply = options.reply ?? 'It is sunny and warm today.';
  const gateway = await startGateway({
    config,
    providers: {
      vad: new ScriptedVad(),
      asr: new ScriptedAsr(options.utterances ?? ['what is the weather']),
      llm: new ScriptedLlm({ reply: () => reply.split(/(?<= )/) }),
      tts: new ScriptedTts(),
    },
    logger: options.logger,
    traceExporter: options.traceExporter,
  });
  return Object.assign(gateway, { grpcAddress: `127.0.0.1:${gateway.grpcPort}` });
}

/** Waits (up to `timeoutMs`) until /metrics says no session is open: the last one has closed. */
export async function untilNoSessions(httpPort: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { series } = await scrape(httpPort);
    const active = valueOf(series, 'voice_gateway_sessions_active');
    if (active === 0) return;
    if (Date.now() > deadline) throw new Error(`${active} sessions still open after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
