import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleEscape, type EscapeAction } from '../../src/cli/ConsoleEscape.js';

function run(chunks: string[]): { bytes: string; actions: EscapeAction[] } {
  const e = new ConsoleEscape();
  const actions: EscapeAction[] = [];
  let bytes = '';
  for (const c of chunks) bytes += Buffer.from(e.feed(Buffer.from(c, 'latin1'), (a) => actions.push(a))).toString('latin1');
  return { bytes, actions };
}

test('plain keys pass through', () => {
  assert.deepEqual(run(['ls -l\r']), { bytes: 'ls -l\r', actions: [] });
});

test('Ctrl-A X quits and drops what follows; Ctrl-A H helps', () => {
  assert.deepEqual(run(['ab\x01xcd']), { bytes: 'ab', actions: ['quit'] });
  assert.deepEqual(run(['\x01h', 'z']), { bytes: 'z', actions: ['help'] });
});

test('Ctrl-A Ctrl-A sends one Ctrl-A; the escape may span chunks; unknown escapes are swallowed', () => {
  assert.deepEqual(run(['\x01', '\x01q']), { bytes: '\x01q', actions: [] });
  assert.deepEqual(run(['\x01', 'X']), { bytes: '', actions: ['quit'] });
  assert.deepEqual(run(['\x01zk']), { bytes: 'k', actions: [] });
});
