/**
 * voice.v1's tool messages <-> the core's tool events: declarations and the tool choice in
 * SessionSettings, `tool_result` in, `tool_call`, `tool_call_cancelled` and `tool_activity` out.
 * A declaration whose parameters are not JSON is refused here with the tool named; whether they
 * are a valid JSON Schema is the core's to say (it says so for every transport).
 */
import { create } from '@bufbuild/protobuf';
import { GatewayError, type ClientEvent, type ServerEvent, type SessionSettings, type SettingsPatch, type ToolCancelReason, type ToolCallOutcome, type ToolChoice, type ToolDeclaration } from '../../core/events.js';
import * as pb from '../../gen/voice/v1/voice_pb.js';

const CANCEL_TO_PB: Record<ToolCancelReason, pb.ToolCancelReason> = {
  barge_in: pb.ToolCancelReason.BARGE_IN,
  client: pb.ToolCancelReason.CLIENT,
  superseded: pb.ToolCancelReason.SUPERSEDED,
  timeout: pb.ToolCancelReason.TIMEOUT,
};
const OUTCOME_TO_PB: Record<ToolCallOutcome, pb.ToolOutcome> = {
  ok: pb.ToolOutcome.OK,
  error: pb.ToolOutcome.ERROR,
  unavailable: pb.ToolOutcome.UNAVAILABLE,
  timeout: pb.ToolOutcome.TIMEOUT,
  cancelled: pb.ToolOutcome.CANCELLED,
  invalid_arguments: pb.ToolOutcome.INVALID_ARGUMENTS,
};

/** The tool fields of a SessionSettings onto a patch (unset ones keep the current value). */
export function toolSettingsPatch(settings: pb.SessionSettings, patch: SettingsPatch): void {
  if (settings.tools) patch.tools = settings.tools.tools.map(declaration);
  const choice = toolChoice(settings.toolChoice);
  if (choice) patch.toolChoice = choice;
  if (settings.toolFillerDisabled) patch.toolFiller = false;
}

function declaration(tool: pb.ToolDeclaration, index: number): ToolDeclaration {
  let parameters: unknown = { type: 'object', properties: {} };
  if (tool.parametersJson.trim()) {
    try {
      parameters = JSON.parse(tool.parametersJson);
    } catch (error) {
      throw new GatewayError('invalid_argument', `tools[${index}] "${tool.name}": parameters_json is not JSON (${error instanceof Error ? error.message : String(error)}): send a JSON Schema object as JSON text`);
    }
  }
  return { name: tool.name, description: tool.description, parameters: parameters as Record<string, unknown>, ...(tool.timeoutMs ? { timeoutMs: tool.timeoutMs } : {}) };
}

function toolChoice(choice: pb.ToolChoice | undefined): ToolChoice | undefined {
  switch (choice?.mode) {
    case pb.ToolChoiceMode.AUTO:
      return 'auto';
    case pb.ToolChoiceMode.NONE:
      return 'none';
    case pb.ToolChoiceMode.REQUIRED:
      return 'required';
    case pb.ToolChoiceMode.NAMED:
      return { name: choice.name };
    default:
      return undefined;
  }
}

/** The tool fields of the effective settings, for `ready`. */
export function toolSettingsToPb(settings: SessionSettings): Pick<pb.SessionSettings, 'tools' | 'toolChoice' | 'toolFillerDisabled'> {
  const choice = settings.toolChoice;
  const mode = typeof choice === 'object' ? pb.ToolChoiceMode.NAMED : { auto: pb.ToolChoiceMode.AUTO, none: pb.ToolChoiceMode.NONE, required: pb.ToolChoiceMode.REQUIRED }[choice];
  return {
    tools: create(pb.ToolSetSchema, {
      tools: settings.tools.map((t) => ({ name: t.name, description: t.description, parametersJson: JSON.stringify(t.parameters), timeoutMs: t.timeoutMs ?? 0 })),
    }),
    toolChoice: create(pb.ToolChoiceSchema, { mode, name: typeof choice === 'object' ? choice.name : '' }),
    toolFillerDisabled: !settings.toolFiller,
  };
}

export function toolResultEvent(result: pb.ToolResult): ClientEvent {
  return { type: 'tool_result', callId: result.callId, output: result.output, ...(result.isError ? { isError: true } : {}) };
}

type ToolServerEvent = Extract<ServerEvent, { type: 'tool_call' | 'tool_call_cancelled' | 'tool_activity' }>;

export function toolResponseEvent(event: ToolServerEvent): pb.ConverseResponse['event'] {
  switch (event.type) {
    case 'tool_call':
      return { case: 'toolCall', value: create(pb.ToolCallSchema, { responseId: event.responseId, callId: event.callId, name: event.name, argumentsJson: event.arguments }) };
    case 'tool_call_cancelled':
      return {
        case: 'toolCallCancelled',
        value: create(pb.ToolCallCancelledSchema, { responseId: event.responseId, callId: event.callId, reason: CANCEL_TO_PB[event.reason], resultIgnored: event.resultIgnored ?? false }),
      };
    case 'tool_activity':
      return {
        case: 'toolActivity',
        value: create(pb.ToolActivitySchema, {
          responseId: event.responseId,
          callId: event.callId,
          name: event.name,
          server: event.server,
          outcome: event.outcome ? OUTCOME_TO_PB[event.outcome] : pb.ToolOutcome.UNSPECIFIED,
          durationMs: Math.round(event.durationMs ?? 0),
          argumentsJson: event.arguments ?? '',
          output: event.output ?? '',
        }),
      };
  }
}
