// The changes made while the server cannot be reached, kept in IndexedDB (they survive a reload or
// a closed tab) in the order they were made.
const DB = "taskmesh-offline";
const STORE = "outbox";

export interface QueuedChange {
  /** Assigned by IndexedDB, increasing: the order the changes were made in. */
  seq?: number;
  userId: string;
  /** TaskService method name: CreateTask, UpdateTask, CompleteTask, ReopenTask, DeleteTask, RestoreTask. */
  method: string;
  /** The request, protobuf binary. */
  request: Uint8Array;
  /** The task it changes (empty for a create) and how the list names it. */
  taskId: string;
  label: string;
  queuedAt: number;
}

let opened: Promise<IDBDatabase> | undefined;

function open(): Promise<IDBDatabase> {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}

async function run<T>(mode: IDBTransactionMode, body: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const request = body(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(request.result);
    tx.onerror = () => reject(tx.error);
  });
}

export const queueChange = (change: QueuedChange) => run("readwrite", (s) => s.add(change));
/** Every queued change, oldest first. */
export const queuedChanges = () => run<QueuedChange[]>("readonly", (s) => s.getAll());
export const dropChange = (seq: number) => run("readwrite", (s) => s.delete(seq));
