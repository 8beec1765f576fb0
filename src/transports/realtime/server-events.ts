/**
 * Server events out: each core event becomes the Realtime events OpenAI sends for it, in the
 * documented order of a voice turn, with every id and index field and a unique event_id:
 *
 *   speech_started -> speech_stopped -> committed -> conversation.item.added (user)
 *   -> input_audio_transcription.delta/.completed -> conversation.item.done (user)
 *   -> response.created -> output_item.added -> conversation.item.added -> content_part.added
 *   -> (output_audio_transcript.delta, output_audio.delta)* -> output_audio.done
 *   -> output_audio_transcript.done -> content_part.done -> output_item.done
 *   -> conversation.item.done -> response.done
 *
 * A client tool call is a `function_call` output item of the reply (after its message item):
 *   output_item.added -> conversation.item.added -> function_call_arguments.delta/.done
 *   -> output_item.done -> conversation.item.done, and it is in response.done's output.
 * The client's function_call_output comes back as an item (conversation.item.added/.done).
 *
 * Beta names replace GA ones where the dialects differ (response.audio.*, conversation.item.created,
 * no conversation.item.done). The state kept here is presentation only: which reply an item
 * belongs to, the transcript sent so far, the session fields only this protocol has.
 */
import { randomBytes } from 'node:crypto';
import type { ConversationItem, ServerEvent, SessionSettings } from '../../core/events.js';
import type { EventContext } from './client-events.js';
import { gaFormatOf, betaFormatOf, initialState, renderSession, voiceOf, type Dialect, type RealtimeSessionState } from './session-config.js';
import { errorBody, fromCore, type WireError } from './wire-error.js';

export type WireEvent = { type: string; event_id: string } & Record<string, unknown>;

/** GA event names that the beta dialect calls otherwise (null: beta has no such event). */
const BETA_NAMES: Record<string, string | null> = {
  'response.output_audio.delta': 'response.audio.delta',
  'response.output_audio.done': 'response.audio.done',
  'response.output_audio_transcript.delta': 'response.audio_transcript.delta',
  'response.output_audio_transcript.done': 'response.audio_transcript.done',
  'conversation.item.added': 'conversation.item.created',
  'conversation.item.done': null,
};

interface Reply {
  id: string;
  itemId?: string;
  previousItemId: string | null;
  /** The text sent with the audio so far. */
  transcript: string;
  /** Its function_call items, in order (output_index 1, 2, ...). */
  calls: Array<Record<string, unknown>>;
  error?: WireError;
}

/** What the connection passes for answers: the context of the client event a ref names. */
export type ContextOf = (ref: string | undefined) => EventContext | undefined;

export class RealtimeEventWriter {
  private state: RealtimeSessionState;
  private settings: SessionSettings | null = null;
  private sessionId = '';
  private readonly idPrefix = `event_${randomBytes(4).toString('hex')}`;
  private sequence = 0;
  private readonly replies = new Map<string, Reply>();
  /** User audio items waiting for their final transcript, with the item before each. */
  private readonly audioItems = new Map<string, string | null>();

  constructor(
    private readonly dialect: Dialect,
    model: string,
    private readonly contextOf: ContextOf,
  ) {
    this.state = initialState(model);
  }

