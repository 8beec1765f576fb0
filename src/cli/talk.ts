/**
 * `voice-gateway talk`: a conversation with the gateway through the computer's microphone and
 * speaker (SoX `rec` and `play`), with the live transcript and the reply text on screen.
 *
 * Half duplex by default: the microphone is muted while the agent speaks (./../client/mic-gate.ts),
 * so that it works on a laptop's own speakers; interrupt with Enter. `--full-duplex` (a headset)
 * keeps the microphone open, so speaking over the agent interrupts it.
 */
import { createInterface } from 'node:readline';
import { pcm16FromBytes } from '../audio/pcm.js';
import { Conversation } from '../client/conversation.js';
import { MicGate } from '../client/mic-gate.js';
import { ReplyPlayer } from '../client/reply-player.js';
import { loadClientTools } from '../client/tool-command.js';
import { deviceFailure, findSoxTools, startRecorder, startSpeaker } from '../client/sox-audio.js';
import * as pb from '../gen/voice/v1/voice_pb.js';

export interface TalkFlags {
  server: string;
  fullDuplex?: boolean;
  muteTailMs: string;
  language?: string;
  voice?: string;
  sampleRate: string;
  tools?: string;
  toolCommand?: string;
}

/** Audio goes to the speaker this far ahead of the playhead, so that it never starves. */
const SPEAKER_LEAD_MS = 100;
/** The playhead moves in steps this small: the speaker is fed smoothly and stops promptly. */
const SPEAKER_TICK_MS = 20;
/** SoX's last words are kept for the message when it fails, but no more than this. */
const STDERR_KEEP_CHARS = 4000;

