/**
 * The scenarios of the interruption suite. Each is a short conversation with random timings (from
 * its seed): a question, a reply, and something happening to the reply; then the checks that do
 * not depend on the kind (invariants.ts), the history read back through the simulated model's
 * recall, and a last question that must be answered.
 *
 * "barge_in_during_tool_call" offers a client tool and speaks while its call is pending (its checks:
 * tool-call-checks.ts). "provider_ignores_abort" runs against a second gateway whose simulated providers go on after
 * abort (profile `ignoresAbort`), when the runner has one (`connectToStubbornProviders`).
 */
import * as pb from '../../gen/voice/v1/voice_pb.js';
import { RECALL_PROMPT, RECALL_SEPARATOR } from '../../providers/simulated/llm.js';
import { checkReplies, doneOf, expectedHeardText, sameWords, type Violations } from './invariants.js';
import type { LoggedEvent, ScenarioClient } from './scenario-client.js';
import { hum, noise, voice } from './sounds.js';
import { isCancellation, SCENARIO_TOOL, toolCallChecks } from './tool-call-checks.js';

export interface ScenarioEnv {
  /** Opens a session on the gateway under test (offering these client tools). */
  connect(tools?: Array<typeof SCENARIO_TOOL>): ScenarioClient;
  /** Opens a session on a gateway whose simulated LLM and TTS ignore aborts (provider_ignores_abort). */
  connectToStubbornProviders?(): ScenarioClient;
  /** The simulated voice's speaking rate (profile tts.msPerChar). */
  msPerChar: number;
}

export interface ScenarioOutcome {
  violations: Violations;
  /** Pauses seen and resumes seen (false interruptions). */
  paused: number;
  resumed: number;
  /** From the end of the sound that paused a reply to its response_unpaused, ms. */
  resumeMs: number[];
}

type Rng = () => number;
type Script = (client: ScenarioClient, rng: Rng, seed: number, env: ScenarioEnv) => Promise<Expectation>;
/** What the script expects of the reply it acted on. */
type Expectation = {
  responseId: string;
  expect: 'interrupted' | 'resumed' | 'either';
  soundEndAt?: number;
  client?: ScenarioClient;
  /** The kind's own checks, on the log once the scenario is over. */
  checks?: () => Violations;
};

const WAIT_MS = 15_000;
/** Longer than the end-of-turn silence and the recognizer's final: a caller that said something is answered by then. */
const QUIET_MS = 1500;
const between = (rng: Rng, min: number, max: number) => Math.round(min + rng() * (max - min));
const isEvent = (kind: LoggedEvent['event']['case'], responseId?: string) => (e: LoggedEvent) =>
  e.event.case === kind && (responseId === undefined || (e.event.value as { responseId?: string }).responseId === responseId);

/** Asks a spoken question; resolves with the reply's id once it started. */
async function ask(client: ScenarioClient, rng: Rng): Promise<string> {
  const since = client.log.length;
  await client.say(voice(between(rng, 900, 1600)));
  const started = await client.waitFor(isEvent('responseStarted'), WAIT_MS, 'response_started after the question', since);
  return (started.event.value as pb.ResponseStarted).responseId;
}

async function interruptAfterPlaying(client: ScenarioClient, rng: Rng): Promise<Expectation> {
  const responseId = await ask(client, rng);
  await client.playedAtLeast(responseId, between(rng, 200, 2500), WAIT_MS);
  await client.say(voice(between(rng, 700, 1200)));
  return { responseId, expect: 'interrupted' };
}

/** Something that is not an interruption, while the reply plays. */
async function falseInterruption(client: ScenarioClient, rng: Rng, sound: Int16Array): Promise<Expectation> {
  const responseId = await ask(client, rng);
  await client.playedAtLeast(responseId, between(rng, 300, 1500), WAIT_MS);
  await client.say(sound);
  return { responseId, expect: 'resumed', soundEndAt: performance.now() };
}

