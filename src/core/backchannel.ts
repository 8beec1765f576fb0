/**
 * Backchannels: what a listener says to show they are listening, not to take the floor ("uh-huh",
 * "yeah", "okay", "mm"). Words heard while the agent speaks interrupt it only when they are more
 * than this (interruption.ts). One list per primary language; a language without a list uses the
 * English one ("okay" and "mm" cross languages). Lists hold phrases; hyphens count as spaces, so
 * "uh-huh" and "uh huh" are the same.
 */
const BACKCHANNELS: Record<string, readonly string[]> = {
  en: [
    'uh-huh', 'mhm', 'mm-hmm', 'mmhmm', 'mm', 'mmm', 'hmm', 'hm', 'uh', 'um', 'ah', 'oh', 'aha', 'ooh', 'wow',
    'yeah', 'yea', 'yep', 'yup', 'yes', 'ok', 'okay', 'k', 'right', 'sure', 'alright', 'all right', 'cool', 'nice', 'great',
    'i see', 'got it', 'gotcha', 'exactly', 'true', 'indeed', 'really', 'totally', 'of course', 'makes sense',
  ],
  de: ['ja', 'jaja', 'jo', 'genau', 'okay', 'ok', 'mhm', 'hm', 'hmm', 'aha', 'ah', 'oh', 'stimmt', 'richtig', 'klar', 'achso', 'ach so', 'alles klar', 'gut'],
  fr: ['oui', 'ouais', "d'accord", 'ok', 'okay', 'mhm', 'hum', 'hmm', 'ah', 'oh', 'voilà', 'exactement', 'bien sûr', "c'est ça", 'effectivement', 'bon'],
  es: ['sí', 'si', 'ajá', 'aha', 'vale', 'claro', 'ok', 'okay', 'mhm', 'ya', 'bueno', 'exacto', 'ah', 'oh', 'entiendo', 'de acuerdo'],
  it: ['sì', 'si', 'certo', 'ok', 'okay', 'mhm', 'già', 'esatto', 'ah', 'oh', 'va bene', 'capisco', 'giusto'],
  pt: ['sim', 'é', 'ok', 'okay', 'mhm', 'claro', 'certo', 'aham', 'tá', 'ah', 'oh', 'entendi', 'exato'],
  nl: ['ja', 'oké', 'ok', 'okay', 'mhm', 'hm', 'precies', 'klopt', 'ah', 'oh', 'inderdaad', 'juist'],
  hi: ['हाँ', 'हां', 'हम्म', 'अच्छा', 'ठीक', 'ठीक है', 'जी', 'जी हाँ', 'ओके', 'सही', 'ok', 'okay', 'haan', 'accha', 'theek hai'],
  ja: ['はい', 'うん', 'ええ', 'そう', 'そうですね', 'なるほど', 'へえ', 'ふーん'],
  zh: ['嗯', '对', '好', '是', '好的', '对的', '是的', '哦', '啊'],
};

const FALLBACK = 'en';

function normalize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/-/g, ' ')
    .replace(/[^\p{L}\p{M}\p{N}'\s]/gu, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** Phrases of a language as word lists, longest first (greedy matching takes "all right" before "right"). */
const PHRASES = new Map<string, string[][]>(
  Object.entries(BACKCHANNELS).map(([language, list]) => [language, list.map(normalize).sort((a, b) => b.length - a.length)]),
);

export function backchannelPhrases(language: string): string[][] {
  const primary = language.toLowerCase().split(/[-_]/)[0] ?? '';
  return PHRASES.get(primary) ?? PHRASES.get(FALLBACK)!;
}

export interface WordsHeard {
  /** Words in the text. */
  words: number;
  /** Every word belongs to a backchannel phrase (and there is at least one word). */
  onlyBackchannel: boolean;
}

/** What a transcript heard while the agent speaks holds: its words, and whether they are all backchannel. */
export function classifyWords(text: string, language: string): WordsHeard {
  const words = normalize(text);
  const phrases = backchannelPhrases(language);
  let at = 0;
  while (at < words.length) {
    const phrase = phrases.find((p) => p.every((w, i) => isRepeatOf(words[at + i], w)));
    if (!phrase) return { words: words.length, onlyBackchannel: false };
    at += phrase.length;
  }
  return { words: words.length, onlyBackchannel: words.length > 0 };
}

/** "yeah", or "嗯嗯" as "嗯" twice (scripts without spaces repeat inside one token). */
function isRepeatOf(word: string | undefined, unit: string): boolean {
  if (word === undefined) return false;
  if (word === unit) return true;
  return word.length % unit.length === 0 && word.length > unit.length && word === unit.repeat(word.length / unit.length);
}
