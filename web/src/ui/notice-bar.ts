/** The message bar: errors, lost connections and what to do about them, with one action button. */
import type { Notice } from '../conversation.js';

export class NoticeBar {
  private action: (() => void) | undefined;

  constructor(
    private readonly root: HTMLElement,
    private readonly text: HTMLElement,
    private readonly button: HTMLButtonElement,
    dismiss: HTMLButtonElement,
  ) {
    button.addEventListener('click', () => this.action?.());
    dismiss.addEventListener('click', () => this.show(null));
  }

  show(notice: Notice | null): void {
    this.root.hidden = notice === null;
    if (!notice) return;
    this.root.dataset.level = notice.level;
    this.text.textContent = notice.message;
    this.action = notice.action?.run;
    this.button.hidden = !notice.action;
    this.button.textContent = notice.action?.label ?? '';
  }
}