export const KINDS: Record<string, Script> = {
  barge_in_before_first_audio: async (client, rng) => {
    const since = client.log.length;
    await client.say(voice(between(rng, 900, 1400)));
    const started = await client.waitFor(isEvent('responseStarted'), WAIT_MS, 'response_started', since);
    await client.say(voice(between(rng, 700, 1000)));
    return { responseId: (started.event.value as pb.ResponseStarted).responseId, expect: 'interrupted' };
  },
  barge_in_mid_piece: interruptAfterPlaying,
  barge_in_at_piece_boundary: async (client, rng) => {
    const responseId = await ask(client, rng);
    const texts = () => client.log.filter(isEvent('responseText', responseId)).length;
    await client.waitFor((e) => isEvent('responseText', responseId)(e) && texts() >= 2, WAIT_MS, 'a second piece');
    await client.say(voice(between(rng, 700, 1000)));
    return { responseId, expect: 'interrupted' };
  },
  barge_in_twice: async (client, rng) => {
    const first = await interruptAfterPlaying(client, rng);
    const since = client.log.findIndex(isEvent('responseDone', first.responseId));
    const next = await client.waitFor(isEvent('responseStarted'), WAIT_MS, 'the reply to the barge-in', since);
    const responseId = (next.event.value as pb.ResponseStarted).responseId;
    await client.playedAtLeast(responseId, between(rng, 200, 1500), WAIT_MS);
    await client.say(voice(between(rng, 700, 1000)));
    return { responseId, expect: 'interrupted' };
  },
  backchannel: (client, rng) => falseInterruption(client, rng, hum(between(rng, 250, 600))),
  noise_burst: (client, rng, seed) => falseInterruption(client, rng, noise(between(rng, 250, 600), seed)),
  cough_before_reply: async (client, rng, seed) => {
    const since = client.log.length;
    await client.say(voice(between(rng, 900, 1400)));
    const started = await client.waitFor(isEvent('responseStarted'), WAIT_MS, 'response_started', since);
    await client.say(noise(between(rng, 250, 400), seed));
    return { responseId: (started.event.value as pb.ResponseStarted).responseId, expect: 'either', soundEndAt: performance.now() };
  },
  // Run against the gateway whose LLM and TTS go on after abort: it must abandon them within its cancel budget.
  provider_ignores_abort: interruptAfterPlaying,
  barge_in_during_tool_call: async (client, rng) => {
    client.answerTools(between(rng, 50, 400)); // the calls of later replies are answered soon
    const since = client.log.length;
    await client.say(voice(between(rng, 900, 1600)));
    const called = await client.waitFor(isEvent('toolCall'), WAIT_MS, 'the tool call', since);
    const { responseId, callId } = called.event.value as pb.ToolCall;
    client.holdToolCall(callId); // this one is slow: pending until after the barge-in
    await new Promise((r) => setTimeout(r, between(rng, 100, 2500))); // the filler ("One moment.") may start meanwhile
    await client.say(voice(between(rng, 700, 1200)));
    // The slow result comes after all, once the call was cancelled (or the caller stopped waiting for that).
    await client.waitFor(isCancellation(callId, false), WAIT_MS, 'tool_call_cancelled').catch(() => undefined);
    client.sendToolResult(callId, `${SCENARIO_TOOL.name}: done, late`);
    return { responseId, expect: 'interrupted', checks: () => toolCallChecks(client.log, responseId, callId) };
  },
  disconnect_mid_reply: async (client, rng, _seed, env) => {
    const responseId = await ask(client, rng);
    await client.playedAtLeast(responseId, between(rng, 100, 1500), WAIT_MS);
    client.drop();
    // The gateway must have let the session go: a new one is served as usual.
    return { responseId, expect: 'either', client: env.connect() };
  },
};

/** Runs one scenario and every check on it. */
export async function runScenario(kind: string, seed: number, env: ScenarioEnv): Promise<ScenarioOutcome> {
  const script = KINDS[kind];
  if (!script) throw new Error(`no scenario kind "${kind}"`);
  const rng = mulberry32(seed);
  const first = kind === 'provider_ignores_abort' && env.connectToStubbornProviders ? env.connectToStubbornProviders() : env.connect(kind === 'barge_in_during_tool_call' ? [SCENARIO_TOOL] : []);
  const outcome: ScenarioOutcome = { violations: [], paused: 0, resumed: 0, resumeMs: [] };
  let client = first;
  try {
    const expectation = await script(first, rng, seed, env);
    const acted = first;
    if (expectation.client) client = expectation.client;
    if (client === acted) await checkActedReply(acted, expectation, env, outcome);
    await answersNextQuestion(client, rng, outcome);
    outcome.violations.push(...(expectation.checks?.() ?? []));
    // A client that hung up gets no response_done: only its audio rules apply.
    outcome.violations.push(...checkReplies(acted.log).filter((v) => client === acted || v.invariant !== 'one_done_per_reply'));
    if (client !== acted) outcome.violations.push(...checkReplies(client.log));
  } finally {
    await Promise.all([first.close(), client === first ? undefined : client.close()]);
  }
  return outcome;
}

