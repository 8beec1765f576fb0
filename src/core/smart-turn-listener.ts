/**
 * Listening's side of end_of_turn_source "smart_turn": it keeps the last seconds of the user's
 * audio at the model's rate (the model looks at no more: TurnEndModel.maxAudioMs), and while a
 * turn is pending feeds the silence after its speech to a SemanticEndOfTurn (./semantic-end-of-turn.ts),
 * which asks the process's one model (providers.turn) and decides. Its buffer is made by the first
 * audio of a smart_turn session only, so other sessions hold none.
 *
 * It also tells when the model is asked and when the user speaks on after that (`early`): speculative
 * start begins the early reply at the question, the decision confirms it, speaking on drops it.
 */
import { StreamResampler } from '../audio/resampler.js';
import type { TurnEndModel } from '../providers/types.js';
import { GatewayError } from './events.js';
import { SemanticEndOfTurn, type EndOfTurnDecision, type SemanticEndOfTurnSettings } from './semantic-end-of-turn.js';

export interface SmartTurnListenerHooks {
  decided(decision: EndOfTurnDecision): void;
  /** `asked`: the model is asked whether the turn is over (first at the short silence); false: the user spoke on after it was. */
  early(asked: boolean): void;
}

/** What a session that asks for smart_turn hears when the server has no model. */
export function smartTurnMissing(): GatewayError {
  return new GatewayError('failed_precondition', 'end_of_turn_source smart_turn needs the Smart Turn model, which this server has not loaded (TURN_MODEL_PATH, or TURN_END_SOURCE=smart_turn): turns end on silence (end_of_turn_silence_ms) instead');
}

/** What the client hears when the model fails: the turn still ends, on silence. */
export function smartTurnFailed(error: unknown): GatewayError {
  return new GatewayError('unavailable', `the Smart Turn model failed: ${error instanceof Error ? error.message : String(error)}; this turn ends after end_of_turn_max_silence_ms of silence`);
}

export class SmartTurnListener {
  private resampler: StreamResampler | null = null;
  private resamplerFromHz = 0;
  /** The newest `maxAudioMs` of audio at the model's rate, oldest first once `filled`. */
  private ring: Int16Array | null = null;
  private writeAt = 0;
  private filled = false;
  private decider: SemanticEndOfTurn | null = null;
  private closed = false;
  /** The model was asked since the user last spoke. */
  private asked = false;

  constructor(
    private readonly model: TurnEndModel,
    private readonly settings: () => SemanticEndOfTurnSettings,
    private readonly hooks: SmartTurnListenerHooks,
  ) {}

  /** Input audio at `inputRateHz`, in order. */
  async push(pcm: Int16Array, inputRateHz: number): Promise<void> {
    if (inputRateHz !== this.model.sampleRateHz && (!this.resampler || this.resamplerFromHz !== inputRateHz)) {
      this.resampler?.destroy();
      this.resamplerFromHz = inputRateHz;
      this.resampler = await StreamResampler.create(inputRateHz, this.model.sampleRateHz);
      if (this.closed) return this.resampler.destroy();
    }
    if (inputRateHz === this.model.sampleRateHz && this.resampler) {
      this.resampler.destroy();
      this.resampler = null;
    }
    this.append(this.resampler ? this.resampler.process(pcm) : pcm);
  }

  /**
   * After each VAD frame: the user speaks (`speaking`), or has been silent `silenceMs` with a turn
   * pending (`turnPending`).
   */
  onVoice(speaking: boolean, silenceMs: number, turnPending: boolean): void {
    if (speaking) {
      if (this.asked) this.hooks.early(false);
      this.asked = false;
      return this.decider?.onSpeech();
    }
    if (!turnPending) return;
    this.decider ??= new SemanticEndOfTurn(this.settings(), (signal) => this.model.predict(this.snapshot(), signal), (d) => this.decided(d), () => {
      this.asked = true;
      this.hooks.early(true);
    });
    this.decider.onSilence(silenceMs);
  }

  /** The turn ended (any way) or was cleared: the next one starts over, with its own audio. */
  reset(): void {
    this.decider?.cancel();
    this.decider = null;
    this.asked = false;
    this.writeAt = 0;
    this.filled = false;
  }

  close(): void {
    this.closed = true;
    this.reset();
    this.resampler?.destroy();
    this.ring = null;
  }

  private decided(decision: EndOfTurnDecision): void {
    if (decision.kind === 'end') this.decider = null; // a failed model keeps its decider: it ends the turn at the max silence
    this.hooks.decided(decision);
  }

  private append(pcm: Int16Array): void {
    const ring = (this.ring ??= new Int16Array(Math.round((this.model.maxAudioMs / 1000) * this.model.sampleRateHz)));
    const src = pcm.length > ring.length ? pcm.subarray(pcm.length - ring.length) : pcm;
    const first = Math.min(src.length, ring.length - this.writeAt);
    ring.set(src.subarray(0, first), this.writeAt);
    ring.set(src.subarray(first), 0);
    const end = this.writeAt + src.length;
    if (end >= ring.length) this.filled = true;
    this.writeAt = end % ring.length;
  }

  /** The buffered audio, oldest first (a copy: the model's thread gets it). */
  private snapshot(): Int16Array {
    const ring = this.ring;
    if (!ring) return new Int16Array(0);
    if (!this.filled) return ring.slice(0, this.writeAt);
    const out = new Int16Array(ring.length);
    out.set(ring.subarray(this.writeAt), 0);
    out.set(ring.subarray(0, this.writeAt), ring.length - this.writeAt);
    return out;
  }
}