function intFlag(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} ${JSON.stringify(value)} is not accepted: use a whole number from ${min} to ${max}`);
  return n;
}

export async function runTalk(flags: TalkFlags): Promise<void> {
  const sampleRateHz = intFlag('--sample-rate', flags.sampleRate, 8000, 48000);
  const muteTailMs = intFlag('--mute-tail-ms', flags.muteTailMs, 0, 10000);
  const clientTools = await loadClientTools(flags.tools, flags.toolCommand);
  const tools = findSoxTools(process.env.PATH);
  const out = process.stdout;

  const speaker = startSpeaker(tools, sampleRateHz);
  const gate = new MicGate({ fullDuplex: Boolean(flags.fullDuplex), muteTailMs });
  const player = new ReplyPlayer(sampleRateHz, {
    keepHeard: false,
    leadMs: SPEAKER_LEAD_MS,
    sink: (pcm) => {
      gate.speakerPlaying(true, performance.now());
      speaker.stdin.write(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
    },
  });
  const screen = new Screen(out, Boolean(out.isTTY));
  const conversation = new Conversation({
    server: flags.server,
    inputSampleRateHz: sampleRateHz,
    outputSampleRateHz: sampleRateHz,
    settings: { language: flags.language, voice: flags.voice },
    player,
    playerTickMs: SPEAKER_TICK_MS,
    onEvent: (response) => screen.show(response),
    tools: clientTools,
  });
  const mic = startRecorder(tools, sampleRateHz);
  const keys = process.stdin.isTTY ? createInterface({ input: process.stdin }) : null;

  out.write(
    `Talking to ${flags.server}. ` +
      (flags.fullDuplex
        ? 'Full duplex: speak over the agent to interrupt it (use a headset).\n'
        : 'Half duplex: the microphone is muted while the agent speaks; press Enter to interrupt it (--full-duplex for headsets).\n') +
      'Ctrl-C ends the conversation.\n\n',
  );

  return new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (problem?: string) => {
      if (stopping) return;
      stopping = true;
      process.removeListener('SIGINT', onInterruptSignal);
      keys?.close();
      mic.kill();
      void conversation
        .close()
        .catch((error: unknown) => {
          problem ??= `the gateway at ${flags.server} failed: ${error instanceof Error ? error.message : String(error)}`;
        })
        .finally(() => {
          speaker.stdin.end();
          speaker.kill();
          out.write('\n');
          if (problem) {
            process.stderr.write(`voice-gateway: ${problem}\n`);
            process.exitCode = 1;
          }
          resolve();
        });
    };
    const onInterruptSignal = () => stop();
    process.once('SIGINT', onInterruptSignal);
    keys?.on('line', () => conversation.interrupt());

    let leftover: Buffer = Buffer.alloc(0);
    mic.stdout.on('data', (data: Buffer) => {
      const bytes = leftover.length > 0 ? Buffer.concat([leftover, data]) : data;
      const whole = bytes.length - (bytes.length % 2);
      leftover = bytes.subarray(whole);
      if (whole === 0) return;
      const now = performance.now();
      gate.speakerPlaying(player.playing, now);
      conversation.sendAudio(gate.pass(pcm16FromBytes(bytes.subarray(0, whole)), now));
    });
    let micStderr = '';
    mic.stderr.on('data', (data: Buffer) => (micStderr = (micStderr + data.toString()).slice(-STDERR_KEEP_CHARS)));
    mic.on('error', (error) => stop(`could not start \`rec\`: ${error.message}`));
    mic.on('exit', (code) => stop(deviceFailure('rec', code, micStderr)));
    let speakerStderr = '';
    speaker.stderr.on('data', (data: Buffer) => (speakerStderr = (speakerStderr + data.toString()).slice(-STDERR_KEEP_CHARS)));
    speaker.stdin.on('error', () => undefined); // a dead speaker is reported by its exit below
    speaker.on('error', (error) => stop(`could not start \`play\`: ${error.message}`));
    speaker.on('exit', (code) => stop(deviceFailure('play', code, speakerStderr)));
    conversation.ended.then(
      () => stop(conversation.errors.at(-1)?.message ?? 'the gateway ended the conversation'),
      (error: unknown) => stop(`the gateway at ${flags.server} failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  });
}

/**
 * The conversation as text: the user's words as they are recognized (redrawn in place on a
 * terminal; only the final words when the output is a file or a pipe), then the agent's reply.
 */
class Screen {
  private partialShown = false;
  private lastText = '';
  private replyShown = false;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly live: boolean,
  ) {}

  show(response: pb.ConverseResponse): void {
    const e = response.event;
    switch (e.case) {
      case 'transcript': {
        const final = e.value.stability === pb.TranscriptStability.FINAL;
        if (!final && (!this.live || e.value.text === this.lastText)) break;
        this.endReply();
        this.out.write(this.live ? `\r\x1b[K  you: ${e.value.text}` : `  you: ${e.value.text}`);
        this.partialShown = true;
        this.lastText = e.value.text;
        if (final) this.endLine();
        break;
      }
      case 'responseText':
        if (!this.replyShown) {
          this.endLine();
          this.out.write('agent: ');
          this.replyShown = true;
        }
        this.out.write(e.value.delta);
        break;
      case 'responseDone': {
        const { status } = e.value;
        const note = status === pb.ResponseStatus.INTERRUPTED ? '[interrupted]' : status === pb.ResponseStatus.FAILED ? '[failed]' : '';
        if (note && !this.replyShown) {
          this.endLine();
          this.out.write(`agent: ${note}`);
          this.replyShown = true;
        } else if (note) {
          this.out.write(` ${note}`);
        }
        this.endReply();
        break;
      }
      case 'error':
        this.endLine();
        this.endReply();
        this.out.write(`  (${pb.ErrorCode[e.value.code] ?? e.value.code}: ${e.value.message})\n`);
        break;
      case 'toolCall':
        this.note(`tool ${e.value.name}(${e.value.argumentsJson})`);
        break;
      case 'toolCallCancelled':
        if (!e.value.resultIgnored) this.note(`tool call cancelled (${pb.ToolCancelReason[e.value.reason]?.toLowerCase() ?? e.value.reason})`);
        break;
      case 'toolActivity':
        if (e.value.outcome !== pb.ToolOutcome.UNSPECIFIED) this.note(`${e.value.server}: ${e.value.name} ${pb.ToolOutcome[e.value.outcome]?.toLowerCase() ?? ''} in ${e.value.durationMs} ms`);
        break;
      default:
        break;
    }
  }

  /** A line about what the agent is doing, between the words. */
  private note(text: string): void {
    this.endLine();
    this.endReply();
    this.out.write(`  [${text}]\n`);
  }

  private endLine(): void {
    if (!this.partialShown) return;
    this.out.write('\n');
    this.partialShown = false;
    this.lastText = '';
  }

  private endReply(): void {
    if (!this.replyShown) return;
    this.out.write('\n');
    this.replyShown = false;
  }
}
