// Changes to tasks made while the server cannot be reached are queued (offline-store.ts) instead of
// failing, shown as pending, and sent in order once it answers again, through the same UpdateTask
// with the version the change was made on: the server's per-field merge applies them, and a change
// that collides with one made elsewhere meanwhile is reported (ABORTED), never forced over it.
import { fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, type createClient, type Interceptor, type UnaryRequest } from "@connectrpc/connect";
import { TaskConflictSchema, TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { currentSession } from "../api/auth-client.js";
import { isNetworkFailure } from "./offline-session.js";
import { dropChange, queueChange, queuedChanges, type QueuedChange } from "./offline-store.js";

const QUEUED_METHODS = ["CreateTask", "UpdateTask", "CompleteTask", "ReopenTask", "DeleteTask", "RestoreTask"] as const;
const method = (name: string) => Object.values(TaskService.method).find((m) => m.name === name);

export const OFFLINE_NOTE = "You are offline: the change is kept on this device and will be sent when the server answers again";

/** Thrown to the caller of a change that was queued: it is kept and will be sent, not lost. */
export class QueuedOffline extends Error {
  constructor() {
    super(OFFLINE_NOTE);
    this.name = "QueuedOffline";
  }
}

/** The call's change was queued (Connect hands the interceptor's error back wrapped). */
export function isQueuedOffline(err: unknown): err is Error {
  return err instanceof QueuedOffline || (err instanceof ConnectError && err.cause instanceof QueuedOffline);
}

const listeners = new Set<() => void>();
export function onQueueChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
const changed = () => {
  for (const l of listeners) l();
};

let titleOf: (taskId: string) => string | undefined = () => undefined;
/** How a queued change names its task when the request does not carry the title (complete, delete). */
export function setTitleLookup(lookup: (taskId: string) => string | undefined): void {
  titleOf = lookup;
}

function describe(name: string, message: Record<string, unknown>): { taskId: string; label: string } {
  const task = message.task as { id?: string; title?: string } | undefined;
  const id = (message.id as string | undefined) ?? task?.id ?? "";
  const verb = { CreateTask: "Add", UpdateTask: "Edit", CompleteTask: "Complete", ReopenTask: "Reopen", DeleteTask: "Delete", RestoreTask: "Restore" }[name] ?? name;
  const title = (message.title as string | undefined) || task?.title || titleOf(id);
  return { taskId: id, label: title ? `${verb} “${title}”` : verb };
}

/**
 * The transport's interceptor: a task change that cannot reach the server, or that comes while
 * earlier ones still wait (they go in order), is queued and QueuedOffline thrown.
 */
export const offlineQueue: Interceptor = (next) => async (req) => {
  if (req.stream || req.service.typeName !== TaskService.typeName || !(QUEUED_METHODS as readonly string[]).includes(req.method.name)) return next(req);
  const userId = currentSession()?.user?.id;
  // Without IndexedDB (a browser that refuses it) changes go straight to the server, as before.
  const waiting = userId
    ? await queuedChanges().then(
        (all) => all.some((c) => c.userId === userId),
        () => false,
      )
    : false;
  if (!waiting) {
    try {
      return await next(req);
    } catch (err) {
      if (!userId || !isNetworkFailure(err)) throw err;
      await keep(req, userId).catch(() => Promise.reject(err));
    }
  } else {
    await keep(req, userId!);
  }
  changed();
  void flushSoon();
  throw new QueuedOffline();
};

/** Puts a change in the queue, after those already there. */
function keep(req: UnaryRequest, userId: string): Promise<unknown> {
  const message = req.message as Record<string, unknown>;
  return queueChange({ userId, method: req.method.name, request: toBinary(req.method.input as DescMessage, req.message), ...describe(req.method.name, message), queuedAt: Date.now() });
}

export interface FlushReport {
  /** The change, and why the server refused it (a conflict names the fields). */
  refused: { label: string; reason: string }[];
}

let flushing: Promise<FlushReport> | undefined;
let retry: ReturnType<typeof setTimeout> | undefined;
const reporters = new Set<(report: FlushReport) => void>();
export function onFlushed(reporter: (report: FlushReport) => void): () => void {
  reporters.add(reporter);
  return () => reporters.delete(reporter);
}

/** Sends the signed-in user's queued changes in order; stops at the first that cannot reach the server. */
export function flush(client: ReturnType<typeof createClient<typeof TaskService>>): Promise<FlushReport> {
  flushing ??= (async () => {
    const refused: FlushReport["refused"] = [];
    const userId = currentSession()?.user?.id;
    let sent = 0;
    for (const change of (await queuedChanges()).filter((c) => c.userId === userId)) {
      const m = method(change.method);
      if (!m) {
        await dropChange(change.seq!);
        continue;
      }
      try {
        const call = client[m.localName as keyof typeof client] as (req: unknown) => Promise<unknown>;
        await call(fromBinary(m.input, change.request));
      } catch (err) {
        if (isNetworkFailure(err)) break;
        const e = ConnectError.from(err);
        const conflict = e.code === Code.Aborted ? e.findDetails(TaskConflictSchema)[0] : undefined;
        refused.push({ label: change.label, reason: conflict ? `changed on another device meanwhile (${conflict.conflictingFields.join(", ")}); that version is kept` : e.rawMessage });
      }
      await dropChange(change.seq!);
      sent++;
      changed();
    }
    const report = { refused };
    if (sent > 0) for (const r of reporters) r(report);
    return report;
  })().finally(() => {
    flushing = undefined;
  });
  return flushing;
}

let flusher: (() => Promise<unknown>) | undefined;
/** Sets what sends the queue (the app's client, past this interceptor). */
export function setFlusher(send: () => Promise<unknown>): void {
  flusher = send;
}

/** Tries the queue now and again every 5 s while something waits. */
export async function flushSoon(): Promise<void> {
  clearTimeout(retry);
  if (!flusher) return;
  await flusher();
  const userId = currentSession()?.user?.id;
  if ((await queuedChanges()).some((c) => c.userId === userId)) retry = setTimeout(() => void flushSoon(), 5_000);
}

export type { QueuedChange };
