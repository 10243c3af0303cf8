// Snapshots kept in the browser: one slot in IndexedDB holding the state file's and the
// memory file's bytes (the CLI's format, src/snapshot/), so it survives a page reload.

export interface StoredSnapshot {
  state: Uint8Array;
  memory: Uint8Array;
  savedAt: number;
}

const DB = 'typevisor';
const STORE = 'snapshots';
const KEY = 'latest';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB cannot be opened'));
  });
}

function request<T>(mode: IDBTransactionMode, run: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  return open().then((db) => new Promise<T>((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const r = run(tx.objectStore(STORE));
    tx.oncomplete = () => { db.close(); resolve(r.result as T); };
    tx.onerror = () => { db.close(); reject(tx.error ?? new Error('IndexedDB transaction failed')); };
  }));
}

export function saveSnapshot(s: StoredSnapshot): Promise<void> {
  return request<unknown>('readwrite', (st) => st.put(s, KEY)).then(() => undefined);
}

/** The saved snapshot, or undefined when there is none. */
export function loadSnapshot(): Promise<StoredSnapshot | undefined> {
  return request<StoredSnapshot | undefined>('readonly', (st) => st.get(KEY));
}
