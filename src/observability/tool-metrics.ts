/**
 * Tool calls on `GET /metrics`: `voice_gateway_tool_calls_total{tool, kind, outcome}` and their
 * duration `voice_gateway_tool_seconds{tool, kind, outcome}`. Server tool names come from the
 * operator's MCP servers; client tool names come from clients, so at most MAX_CLIENT_TOOL_NAMES of
 * them become label values and the rest count as "other" (a label must stay a small set).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ToolCallRecord } from '../core/tool-rounds.js';

const PREFIX = 'voice_gateway_';
export const MAX_CLIENT_TOOL_NAMES = 100;

export class ToolMetrics {
  private readonly calls: Counter<'tool' | 'kind' | 'outcome'>;
  private readonly seconds: Histogram<'tool' | 'kind' | 'outcome'>;
  private readonly clientNames = new Set<string>();

  constructor(registry: Registry, bucketsS: number[]) {
    const registers = [registry];
    const labelNames = ['tool', 'kind', 'outcome'] as const;
    this.calls = new Counter({
      name: `${PREFIX}tool_calls_total`,
      help: 'Tool calls by tool, kind (client: run by the client; server: an MCP server; builtin: the gateway\'s own, end_call) and outcome (ok, error, unavailable, timeout, cancelled, invalid_arguments)',
      labelNames,
      registers,
    });
    this.seconds = new Histogram({ name: `${PREFIX}tool_seconds`, help: 'Time from a tool call to its result (or its end), by tool, kind and outcome', labelNames, buckets: bucketsS, registers });
  }

  record(calls: readonly ToolCallRecord[] | undefined): void {
    for (const call of calls ?? []) {
      const labels = { tool: this.label(call), kind: call.kind, outcome: call.outcome };
      this.calls.inc(labels);
      this.seconds.observe(labels, Math.max(0, call.endedAt - call.startedAt) / 1000);
    }
  }

  private label(call: ToolCallRecord): string {
    if (call.kind !== 'client') return call.name; // server and built-in names are the gateway's own: bounded
    if (this.clientNames.has(call.name)) return call.name;
    if (this.clientNames.size >= MAX_CLIENT_TOOL_NAMES) return 'other';
    this.clientNames.add(call.name);
    return call.name;
  }
}
