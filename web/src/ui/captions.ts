/**
 * The live captions: one bubble per user turn (partial text in grey until it is final), one per
 * reply (its text revealed as its audio plays, marked when it was interrupted or failed), and a
 * line for each tool the agent used (running, then how it ended and how long it took).
 */
import type { ReplyStatus } from '../conversation.js';

const STATUS_TAGS: Partial<Record<ReplyStatus, string>> = { interrupted: 'interrupted', failed: 'failed' };

export class CaptionList {
  private readonly bubbles = new Map<string, { item: HTMLLIElement; text: HTMLParagraphElement; tag: HTMLSpanElement }>();

  constructor(
    private readonly list: HTMLOListElement,
    private readonly empty: HTMLElement,
  ) {}

  user(turnId: string, text: string, final: boolean): void {
    const bubble = this.bubble(`user:${turnId}`, 'user', 'You');
    bubble.text.textContent = text;
    bubble.item.dataset.final = String(final);
    this.scroll();
  }

  agent(responseId: string, text: string, status: ReplyStatus): void {
    const bubble = this.bubble(`agent:${responseId}`, 'agent', 'Agent');
    bubble.text.textContent = text;
    bubble.item.dataset.status = status;
    const tag = STATUS_TAGS[status] ?? '';
    bubble.tag.textContent = tag;
    bubble.tag.hidden = !tag;
    this.scroll();
  }

  /** A tool call: `outcome` undefined while it runs. */
  tool(callId: string, name: string, server: string, outcome: string | undefined, durationMs: number): void {
    const bubble = this.bubble(`tool:${callId}`, 'tool', server ? `Tool · ${server}` : 'Tool');
    bubble.text.textContent = outcome === undefined ? `${name}…` : `${name}: ${outcome.replace('_', ' ')}, ${(durationMs / 1000).toFixed(1)} s`;
    bubble.item.dataset.status = outcome ?? 'running';
    this.scroll();
  }

  private bubble(key: string, who: 'user' | 'agent' | 'tool', label: string) {
    const existing = this.bubbles.get(key);
    if (existing) return existing;
    const item = document.createElement('li');
    item.className = `bubble ${who}`;
    const name = document.createElement('span');
    name.className = 'who';
    name.textContent = label;
    const text = document.createElement('p');
    text.className = 'text';
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.hidden = true;
    item.append(name, text, tag);
    this.list.append(item);
    this.empty.hidden = true;
    const made = { item, text, tag };
    this.bubbles.set(key, made);
    return made;
  }

  /** Follows the newest caption unless the reader scrolled up to read older ones. */
  private scroll(): void {
    const list = this.list;
    if (list.scrollHeight - list.scrollTop - list.clientHeight < 120) list.scrollTop = list.scrollHeight;
  }
}
