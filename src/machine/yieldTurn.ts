// One turn of the host's event loop, for the run loop to let timers, I/O and messages in.
// Node has setImmediate; a browser Worker does not, and its setTimeout(0) is clamped to
// 4 ms once nested, so there a MessageChannel posts to itself (a task with no clamp).

let nextTurn: (resume: () => void) => void;
if (typeof setImmediate === 'function') {
  nextTurn = (resume) => setImmediate(resume);
} else {
  const channel = new MessageChannel();
  const waiting: (() => void)[] = [];
  (channel.port1 as unknown as { onmessage: () => void }).onmessage = () => waiting.shift()?.();
  nextTurn = (resume) => { waiting.push(resume); channel.port2.postMessage(null); };
}

export function yieldTurn(): Promise<void> {
  return new Promise<void>((resume) => nextTurn(resume));
}