  /** The Realtime events for one core event (none for those the protocol has no place for). */
  map(event: ServerEvent): WireEvent[] {
    const out: WireEvent[] = [];
    // The context of the client event this answers (taken once: every answer comes once).
    const context = 'ref' in event ? this.contextOf(event.ref) : undefined;
    const emit = (type: string, fields: Record<string, unknown> = {}) => {
      const name = this.dialect === 'beta' && type in BETA_NAMES ? BETA_NAMES[type] : type;
      if (name) out.push({ type: name, event_id: `${this.idPrefix}_${++this.sequence}`, ...fields });
    };
    switch (event.type) {
      case 'ready':
        this.sessionId = event.sessionId;
        this.settings = event.settings;
        // Extension (README, "Resume"): OpenAI clients ignore fields they do not know.
        emit('session.created', { session: this.session(), ...(event.resumeToken ? { resume_token: event.resumeToken, resume_window_ms: event.resumeWindowMs, resumed: event.resumed ?? false } : {}) });
        if (this.dialect === 'beta') emit('conversation.created', { conversation: { id: this.conversationId(), object: 'realtime.conversation' } });
        break;
      case 'settings_updated': {
        this.state = { ...this.state, ...context?.session };
        this.settings = event.settings;
        emit('session.updated', { session: this.session() });
        break;
      }
      case 'speech_started':
        if (this.vadOn()) emit('input_audio_buffer.speech_started', { audio_start_ms: event.audioOffsetMs, item_id: event.turnId });
        break;
      case 'speech_stopped':
        if (this.vadOn()) emit('input_audio_buffer.speech_stopped', { audio_end_ms: event.audioOffsetMs, item_id: event.turnId });
        break;
      case 'item_added':
        this.itemAdded(event, emit);
        break;
      case 'transcript': {
        // Only the final one: a partial may still change, and Realtime deltas only append.
        if (event.stability !== 'final' || !this.audioItems.has(event.turnId)) break;
        const previousItemId = this.audioItems.get(event.turnId) ?? null;
        this.audioItems.delete(event.turnId);
        const on = this.state.transcription !== null;
        if (on) {
          emit('conversation.item.input_audio_transcription.delta', { item_id: event.turnId, content_index: 0, delta: event.text });
          emit('conversation.item.input_audio_transcription.completed', { item_id: event.turnId, content_index: 0, transcript: event.text });
        }
        const item = { id: event.turnId, role: 'user', text: event.text, origin: 'audio' } as const;
        emit('conversation.item.done', { item: this.item(item, 'completed', on ? event.text : null), previous_item_id: previousItemId });
        break;
      }
      case 'response_started':
        this.replies.set(event.responseId, { id: event.responseId, previousItemId: null, transcript: '', calls: [] });
        emit('response.created', { response: this.response(event.responseId, 'in_progress', []) });
        break;
      case 'response_text': {
        const reply = this.replies.get(event.responseId);
        if (!reply?.itemId) break;
        reply.transcript += event.delta;
        emit('response.output_audio_transcript.delta', { ...this.partIds(reply), delta: event.delta });
        break;
      }
      case 'response_audio': {
        const reply = this.replies.get(event.responseId);
        if (reply?.itemId) emit('response.output_audio.delta', { ...this.partIds(reply), delta: Buffer.from(event.data).toString('base64') });
        break;
      }
      case 'response_done':
        this.responseDone(event, emit);
        break;
      // Only for sessions that asked for turn_detection.interruption_mode "pause" (this gateway's extension).
      case 'response_paused':
        emit('response.paused', { response_id: event.responseId, audio_sent_ms: event.audioSentMs });
        break;
      case 'response_unpaused':
        emit('response.unpaused', { response_id: event.responseId, offset_ms: event.offsetMs });
        break;
      case 'response_resumed':
        // After a resume the reply goes on: its deltas continue the item the client had.
        this.replies.set(event.responseId, { id: event.responseId, itemId: event.itemId, previousItemId: null, transcript: event.earlierText, calls: [] });
        break;
      case 'item_retrieved':
        emit('conversation.item.retrieved', { item: this.item(event.item, 'completed', event.item.text) });
        break;
      case 'item_truncated':
        emit('conversation.item.truncated', { item_id: event.itemId, content_index: context?.contentIndex ?? 0, audio_end_ms: event.audioEndMs });
        break;
      case 'item_deleted':
        emit('conversation.item.deleted', { item_id: event.itemId });
        break;
      case 'input_cleared':
        emit('input_audio_buffer.cleared');
        break;
      case 'error': {
        const error = fromCore(event.code, event.message, event.reason, context?.param ?? null);
        // A reply's failure also goes into its response.done.
        if (!event.ref) for (const reply of this.replies.values()) reply.error ??= error;
        emit('error', { error: errorBody(error, context?.clientEventId) });
        break;
      }
      case 'tool_call':
        this.toolCall(event, emit);
        break;
      case 'turn_metrics':
      case 'tool_call_cancelled':
      case 'tool_activity':
        break; // no place for them in this protocol (a reply's calls end it before any can be cancelled)
    }
    return out;
  }

  /** An error this transport found in a frame. */
  error(error: WireError, clientEventId: string | undefined): WireEvent {
    return { type: 'error', event_id: `${this.idPrefix}_${++this.sequence}`, error: errorBody(error, clientEventId) };
  }

  private toolCall(event: Extract<ServerEvent, { type: 'tool_call' }>, emit: (type: string, fields?: Record<string, unknown>) => void): void {
    const reply = this.replies.get(event.responseId);
    if (!reply) return;
    const outputIndex = 1 + reply.calls.length;
    const base = { id: event.itemId, object: 'realtime.item', type: 'function_call', name: event.name, call_id: event.callId };
    const ids = { response_id: reply.id, item_id: event.itemId, output_index: outputIndex, call_id: event.callId };
    const done = { ...base, status: 'completed', arguments: event.arguments };
    // Its conversation.item.added/.done went out when the core added the item (item_added).
    emit('response.output_item.added', { response_id: reply.id, output_index: outputIndex, item: { ...base, status: 'in_progress', arguments: '' } });
    emit('response.function_call_arguments.delta', { ...ids, delta: event.arguments });
    emit('response.function_call_arguments.done', { ...ids, name: event.name, arguments: event.arguments });
    emit('response.output_item.done', { response_id: reply.id, output_index: outputIndex, item: done });
    reply.calls.push(done);
  }

