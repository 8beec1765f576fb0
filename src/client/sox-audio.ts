/**
 * Microphone and speaker through SoX's `rec` and `play` commands (Debian package `sox`): raw
 * signed 16-bit little-endian mono PCM on their stdout and stdin. SoX converts from and to whatever
 * rate and format the device has, and works the same on ALSA, PulseAudio and PipeWire.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** What to install, said once for every way SoX can be missing or unable to reach a device. */
const INSTALL_HINT =
  'Install SoX: `sudo apt-get install sox` (Debian/Ubuntu), with `libsox-fmt-pulse` on PulseAudio or PipeWire desktops ' +
  'or `libsox-fmt-alsa` for plain ALSA';

/** `rec` or `play` is not installed. */
export class MissingAudioToolError extends Error {
  override readonly name = 'MissingAudioToolError';
}

export interface SoxTools {
  rec: string;
  play: string;
}

/** The executable `command` on the PATH `searchPath`, or null. */
export function findOnPath(command: string, searchPath: string | undefined): string | null {
  for (const dir of (searchPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/** Finds `rec` and `play`, or throws one message that says which is missing and what to install. */
export function findSoxTools(searchPath: string | undefined): SoxTools {
  const rec = findOnPath('rec', searchPath);
  const play = findOnPath('play', searchPath);
  if (rec && play) return { rec, play };
  const missing = [rec ? null : '`rec`', play ? null : '`play`'].filter(Boolean).join(' and ');
  throw new MissingAudioToolError(`voice-gateway talk records with SoX's \`rec\` and plays with its \`play\`; ${missing} not found on PATH. ${INSTALL_HINT}.`);
}

const rawArgs = (sampleRateHz: number) => ['-t', 'raw', '-r', String(sampleRateHz), '-e', 'signed-integer', '-b', '16', '-c', '1', '-L'];

/** The microphone: raw PCM16 on stdout. `-q`: no progress display on stderr. */
export function startRecorder(tools: SoxTools, sampleRateHz: number): ChildProcessWithoutNullStreams {
  return spawn(tools.rec, ['-q', ...rawArgs(sampleRateHz), '-'], { stdio: 'pipe' });
}

/** The speaker: raw PCM16 written to stdin is played. */
export function startSpeaker(tools: SoxTools, sampleRateHz: number): ChildProcessWithoutNullStreams {
  return spawn(tools.play, ['-q', ...rawArgs(sampleRateHz), '-'], { stdio: 'pipe' });
}

/** Why a SoX process that should run until stopped has ended, with what to do about it. */
export function deviceFailure(command: 'rec' | 'play', code: number | null, stderr: string): string {
  const said = stderr.trim().split('\n').filter(Boolean).slice(-2).join(' / ');
  const device = command === 'rec' ? 'microphone' : 'speaker';
  return `\`${command}\` stopped (exit code ${code ?? 'none'}) and the ${device} is gone${said ? `: ${said}` : ''}. ` +
    `Check that a ${device} is connected; choose one with AUDIODEV (and AUDIODRIVER=pulseaudio or alsa). ${INSTALL_HINT}.`;
}
