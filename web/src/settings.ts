/** What the person chooses for their sessions, kept in the browser between visits. */

export type TalkMode = 'hands-free' | 'push-to-talk';

export interface ClientSettings {
  /** TTS voice; empty lets the gateway choose for the language. */
  voice: string;
  /** BCP-47 language; empty takes the gateway's default. */
  language: string;
  /** System prompt; empty keeps the gateway's. */
  instructions: string;
  mode: TalkMode;
  /** Echo cancellation, noise suppression, auto gain. */
  audioProcessing: boolean;
  /** API key or token, when the gateway asks for one. */
  accessKey: string;
}

export const DEFAULT_SETTINGS: ClientSettings = { voice: '', language: '', instructions: '', mode: 'hands-free', audioProcessing: true, accessKey: '' };

const STORAGE_KEY = 'voice-gateway.settings';
/** The key lives only as long as the tab (sessionStorage), never in long-term storage. */
const KEY_STORAGE_KEY = 'voice-gateway.access-key';

export function loadSettings(): ClientSettings {
  let saved: Partial<ClientSettings> = {};
  try {
    saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as Partial<ClientSettings>;
  } catch {
    // unreadable or blocked storage: defaults
  }
  const mode: TalkMode = saved.mode === 'push-to-talk' ? 'push-to-talk' : 'hands-free';
  return {
    voice: typeof saved.voice === 'string' ? saved.voice : '',
    language: typeof saved.language === 'string' ? saved.language : '',
    instructions: typeof saved.instructions === 'string' ? saved.instructions : '',
    mode,
    audioProcessing: saved.audioProcessing !== false,
    accessKey: safely(() => sessionStorage.getItem(KEY_STORAGE_KEY)) ?? '',
  };
}

export function saveSettings(settings: ClientSettings): void {
  const { accessKey, ...kept } = settings;
  safely(() => localStorage.setItem(STORAGE_KEY, JSON.stringify(kept)));
  safely(() => (accessKey ? sessionStorage.setItem(KEY_STORAGE_KEY, accessKey) : sessionStorage.removeItem(KEY_STORAGE_KEY)));
}

function safely<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