  private itemAdded(event: Extract<ServerEvent, { type: 'item_added' }>, emit: (type: string, fields?: Record<string, unknown>) => void): void {
    const { item, previousItemId } = event;
    if (item.tool) {
      const json = this.item(item, 'completed', null);
      emit('conversation.item.added', { item: json, previous_item_id: previousItemId });
      emit('conversation.item.done', { item: json, previous_item_id: previousItemId });
      return;
    }
    if (item.role === 'assistant' && event.responseId) {
      const reply = this.replies.get(event.responseId);
      if (!reply) return;
      reply.itemId = item.id;
      reply.previousItemId = previousItemId;
      const json = this.item(item, 'in_progress', null, true);
      emit('response.output_item.added', { response_id: reply.id, output_index: 0, item: json });
      emit('conversation.item.added', { item: json, previous_item_id: previousItemId });
      emit('response.content_part.added', { ...this.partIds(reply), part: { type: 'audio', transcript: '' } });
      return;
    }
    if (item.origin === 'audio') {
      // A spoken turn: the buffer was committed; its transcript follows in the final transcript.
      this.audioItems.set(item.id, previousItemId);
      emit('input_audio_buffer.committed', { item_id: item.id, previous_item_id: previousItemId });
      emit('conversation.item.added', { item: this.item(item, 'completed', null), previous_item_id: previousItemId });
      return;
    }
    const json = this.item(item, 'completed', item.text);
    emit('conversation.item.added', { item: json, previous_item_id: previousItemId });
    emit('conversation.item.done', { item: json, previous_item_id: previousItemId });
  }

  private responseDone(event: Extract<ServerEvent, { type: 'response_done' }>, emit: (type: string, fields?: Record<string, unknown>) => void): void {
    const reply = this.replies.get(event.responseId);
    if (!reply) return;
    this.replies.delete(event.responseId);
    const status = event.status === 'completed' ? 'completed' : 'incomplete';
    const output = [];
    if (reply.itemId) {
      const ids = this.partIds(reply);
      const item = this.item({ id: reply.itemId, role: 'assistant', text: reply.transcript, origin: 'audio' }, status, reply.transcript);
      emit('response.output_audio.done', ids);
      emit('response.output_audio_transcript.done', { ...ids, transcript: reply.transcript });
      emit('response.content_part.done', { ...ids, part: { type: 'audio', transcript: reply.transcript } });
      emit('response.output_item.done', { response_id: reply.id, output_index: 0, item });
      emit('conversation.item.done', { item, previous_item_id: reply.previousItemId });
      output.push(item);
    }
    output.push(...reply.calls);
    const details =
      event.status === 'completed'
        ? null
        : event.status === 'interrupted'
          ? { type: 'cancelled', reason: event.cause === 'client' ? 'client_cancelled' : 'turn_detected' }
          : { type: 'failed', error: reply.error ? { type: reply.error.type, code: reply.error.code, message: reply.error.message } : null };
    const responseStatus = event.status === 'completed' ? 'completed' : event.status === 'interrupted' ? 'cancelled' : 'failed';
    emit('response.done', { response: this.response(reply.id, responseStatus, output, details) });
  }

  private partIds(reply: Reply): Record<string, unknown> {
    return { response_id: reply.id, item_id: reply.itemId, output_index: 0, content_index: 0 };
  }

  /** An item as Realtime shows it; `transcript` for the audio part (null: not known yet). */
  private item(item: ConversationItem, status: string, transcript: string | null, empty = false): Record<string, unknown> {
    const tool = item.tool;
    if (tool?.kind === 'call') return { id: item.id, object: 'realtime.item', type: 'function_call', status, name: tool.name, call_id: tool.callId, arguments: tool.arguments };
    if (tool?.kind === 'output') return { id: item.id, object: 'realtime.item', type: 'function_call_output', status, call_id: tool.callId, output: item.text };
    const base = { id: item.id, object: 'realtime.item', type: 'message', role: item.role, status };
    if (empty) return { ...base, content: [] };
    const ga = this.dialect === 'ga';
    let part: Record<string, unknown>;
    if (item.role === 'assistant') {
      part = item.origin === 'audio' ? { type: ga ? 'output_audio' : 'audio', transcript } : { type: ga ? 'output_text' : 'text', text: item.text };
    } else {
      part = item.origin === 'audio' ? { type: 'input_audio', transcript } : { type: 'input_text', text: item.text };
    }
    return { ...base, content: [part] };
  }

  private response(id: string, status: string, output: unknown[], statusDetails: unknown = null): Record<string, unknown> {
    const settings = this.settings;
    const shared = { id, object: 'realtime.response', status, status_details: statusDetails, output, conversation_id: this.conversationId(), metadata: null };
    if (!settings) return shared;
    const voice = voiceOf(this.state, settings);
    if (this.dialect === 'beta') {
      return { ...shared, modalities: ['text', 'audio'], voice, output_audio_format: betaFormatOf(settings.outputFormat), temperature: this.state.temperature, max_output_tokens: this.state.maxOutputTokens };
    }
    return { ...shared, output_modalities: ['audio'], audio: { output: { format: gaFormatOf(settings.outputFormat), voice } }, max_output_tokens: this.state.maxOutputTokens };
  }

  private session(): Record<string, unknown> {
    return this.settings ? renderSession(this.dialect, this.sessionId, this.state, this.settings) : {};
  }

  private conversationId(): string {
    return `conv_${this.sessionId.replace(/^sess_/, '')}`;
  }

  /** Speech events are sent only with turn detection on, as OpenAI does. */
  private vadOn(): boolean {
    return this.settings?.turn.endOfTurnSource !== 'commit';
  }
}
