// Snapshots kept in the browser, so they survive a page reload: one slot in IndexedDB
// holding the state file's and the memory file's bytes (the CLI's format, src/snapshot/).
// The memory image is stored in 4 MiB pieces under their own keys, all-zero pieces left
// out: Chromium refuses a single value over 127 MiB, and most of a guest's RAM is zeros.

export interface StoredSnapshot {
  state: Uint8Array;
  memory: Uint8Array;
  savedAt: number;
}

interface Manifest {
  state: Uint8Array;
  memoryBytes: number;
  /** Per piece: whether it was stored (false: all zeros). */
  pieces: boolean[];
  savedAt: number;
}

const DB = 'typevisor';
const STORE = 'snapshots';
const KEY = 'latest';
const PIECE = 4 << 20;

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB cannot be opened'));
  });
}

/** Run `work` in one transaction; resolves with what it returns once the transaction completes. */
async function transaction<T>(mode: IDBTransactionMode, work: (s: IDBObjectStore) => () => T): Promise<T> {
  const db = await open();
  return new Promise<T>((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const result = work(tx.objectStore(STORE));
    tx.oncomplete = () => { db.close(); resolve(result()); };
    tx.onerror = () => { db.close(); reject(tx.error ?? new Error('IndexedDB transaction failed')); };
    tx.onabort = () => { db.close(); reject(tx.error ?? new Error('IndexedDB transaction aborted')); };
  });
}

function allZero(b: Uint8Array): boolean {
  const w = new Int32Array(b.buffer, b.byteOffset, b.length >>> 2);
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
  return true;
}

export function saveSnapshot(s: StoredSnapshot): Promise<void> {
  return transaction('readwrite', (st) => {
    st.clear();
    const pieces: boolean[] = [];
    for (let off = 0, i = 0; off < s.memory.length; off += PIECE, i++) {
      const piece = s.memory.subarray(off, off + PIECE);
      const data = !allZero(piece);
      pieces.push(data);
      if (data) st.put(piece.slice(), `${KEY}/memory/${i}`);
    }
    st.put({ state: s.state, memoryBytes: s.memory.length, pieces, savedAt: s.savedAt } satisfies Manifest, KEY);
    return () => undefined;
  });
}

/** The saved snapshot, or undefined when there is none. */
export async function loadSnapshot(): Promise<StoredSnapshot | undefined> {
  const manifest = await transaction('readonly', (st) => {
    const r = st.get(KEY);
    return () => r.result as Manifest | undefined;
  });
  if (manifest === undefined) return undefined;
  const memory = new Uint8Array(manifest.memoryBytes);
  await transaction('readonly', (st) => {
    manifest.pieces.forEach((data, i) => {
      if (!data) return;
      const r = st.get(`${KEY}/memory/${i}`);
      r.onsuccess = () => {
        if (!(r.result instanceof Uint8Array)) throw new Error(`the stored snapshot lacks memory piece ${i}`);
        memory.set(r.result, i * PIECE);
      };
    });
    return () => undefined;
  });
  return { state: manifest.state, memory, savedAt: manifest.savedAt };
}
