/**
 * Progress of a model download on stderr: a live bar (cli-progress) on a terminal; in a log
 * (stderr not a TTY) a line per 10 % instead, since a redrawn bar would fill the log with
 * carriage returns.
 */
import cliProgress from 'cli-progress';

export interface ProgressStream {
  write(text: string): boolean;
  isTTY?: boolean;
}

export interface DownloadProgress {
  /** `bytes` more have arrived. */
  advance(bytes: number): void;
  /** The download ended (whole or not): the bar is closed. */
  stop(): void;
}

const MIB = 1024 * 1024;
/** Without a Content-Length there are no percentages: a line per this many bytes. */
const LINE_EVERY_BYTES_UNKNOWN_TOTAL = 50 * MIB;

export function downloadProgress(label: string, totalBytes: number | undefined, stream: ProgressStream): DownloadProgress {
  if (stream.isTTY && totalBytes) return barProgress(label, totalBytes, stream);
  return lineProgress(label, totalBytes, stream);
}

function barProgress(label: string, totalBytes: number, stream: ProgressStream): DownloadProgress {
  const bar = new cliProgress.SingleBar(
    {
      stream: stream as NodeJS.WritableStream,
      format: `${label} [{bar}] {percentage}% | {doneMiB}/{totalMiB} MiB | {eta_formatted} left`,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let done = 0;
  bar.start(totalBytes, 0, { doneMiB: '0.0', totalMiB: (totalBytes / MIB).toFixed(1) });
  return {
    advance(bytes) {
      done += bytes;
      bar.update(done, { doneMiB: (done / MIB).toFixed(1) });
    },
    stop() {
      bar.stop();
    },
  };
}

function lineProgress(label: string, totalBytes: number | undefined, stream: ProgressStream): DownloadProgress {
  let done = 0;
  let reported = 0; // tenths when the total is known, else multiples of the line step
  stream.write(`${label}: starting${totalBytes ? ` (${(totalBytes / MIB).toFixed(1)} MiB)` : ''}\n`);
  return {
    advance(bytes) {
      done += bytes;
      if (totalBytes) {
        const tenths = Math.min(10, Math.floor((done * 10) / totalBytes));
        for (; reported < tenths; ) {
          reported++;
          stream.write(`${label}: ${reported * 10}% (${(done / MIB).toFixed(1)} of ${(totalBytes / MIB).toFixed(1)} MiB)\n`);
        }
      } else {
        const steps = Math.floor(done / LINE_EVERY_BYTES_UNKNOWN_TOTAL);
        if (steps > reported) {
          reported = steps;
          stream.write(`${label}: ${(done / MIB).toFixed(1)} MiB\n`);
        }
      }
    },
    stop() {
      // Nothing to close: each line is complete.
    },
  };
}