async function checkActedReply(client: ScenarioClient, exp: Expectation, env: ScenarioEnv, outcome: ScenarioOutcome): Promise<void> {
  const done = await client.waitFor(isEvent('responseDone', exp.responseId), WAIT_MS, `response_done of ${exp.responseId}`).catch(() => undefined);
  const pauses = client.log.filter(isEvent('responsePaused', exp.responseId));
  const resumes = client.log.filter(isEvent('responseUnpaused', exp.responseId));
  outcome.paused += pauses.length;
  outcome.resumed += resumes.length;
  if (exp.soundEndAt !== undefined) for (const r of resumes) if (r.atMs >= exp.soundEndAt) outcome.resumeMs.push(r.atMs - exp.soundEndAt);
  const value = done?.event.value as pb.ResponseDone | undefined;
  if (!value) return; // one_done_per_reply reports it
  if (exp.expect === 'interrupted' && value.status !== pb.ResponseStatus.INTERRUPTED) {
    outcome.violations.push({ invariant: 'real_barge_in_interrupts', detail: `${exp.responseId} ended ${pb.ResponseStatus[value.status]} after words were spoken over it` });
  }
  if (exp.expect === 'resumed' && (value.status !== pb.ResponseStatus.COMPLETED || resumes.length === 0 || value.falseInterruptions < 1)) {
    outcome.violations.push({
      invariant: 'false_interruption_resumes',
      detail: `${exp.responseId}: ${pauses.length} pauses, ${resumes.length} resumes, ended ${pb.ResponseStatus[value.status]}, false_interruptions ${value.falseInterruptions}`,
    });
  }
  await checkHistory(client, env, value.heardTextEstimated, outcome);
}

/**
 * The history, read back through the simulated model's recall: every reply's kept text (replies
 * kept empty are not in the history) against what the caller played of it.
 */
async function checkHistory(client: ScenarioClient, env: ScenarioEnv, estimated: boolean, outcome: ScenarioOutcome): Promise<void> {
  await settled(client);
  const expected = [...client.replies.values()]
    .map((reply) => expectedHeardText(reply, env.msPerChar, doneOf(client.log, reply.responseId)?.status === pb.ResponseStatus.COMPLETED))
    .filter(Boolean);
  const since = client.log.length;
  client.sendText(RECALL_PROMPT, true);
  const started = await client.waitFor(isEvent('responseStarted'), WAIT_MS, 'the recall reply', since).catch(() => undefined);
  const recallId = started ? (started.event.value as pb.ResponseStarted).responseId : '';
  const recallDone = recallId ? await client.waitFor(isEvent('responseDone', recallId), 30_000, 'the recall reply to end').catch(() => undefined) : undefined;
  const recalled = (client.replies.get(recallId)?.pieces ?? []).map((p) => p.text).join(' ');
  const kept = recalled === 'Nothing.' ? [] : recalled.split(RECALL_SEPARATOR).map((t) => t.trim());
  // An estimate may keep one word where none was heard (or none where one was): such replies may be missing on either side.
  const shortOnes = (list: string[]) => list.filter((t) => !estimated || t.split(/\s+/).length > 1);
  const [a, b] = kept.length === expected.length ? [kept, expected] : [shortOnes(kept), shortOnes(expected)];
  const ok = recallDone !== undefined && a.length === b.length && a.every((text, i) => sameWords(text, b[i]!, estimated));
  if (!ok) outcome.violations.push({ invariant: 'history_is_heard_text', detail: `kept ${JSON.stringify(kept)}, heard ${JSON.stringify(expected)}` });
}

/** Quiet before the next step: nothing left to say, no reply going on, no event for QUIET_MS (the speech of a barge-in becomes a turn with a reply). */
async function settled(client: ScenarioClient): Promise<void> {
  await client.say(new Int16Array(0));
  const busy = () => [...client.replies.values()].some((r) => !doneOf(client.log, r.responseId)) || performance.now() - (client.log.at(-1)?.atMs ?? 0) < QUIET_MS;
  for (let i = 0; busy() && i < 1200; i++) await new Promise((r) => setTimeout(r, 50));
}

async function answersNextQuestion(client: ScenarioClient, rng: Rng, outcome: ScenarioOutcome): Promise<void> {
  try {
    await settled(client);
    const responseId = await ask(client, rng);
    await client.waitFor(isEvent('responseAudio', responseId), WAIT_MS, 'audio of the reply to the next question');
    const done = await client.waitFor(isEvent('responseDone', responseId), 30_000, 'the end of that reply');
    if ((done.event.value as pb.ResponseDone).status !== pb.ResponseStatus.COMPLETED) throw new Error(`it ended ${pb.ResponseStatus[(done.event.value as pb.ResponseDone).status]}`);
  } catch (error) {
    outcome.violations.push({ invariant: 'answers_next_question', detail: error instanceof Error ? error.message : String(error) });
  }
}

/** A small seeded generator: the same seed plays the same scenario. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function doneStatus(log: readonly LoggedEvent[], id: string): string {
  const d = doneOf(log, id);
  return d ? pb.ResponseStatus[d.status] : 'none';
}
