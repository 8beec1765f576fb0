/**
 * A session's tools: what is on offer (the client's declared tools and the gateway's MCP tools),
 * the checks a client's declarations go through, the tool rounds of each reply, and the results
 * clients send. The replies' owner (./replies.ts) holds one; each reply gets its rounds from it.
 */
import type { ToolBackend } from '../providers/types.js';
import type { ServerEvent, SessionSettings, ToolCancelReason } from './events.js';
import type { ConversationHistory } from './history.js';
import type { ToolLimits } from './settings.js';
import { END_CALL_TOOL } from './end-call-tool.js';
import { DEFAULT_FILLER_PHRASES, fillerPhrases } from './tool-filler.js';
import { TURN_KNOBS } from './turn-config.js';
import { ToolResults, type ToolResultIn } from './tool-results.js';
import { ToolRounds, type OfferedTool, type ToolRoundSettings } from './tool-rounds.js';

/** What the server decides about tools for every session (from the configuration). */
export interface ToolsConfig {
  /** The gateway's own tools (MCP servers); absent: none. */
  backend?: ToolBackend;
  rounds: ToolRoundSettings;
  /** Filler phrases by language tag (built-in ones merged with TOOL_FILLER_PHRASES). */
  fillerPhrases: Readonly<Record<string, readonly string[]>>;
  declarationsMaxBytes: number;
}

/** Tools when the configuration gives none: no server tools, and the tool knobs' defaults. */
export const TOOLS_BY_DEFAULT: ToolsConfig = {
  rounds: {
    maxRounds: TURN_KNOBS.toolMaxRounds.default,
    timeoutMs: TURN_KNOBS.toolTimeoutMs.default,
    fillerAfterMs: TURN_KNOBS.toolFillerAfterMs.default,
    argumentRetries: TURN_KNOBS.toolArgumentRetries.default,
    resultMaxBytes: 16384,
    activityDetail: false,
  },
  fillerPhrases: DEFAULT_FILLER_PHRASES,
  declarationsMaxBytes: 65536,
};

export interface SessionToolsHost {
  send(event: ServerEvent): void;
  sendItemEvent(event: ServerEvent): void;
}

/** What a reply lends its rounds. */
export interface ReplyToolHooks {
  /** An event of the reply (held while it is speculative, dropped once it is not current). */
  emit: (event: ServerEvent) => void;
  /** True once the reply may act (a speculative one: confirmed); false if it was dropped. */
  mayAct: () => Promise<boolean>;
  /** Why the reply stopped, once it has. */
  cancelReason: () => ToolCancelReason;
}

export class SessionTools {
  readonly results: ToolResults;
  /** Replies end at the client's calls (the OpenAI Realtime way); set by `start`. */
  callsEndReply = false;
  /** The built-in end_call is offered (the transport can hang up); set by `start`. */
  endCallTool = false;

  constructor(
    private readonly config: ToolsConfig,
    private readonly history: ConversationHistory,
    private readonly host: SessionToolsHost,
  ) {
    this.results = new ToolResults(history, config.rounds.resultMaxBytes, host);
  }

  /** What a client's tool declarations are checked against. */
  limits(): ToolLimits {
    return { serverToolNames: new Set((this.config.backend?.tools() ?? []).map((t) => t.name)), declarationsMaxBytes: this.config.declarationsMaxBytes };
  }

  /** The tool rounds of a reply, or undefined when no tool is on offer. */
  forReply(responseId: string, settings: SessionSettings, hooks: ReplyToolHooks): ToolRounds | undefined {
    const offered: OfferedTool[] = [
      ...settings.tools.map((t): OfferedTool => ({ kind: 'client', spec: { name: t.name, description: t.description, parameters: t.parameters }, ...(t.timeoutMs ? { timeoutMs: t.timeoutMs } : {}) })),
      ...(this.config.backend?.tools() ?? []).filter((tool) => !(this.endCallTool && tool.name === END_CALL_TOOL.name)).map((tool): OfferedTool => ({ kind: 'server', tool })),
      ...(this.endCallTool ? [{ kind: 'builtin', spec: END_CALL_TOOL } as const] : []),
    ];
    if (offered.length === 0) return undefined;
    return new ToolRounds({
      responseId,
      offered,
      toolChoice: settings.toolChoice,
      clientFiller: settings.toolFiller,
      fillerPhrases: fillerPhrases(settings.language, this.config.fillerPhrases),
      callsEndReply: this.callsEndReply,
      settings: this.config.rounds,
      backend: this.config.backend,
      results: this.results,
      mayAct: hooks.mayAct,
      emit: hooks.emit,
      cancelReason: hooks.cancelReason,
      freeItemId: (base) => this.history.freeId(base),
      addItem: (item, shown) => {
        const previousItemId = this.history.insert(item);
        if (shown) this.host.sendItemEvent({ type: 'item_added', item, previousItemId, responseId });
        return previousItemId;
      },
      removeItem: (id, shown) => this.removeItem(id, shown),
    });
  }

  /** Takes a tool item out of the history (`shown`: item-aware clients are told). */
  removeItem(id: string, shown = true): void {
    if (!this.history.has(id)) return;
    this.history.delete(id);
    if (shown) this.host.sendItemEvent({ type: 'item_deleted', itemId: id });
  }

  result(event: ToolResultIn): void {
    this.results.result(event);
  }

  close(): void {
    this.results.close();
  }
}
