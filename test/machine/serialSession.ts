// Drive a guest's serial console from a test: wait for text, send lines. Used with the
// Machine API (in process) and with the typevisor command (a child process).

import type { Machine } from '../../src/machine/Machine.js';

export class SerialSession {
  private text = '';
  private waiters: { re: RegExp; from: number; resolve: (m: RegExpMatchArray) => void }[] = [];
  /** Offset from which the next waitFor searches (so answers are matched after their command). */
  private mark = 0;

  /** Feed console output in. */
  push(bytes: Uint8Array | string): void {
    this.text += typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('latin1');
    for (const w of [...this.waiters]) {
      const m = this.text.slice(w.from).match(w.re);
      if (m) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        this.mark = w.from + (m.index ?? 0) + m[0].length;
        w.resolve(m);
      }
    }
  }

  get output(): string { return this.text; }

  /** Resolve when `re` appears after the last match; reject after `ms` with the tail of the output. */
  waitFor(re: RegExp, ms: number): Promise<RegExpMatchArray> {
    const from = this.mark;
    const m = this.text.slice(from).match(re);
    if (m) {
      this.mark = from + (m.index ?? 0) + m[0].length;
      return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const w = { re, from, resolve: (x: RegExpMatchArray) => { clearTimeout(t); resolve(x); } };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timed out after ${ms} ms waiting for ${re}; output tail:\n${this.text.slice(-1500)}`));
      }, ms);
      this.waiters.push(w);
    });
  }
}

/** The default guest's shell prompt. */
export const PROMPT = /typevisor:\/# /;

/** An in-process Machine's serial console as a SerialSession, open for input, and a way to type into it. */
export function attachSerial(m: Machine): { serial: SerialSession; send: (text: string) => void } {
  const serial = new SerialSession();
  m.onSerialOutput = (b) => serial.push(b);
  m.externalInputOpen = true;
  return { serial, send: (text) => m.serialInput(Buffer.from(text)) };
}
