/**
 * Cuts an LLM token stream into pieces a TTS engine can speak, as early as prosody allows: the
 * first piece at a clause boundary (time to first audio is what the caller hears), later pieces at
 * sentence ends. Three streaming stages, each holding back only what the next characters could
 * still change, so the pieces do not depend on how the stream was chunked into tokens:
 * 1. reasoning between <think> and </think> is dropped;
 * 2. markdown syntax is removed (headings, bullets, emphasis, code, links), code blocks entirely;
 * 3. the clean text is cut at boundaries, never longer than maxPieceChars.
 */
export interface SpeakableSplitterOptions {
  /** Longest piece, in characters: TTS engines have input limits and long pieces delay audio. */
  maxPieceChars: number;
  /** The first piece may end at a comma, but only with this many characters (line ends always cut). */
  firstPieceMinChars: number;
}

const THINK_OPEN = '<think>';
const THINK_CLOSE = '</think>';
/** Markdown at a line start: heading, bullet, numbered item, quote. */
const LINE_PREFIX = /^[ \t]*(?:#{1,6}[ \t]+|[-*+][ \t]+|\d{1,3}[.)][ \t]+|>[ \t]?)/;
/** A line start that may still become a LINE_PREFIX or a code fence as more characters arrive. */
const MAYBE_PREFIX = /^[ \t]*(?:#{1,6}|[-*+]|\d{1,3}[.)]?|>|`{1,2}|~{1,2})?$/;
const MAYBE_FENCE = /^[ \t]*(?:`{1,2}|~{1,2})?$/;
const FENCE = /^[ \t]*(?:```|~~~)/;
/** An unfinished [text](url) at the end of the line: held until it closes, so no URL is spoken. */
const OPEN_LINK = /^\[[^\]\n]*(?:\](?:\([^)\n]*)?)?$/;
/** Complete links are stepped over, so that a '[' inside a URL cannot start a hold. */
const LINK_OR_BRACKET = /\[[^\]\n]*\]\([^)\n]*\)|\[/g;
/** A '[' that never closes must not hold the rest of a long line back. */
const MAX_LINK_HOLD_CHARS = 500;
const LINK = /\[([^\]\n]*)\]\([^)\n]*\)/g;
/** _ and __ emphasis markers: underscores at a word edge, not inside snake_case or 3_000. */
const UNDERSCORE = /(^|[^\p{L}\p{N}_])_+|_+(?=[^\p{L}\p{N}_]|$)/gu;
/** Sentence ends: . ! ? … only before whitespace (not "3.5", "example.com"); CJK and Devanagari
 * marks before anything else (those scripts need no space after them). Closing quotes stay with
 * their sentence, so the character after them must be seen first. */
const SENTENCE = String.raw`[.!?…]+["'”’)\]]*(?=\s)|[。！？।॥]+["'”’」』)\]]*(?=[^。！？।॥"'”’」』)\]])|\n`;
const SENTENCE_END = new RegExp(SENTENCE, 'g');
const CLAUSE_END = new RegExp(String.raw`[,;:]["'”’)\]]*(?=\s)|[—，、；：]|${SENTENCE}`, 'g');
/** Words whose period is not a sentence end (compared lower-case, without the period). */
const ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'vs', 'approx', 'fig']);

