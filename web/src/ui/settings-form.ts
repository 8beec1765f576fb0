/** The settings panel: shows the saved settings and hands back what the person saved. */
import type { ClientSettings } from '../settings.js';

export class SettingsForm {
  constructor(
    private readonly form: HTMLFormElement,
    private readonly saved: HTMLElement,
    onSave: (settings: Omit<ClientSettings, 'mode'>) => void,
  ) {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      onSave(this.read());
      this.saved.textContent = 'Saved. Voice, language and prompt apply now; audio processing when you next press Start.';
    });
  }

  fill(settings: ClientSettings): void {
    this.input('voice').value = settings.voice;
    this.input('language').value = settings.language;
    this.field<HTMLTextAreaElement>('instructions').value = settings.instructions;
    this.input('accessKey').value = settings.accessKey;
    this.input('audioProcessing').checked = settings.audioProcessing;
  }

  private read(): Omit<ClientSettings, 'mode'> {
    return {
      voice: this.input('voice').value.trim(),
      language: this.input('language').value.trim(),
      instructions: this.field<HTMLTextAreaElement>('instructions').value.trim(),
      accessKey: this.input('accessKey').value.trim(),
      audioProcessing: this.input('audioProcessing').checked,
    };
  }

  private input(name: string): HTMLInputElement {
    return this.field<HTMLInputElement>(name);
  }

  private field<T extends HTMLElement>(name: string): T {
    const found = this.form.elements.namedItem(name);
    if (!found) throw new Error(`the settings form has no field "${name}"`);
    return found as T;
  }
}
