/**
 * The web client's page: wires the conversation to the captions, the latency chart, the notice
 * bar, the settings and the talk button (click, or hold it or the Space bar in push-to-talk).
 */
import { Conversation, type AgentState, type ConnectionState, type ConversationView } from './conversation.js';
import { loadSettings, saveSettings, type ClientSettings, type TalkMode } from './settings.js';
import { CaptionList } from './ui/captions.js';
import { LatencyChart } from './ui/latency-chart.js';
import { NoticeBar } from './ui/notice-bar.js';
import { SettingsForm } from './ui/settings-form.js';
import { voiceStats, type VoiceStats } from './voice-stats.js';

declare global {
  interface Window {
    __voiceStats: VoiceStats;
  }
}
window.__voiceStats = voiceStats;

function byId<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  idle: 'Not connected',
  starting: 'Opening the microphone…',
  connecting: 'Connecting…',
  live: 'Connected',
  reconnecting: 'Reconnecting…',
  stopped: 'Disconnected',
};

let settings: ClientSettings = loadSettings();
const talk = byId<HTMLButtonElement>('talk');
const talkLabel = byId('talk-label');
const talkHint = byId('talk-hint');
const endButton = byId<HTMLButtonElement>('end');
const agentText = byId('agent-state');
const pill = byId('connection');
const captions = new CaptionList(byId<HTMLOListElement>('captions'), byId('empty'));
const chart = new LatencyChart(byId('latency-chart'), byId<HTMLUListElement>('latency-legend'), byId('v2v-latest'));
const notices = new NoticeBar(byId('notice'), byId('notice-text'), byId<HTMLButtonElement>('notice-action'), byId<HTMLButtonElement>('notice-dismiss'));

let connection: ConnectionState = 'idle';
let agent: AgentState = 'listening';
let talking = false;

const view: ConversationView = {
  connection(state) {
    connection = state;
    pill.dataset.state = state;
    byId('connection-text').textContent = CONNECTION_TEXT[state];
    render();
  },
  agent(state) {
    agent = state;
    render();
  },
  micLevel(peak) {
    // A loudness ring around the button; CSSOM writes are allowed by the page's style policy.
    talk.style.setProperty('--level', Math.min(1, Math.sqrt(peak) * 1.4).toFixed(3));
  },
  userCaption: (turnId, text, final) => captions.user(turnId, text, final),
  agentCaption: (responseId, text, status) => captions.agent(responseId, text, status),
  toolCaption: (callId, name, server, outcome, durationMs) => captions.tool(callId, name, server, outcome, durationMs),
  turnMetrics: (metrics) => chart.add(metrics),
  notice: (notice) => notices.show(notice),
};
const conversation = new Conversation(settings, view);

function render(): void {
  const live = connection === 'live';
  const ptt = settings.mode === 'push-to-talk';
  const idle = connection === 'idle' || connection === 'stopped';
  endButton.hidden = idle;
  talk.dataset.state = idle ? 'idle' : !live ? 'waiting' : talking ? 'talking' : conversation.isMuted ? 'muted' : agent;
  talk.dataset.mode = settings.mode;
  talk.setAttribute('aria-pressed', String(live && (ptt ? talking : conversation.isMuted)));
  if (idle) {
    talkLabel.textContent = 'Start';
    talk.setAttribute('aria-label', 'Start the conversation');
  } else if (!live) {
    talkLabel.textContent = 'Wait…';
    talk.setAttribute('aria-label', CONNECTION_TEXT[connection]);
  } else if (ptt) {
    talkLabel.textContent = talking ? 'Release to send' : 'Hold to talk';
    talk.setAttribute('aria-label', 'Hold to talk');
  } else {
    talkLabel.textContent = conversation.isMuted ? 'Unmute' : 'Mute';
    talk.setAttribute('aria-label', conversation.isMuted ? 'Unmute the microphone' : 'Mute the microphone');
  }
  talkHint.textContent = ptt ? 'Hold the button or the Space bar while you talk; release to send.' : idle ? 'Press Start, then just talk.' : 'Just talk. Speak over the agent to interrupt it.';
  agentText.textContent = live ? agentSentence(ptt) : CONNECTION_TEXT[connection] === 'Not connected' ? 'Ready when you are' : CONNECTION_TEXT[connection];
  agentText.dataset.state = live ? agent : connection;
}

function agentSentence(ptt: boolean): string {
  if (conversation.isMuted && !ptt) return 'Microphone muted';
  switch (agent) {
    case 'listening':
      return ptt ? (talking ? 'Listening…' : 'Hold to talk') : 'Listening…';
    case 'user_speaking':
      return 'Hearing you…';
    case 'thinking':
      return 'Thinking…';
    case 'speaking':
      return ptt ? 'Speaking · hold to interrupt' : 'Speaking · talk to interrupt';
  }
}

function setTalking(on: boolean): void {
  if (settings.mode !== 'push-to-talk' || talking === on) return;
  talking = on;
  conversation.setTalking(on);
  render();
}

// The talk button: Start when idle; in hands-free it mutes; in push-to-talk it is held.
talk.addEventListener('click', () => {
  if (connection === 'idle' || connection === 'stopped') {
    if (settings.mode === 'hands-free') void conversation.start();
    else if (!talking) void conversation.start();
    return;
  }
  if (settings.mode === 'hands-free' && connection === 'live') {
    conversation.toggleMute();
    render();
  }
});
talk.addEventListener('pointerdown', (event) => {
  if (settings.mode !== 'push-to-talk' || connection === 'idle' || connection === 'stopped') return;
  talk.setPointerCapture(event.pointerId);
  setTalking(true);
});
for (const type of ['pointerup', 'pointercancel', 'lostpointercapture'] as const) talk.addEventListener(type, () => setTalking(false));

// Space is push-to-talk anywhere on the page, except while typing in a field.
const typing = (target: EventTarget | null) => target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
document.addEventListener('keydown', (event) => {
  if (event.code !== 'Space' || settings.mode !== 'push-to-talk' || typing(event.target)) return;
  if (event.target !== talk && event.target instanceof HTMLButtonElement) return; // Space presses other buttons
  event.preventDefault();
  if (event.repeat) return;
  if (connection === 'idle' || connection === 'stopped') void conversation.start();
  setTalking(true);
});
document.addEventListener('keyup', (event) => {
  if (event.code !== 'Space' || !talking) return;
  event.preventDefault();
  setTalking(false);
});
window.addEventListener('blur', () => setTalking(false)); // a key released elsewhere never comes back

endButton.addEventListener('click', () => {
  talking = false;
  conversation.stop();
});

for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
  radio.checked = radio.value === settings.mode;
  radio.addEventListener('change', () => {
    if (!radio.checked) return;
    talking = false;
    settings = { ...settings, mode: radio.value as TalkMode };
    saveSettings(settings);
    conversation.setMode(settings.mode);
    render();
  });
}

const form = new SettingsForm(byId<HTMLFormElement>('settings-form'), byId('settings-saved'), (saved) => {
  settings = { ...saved, mode: settings.mode };
  saveSettings(settings);
  conversation.applySettings(settings);
});
form.fill(settings);
render();
