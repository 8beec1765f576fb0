/**
 * The gateway's CPU time and resident memory, read from its own `GET /metrics` (prom-client's
 * default process metrics). One way for a gateway the bench started and one it was pointed at, and
 * the numbers are the process's own, as Prometheus would see them.
 */
export interface ResourceSample {
  /** performance.now() when read. */
  at: number;
  cpuSeconds: number;
  residentBytes: number;
  /** prom-client's event-loop delay p99 (since its last reset), when exported. */
  eventLoopLagP99Ms: number | null;
  activeSessions: number | null;
}

const FETCH_TIMEOUT_MS = 2000;

export class ServerResources {
  constructor(readonly metricsUrl: string) {}

  /**
   * The gateway at rest, for memory per session: read after `settleMs` (a process just started
   * is still freeing what start-up allocated). Null when it already holds sessions.
   */
  async idleSample(settleMs: number): Promise<ResourceSample | null> {
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    const sample = await this.sample();
    return sample.activeSessions ? null : sample;
  }

  /** One reading; throws with a message naming the URL when it cannot be had. */
  async sample(): Promise<ResourceSample> {
    let text: string;
    try {
      const response = await fetch(this.metricsUrl, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      text = await response.text();
    } catch (error) {
      throw new Error(`cannot read the gateway's metrics at ${this.metricsUrl}: ${(error as Error).message}`, { cause: error });
    }
    const cpuSeconds = sampleValue(text, 'process_cpu_seconds_total');
    const residentBytes = sampleValue(text, 'process_resident_memory_bytes');
    if (cpuSeconds === null || residentBytes === null) {
      throw new Error(`${this.metricsUrl} has no process_cpu_seconds_total or process_resident_memory_bytes (prom-client default metrics)`);
    }
    const lagS = sampleValue(text, 'nodejs_eventloop_lag_p99_seconds');
    return { at: performance.now(), cpuSeconds, residentBytes, eventLoopLagP99Ms: lagS === null ? null : lagS * 1000, activeSessions: sampleValue(text, 'voice_gateway_sessions_active') };
  }
}

/**
 * The value of an unlabelled sample `name value` in Prometheus text format. Only these few
 * unlabelled process gauges and counters are read, so a line match is enough (the metrics tests
 * parse the whole format with a parser library).
 */
export function sampleValue(text: string, name: string): number | null {
  const match = new RegExp(`^${name}(?:\\{\\})? ([^ \\n]+)`, 'm').exec(text);
  if (!match) return null;
  const value = Number(match[1]);
  return Number.isFinite(value) ? value : null;
}
