/**
 * Key presses on a call become words the LLM reads: each press at once ("[pressed 5]"), or the
 * digits up to `#` as one entry ("[entered 1234]") for menus that ask for a number.
 */
export type DtmfMode = 'each' | 'until_hash';

/** The keys of a telephone keypad (RFC 4733 events 0-15). */
const DTMF_DIGIT = /^[0-9*#A-D]$/;

export function isDtmfDigit(digit: string): boolean {
  return DTMF_DIGIT.test(digit);
}

export class DtmfCollector {
  private digits = '';

  /**
   * `send` gets the text for the conversation. `maxDigits`: in until_hash mode, digits beyond
   * this are sent as they are, so a key held down cannot grow the buffer.
   */
  constructor(
    private readonly mode: DtmfMode,
    private readonly maxDigits: number,
    private readonly send: (text: string) => void,
  ) {}

  /** One key; the caller checked it with isDtmfDigit. */
  press(digit: string): void {
    if (this.mode === 'each') return this.send(`[pressed ${digit}]`);
    if (digit === '#') return this.submit();
    this.digits += digit;
    if (this.digits.length >= this.maxDigits) this.submit();
  }

  private submit(): void {
    const digits = this.digits;
    this.digits = '';
    this.send(digits ? `[entered ${digits}]` : '[pressed #]');
  }
}
