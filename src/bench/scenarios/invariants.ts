/**
 * What must hold after every scenario of the interruption suite, read from the client's log:
 * - one_done_per_reply: every reply started ends with exactly one response_done;
 * - no_audio_after_done: no audio of a reply after its response_done (above all after "interrupted");
 * - no_audio_while_paused: no audio of a paused reply until it resumes;
 * - real_barge_in_interrupts: speech with words during a reply ends it "interrupted";
 * - false_interruption_resumes: a cough, a noise or an "mm-hmm" pauses the reply, which resumes
 *   and completes, counted in response_done.false_interruptions;
 * - history_is_heard_text: what the gateway kept of the reply (read back through the simulated
 *   model's recall) is what the caller played: exactly when the voice has word timings, else
 *   within one word;
 * - answers_next_question: a question after the scenario gets a spoken, completed reply (the
 *   session is neither deaf nor mute);
 * - tool_call_cancelled, tool_history_valid: a barge-in during a tool call (tool-call-checks.ts).
 */
import * as pb from '../../gen/voice/v1/voice_pb.js';
import type { LoggedEvent, PlayedReply } from './scenario-client.js';

export const INVARIANTS = [
  'one_done_per_reply',
  'no_audio_after_done',
  'no_audio_while_paused',
  'real_barge_in_interrupts',
  'false_interruption_resumes',
  'history_is_heard_text',
  'answers_next_question',
  'tool_call_cancelled',
  'tool_history_valid',
] as const;
export type Invariant = (typeof INVARIANTS)[number];

/** Violations found, each with a sentence saying what happened. */
export type Violations = Array<{ invariant: Invariant; detail: string }>;

export function checkReplies(log: readonly LoggedEvent[]): Violations {
  const out: Violations = [];
  const started = new Set<string>();
  const done = new Map<string, number>();
  const paused = new Set<string>();
  for (const { event } of log) {
    switch (event.case) {
      case 'responseStarted':
        started.add(event.value.responseId);
        break;
      case 'responseDone':
        done.set(event.value.responseId, (done.get(event.value.responseId) ?? 0) + 1);
        paused.delete(event.value.responseId);
        break;
      case 'responsePaused':
        paused.add(event.value.responseId);
        break;
      case 'responseUnpaused':
        paused.delete(event.value.responseId);
        break;
      case 'responseAudio': {
        const id = event.value.responseId;
        if (done.has(id)) out.push({ invariant: 'no_audio_after_done', detail: `audio of ${id} at ${event.value.offsetMs} ms after its response_done` });
        if (paused.has(id)) out.push({ invariant: 'no_audio_while_paused', detail: `audio of ${id} at ${event.value.offsetMs} ms while paused` });
        break;
      }
      default:
        break;
    }
  }
  for (const id of started) {
    const n = done.get(id) ?? 0;
    if (n !== 1) out.push({ invariant: 'one_done_per_reply', detail: `${id} has ${n} response_done` });
  }
  for (const id of done.keys()) if (!started.has(id)) out.push({ invariant: 'one_done_per_reply', detail: `response_done for ${id}, which never started` });
  return out;
}

/** The response_done of a reply, if it came. */
export function doneOf(log: readonly LoggedEvent[], responseId: string): pb.ResponseDone | undefined {
  for (const { event } of log) if (event.case === 'responseDone' && event.value.responseId === responseId) return event.value;
  return undefined;
}

/**
 * The text a caller heard of a reply from the simulated voice: a word is heard once its audio was
 * played to its end (the next word's start, or the end of its piece), each word starting at its
 * first character times `msPerChar` into its piece.
 */
export function expectedHeardText(reply: PlayedReply, msPerChar: number, completed: boolean): string {
  if (completed) return reply.pieces.map((p) => p.text).join(' ');
  const heard: string[] = [];
  for (const piece of reply.pieces) {
    const words = [...piece.text.matchAll(/\S+/g)];
    for (let i = 0; i < words.length; i++) {
      const endChar = i + 1 < words.length ? words[i + 1]!.index : piece.text.length;
      if (piece.startMs + endChar * msPerChar > reply.playedMs) return heard.join(' ');
      heard.push(words[i]![0]);
    }
  }
  return heard.join(' ');
}

/** Equal, or (when `oneWordSlack`) one word more or less at the end. */
export function sameWords(kept: string, expected: string, oneWordSlack: boolean): boolean {
  const a = kept.split(/\s+/).filter(Boolean);
  const b = expected.split(/\s+/).filter(Boolean);
  const shorter = Math.min(a.length, b.length);
  const prefixEqual = a.slice(0, shorter).every((w, i) => w === b[i]);
  return prefixEqual && (a.length === b.length || (oneWordSlack && Math.abs(a.length - b.length) === 1));
}
