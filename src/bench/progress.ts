/** The live progress line of `bench` on stderr (only when stderr is a terminal). */
import cliProgress from 'cli-progress';
import type { LevelProgress } from './load-level.js';

export class ProgressLine {
  private readonly bar = new cliProgress.SingleBar(
    {
      format: '{label} [{bar}] {value}/{total} s | {connected} sessions | {turns} turns | v2v p50 {p50} p99 {p99} ms | {errors} errors | server {cpu}% CPU {rss} MB',
      barsize: 20,
      hideCursor: true,
      clearOnComplete: true,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );

  start(label: string, totalS: number): void {
    this.bar.start(Math.max(1, Math.round(totalS)), 0, { label, ...empty });
  }

  update(status: LevelProgress): void {
    this.bar.update(Math.min(status.elapsedS, this.bar.getTotal()), {
      connected: status.connected,
      turns: status.turns,
      p50: status.voiceToVoiceP50Ms ?? '-',
      p99: status.voiceToVoiceP99Ms ?? '-',
      errors: status.errors,
      cpu: status.serverCpuPercent ?? '-',
      rss: status.serverResidentMb ?? '-',
    });
  }

  stop(): void {
    this.bar.stop();
  }
}

const empty = { connected: 0, turns: 0, p50: '-', p99: '-', errors: 0, cpu: '-', rss: '-' };