/** Whether the text before a '.' ends with an abbreviation: "Dr", "e.g", "U.S", an initial "J". */
function endsWithAbbreviation(before: string): boolean {
  const word = (/\S+$/.exec(before)?.[0] ?? '').replace(/^[("'“‘[]+/, '');
  return ABBREVIATIONS.has(word.toLowerCase()) || /^(?:\p{L}\.)+\p{L}$/u.test(word) || /^\p{Lu}$/u.test(word);
}

/** Where an unfinished link starts in `line`, or -1. */
function openLinkStart(line: string): number {
  for (const m of line.matchAll(LINK_OR_BRACKET)) if (m[0] === '[' && OPEN_LINK.test(line.slice(m.index))) return m.index;
  return -1;
}

/** How many characters at the end of `text` could be the start of `tag`. */
function partialTagLength(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) if (text.endsWith(tag.slice(0, n))) return n;
  return 0;
}

/** Inline markdown off. `before` is the raw character preceding `raw`, for word edges. */
function cleanInline(raw: string, before: string): string {
  // Only whether `before` is a word character matters; a stand-in keeps it out of the replacements.
  const edge = before === '' ? '' : /[\p{L}\p{N}]/u.test(before) ? 'a' : ' ';
  const unmarked = (edge + raw).replace(UNDERSCORE, '$1').slice(edge.length);
  return unmarked.replace(LINK, '$1').replace(/[*`]+|~{2,}/g, '');
}

/** A piece as spoken: one-line, trimmed; '' when nothing in it can be said (only punctuation). */
function finishPiece(piece: string): string {
  const text = piece.replace(/\s+/g, ' ').trim();
  return /[\p{L}\p{N}]/u.test(text) ? text : '';
}

export class SpeakableSplitter {
  // Stage 1: <think> removal.
  private thinkHeld = '';
  private inThink = false;
  // Stage 2: markdown removal, line by line.
  private line = '';
  private lineStartDecided = false;
  private skipLine = false;
  private inFence = false;
  private lastRawChar = '';
  // Stage 3: clean text not yet cut into pieces.
  private text = '';
  private spokeFirst = false;

  constructor(private readonly options: SpeakableSplitterOptions) {
    if (!(options.maxPieceChars >= 2)) throw new RangeError(`maxPieceChars must be at least 2; got ${options.maxPieceChars}`);
  }

  /** Feeds one token; returns the pieces it completed (often none). */
  push(token: string): string[] {
    this.addMarkdown(this.dropThinking(token, false), false);
    return this.takePieces(false);
  }

  /** End of stream: returns what is left, then the splitter is ready for a new stream. */
  flush(): string[] {
    this.addMarkdown(this.dropThinking('', true), true);
    const pieces = this.takePieces(true);
    Object.assign(this, new SpeakableSplitter(this.options)); // every field back to its initial value
    return pieces;
  }

  private dropThinking(token: string, final: boolean): string {
    this.thinkHeld += token;
    let visible = '';
    for (;;) {
      const tag = this.inThink ? THINK_CLOSE : THINK_OPEN;
      const at = this.thinkHeld.indexOf(tag);
      if (at === -1) break;
      if (!this.inThink) visible += this.thinkHeld.slice(0, at);
      this.thinkHeld = this.thinkHeld.slice(at + tag.length);
      this.inThink = !this.inThink;
    }
    // Keep a possible tag start ("<thi") until the next token shows whether it is one.
    const tags = this.inThink ? [THINK_CLOSE] : [THINK_OPEN, THINK_CLOSE];
    const held = final ? 0 : Math.max(...tags.map((tag) => partialTagLength(this.thinkHeld, tag)));
    if (!this.inThink) visible += this.thinkHeld.slice(0, this.thinkHeld.length - held);
    this.thinkHeld = this.thinkHeld.slice(this.thinkHeld.length - held);
    // A </think> without its <think> (templates that open it in the prompt) is dropped too.
    return visible.replaceAll(THINK_CLOSE, '');
  }

  private addMarkdown(visible: string, final: boolean): void {
    this.line += visible;
    for (let newline = this.line.indexOf('\n'); newline !== -1; newline = this.line.indexOf('\n')) {
      const next = this.line.slice(newline + 1);
      this.line = this.line.slice(0, newline);
      this.cleanLine(true);
      this.text += '\n'; // a line end is a boundary: list items and headings are pieces of their own
      [this.line, this.lineStartDecided, this.skipLine, this.lastRawChar] = [next, false, false, ''];
    }
    this.cleanLine(final);
  }

  /** Moves the cleanable part of the current line to `text`; `complete` when no more will come. */
  private cleanLine(complete: boolean): void {
    if (!this.lineStartDecided) {
      if (!complete && (this.inFence ? MAYBE_FENCE : MAYBE_PREFIX).test(this.line)) return;
      this.lineStartDecided = true;
      if (FENCE.test(this.line)) this.inFence = !this.inFence;
      this.skipLine = this.inFence || FENCE.test(this.line);
      if (!this.skipLine) this.line = this.line.replace(LINE_PREFIX, '');
    }
    if (this.skipLine) {
      this.line = '';
      return;
    }
    let end = this.line.length;
    if (!complete) {
      const link = openLinkStart(this.line);
      if (link !== -1 && end - link <= MAX_LINK_HOLD_CHARS) end = link;
      end = Math.min(end, this.line.search(/[_~]*$/)); // their meaning depends on the next character
    }
    const raw = this.line.slice(0, end);
    this.text += cleanInline(raw, this.lastRawChar);
    this.lastRawChar = raw.at(-1) ?? this.lastRawChar;
    this.line = this.line.slice(end);
  }

  private takePieces(final: boolean): string[] {
    const pieces: string[] = [];
    const max = Math.floor(this.options.maxPieceChars);
    for (;;) {
      this.text = this.text.replace(/^\s+/, '').replace(/[^\S\n]*\n\s*/g, '\n').replace(/[^\S\n]+/g, ' ');
      let end = this.findBoundary();
      // Lengths without trailing whitespace: pieces are trimmed, and a boundary may end in '\n'.
      if (end === -1 && this.text.trimEnd().length <= max) break;
      if (end === -1 || this.text.slice(0, end).trimEnd().length > max) {
        // Too long for one piece: cut at the last space that fits, else mid-word (but not mid-character).
        end = this.text.lastIndexOf(' ', max);
        if (end <= 0) end = /[\uD800-\uDBFF]/.test(this.text[max - 1] ?? '') ? max - 1 : max;
      }
      const piece = finishPiece(this.text.slice(0, end));
      this.text = this.text.slice(end);
      if (piece) pieces.push(piece);
      this.spokeFirst ||= piece !== '';
    }
    const tail = final ? finishPiece(this.text) : '';
    return tail ? [...pieces, tail] : pieces;
  }

  /** End index of the first piece in `text`, or -1 when no boundary is certain yet. */
  private findBoundary(): number {
    const pattern = this.spokeFirst ? SENTENCE_END : CLAUSE_END;
    pattern.lastIndex = 0;
    for (let match = pattern.exec(this.text); match; match = pattern.exec(this.text)) {
      const end = match.index + match[0].length;
      if (/^\.[^.!?…]*$/.test(match[0]) && endsWithAbbreviation(this.text.slice(0, match.index))) continue;
      const longEnough = this.text.slice(0, end).trim().length >= this.options.firstPieceMinChars;
      // A line end (heading, list item, paragraph) is a piece of its own however short.
      if (this.spokeFirst || longEnough || match[0] === '\n') return end;
    }
    return -1;
  }
}
