// QEMU-style console escapes on the host terminal: Ctrl-A X quits, Ctrl-A H prints
// help, Ctrl-A Ctrl-A sends one Ctrl-A to the guest; other keys pass through.

export const CTRL_A = 0x01;

export type EscapeAction = 'quit' | 'help';

export class ConsoleEscape {
  private pending = false;

  /**
   * Split terminal input into bytes for the guest and console commands. Returns the
   * guest bytes; `onAction` is called for each command in order.
   */
  feed(chunk: Uint8Array, onAction: (a: EscapeAction) => void): Uint8Array {
    const out: number[] = [];
    for (const b of chunk) {
      if (this.pending) {
        this.pending = false;
        if (b === 0x78 || b === 0x58) { onAction('quit'); break; }
        if (b === 0x68 || b === 0x48) { onAction('help'); continue; }
        if (b === CTRL_A) out.push(CTRL_A);
        continue; // an unknown escape is swallowed, as in QEMU
      }
      if (b === CTRL_A) { this.pending = true; continue; }
      out.push(b);
    }
    return Uint8Array.from(out);
  }
}

export const ESCAPE_HELP = '\r\nC-a h    this help\r\nC-a x    quit typevisor\r\nC-a C-a  send C-a to the guest\r\n';
