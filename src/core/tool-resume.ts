/**
 * Tool calls of a session restored from a snapshot (./session-snapshot.ts). A call that had no
 * result where the session was saved can never get one here: the reply that made it is gone with
 * its replica (it ends interrupted), and a server tool's run with it. Such a call is removed from
 * the history, as a barge-in removes the calls still running (./tool-rounds.ts), so the next LLM
 * request holds every call with its result; a client call is cancelled on the wire
 * (`tool_call_cancelled`, reason client), and a result the client sends for it later is
 * acknowledged and ignored. Calls that end a reply on purpose (the Realtime way, `callsEndReply`)
 * are the client's to answer, and stay.
 */
import type { SessionSettings } from './events.js';
import type { ConversationHistory } from './history.js';
import type { SessionTools } from './session-tools.js';

export function settleLostToolCalls(history: ConversationHistory, tools: SessionTools, settings: SessionSettings, lostReplyId: string | undefined): void {
  const clientTools = new Set(settings.tools.map((t) => t.name));
  const orphans = new Set(history.orphans());
  for (const item of history.snapshot()) {
    if (!orphans.has(item.id) || !item.tool) continue;
    const client = item.tool.kind === 'call' && clientTools.has(item.tool.name);
    if (client && tools.callsEndReply) continue;
    tools.removeItem(item.id);
    if (client) tools.results.cancelLost(item.tool.callId, lostReplyId ?? '', 'client');
  }
}
