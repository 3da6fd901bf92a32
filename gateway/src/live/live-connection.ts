import { toJson } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ReminderEvent, TaskUpdate } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { TaskSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import type { WatchTasksResponse } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import type { WebSocket } from "ws";

/** WebSocket close codes of the live protocol (4000-4999 are the application's). */
export const CLOSE = { malformedHello: 4400, unauthenticated: 4401, slowConsumer: 4408, goingAway: 1001 } as const;

/** The frames the server sends (JSON text). */
export type ServerFrame =
  | { type: "ready"; cursor: string }
  | { type: "task"; cursor: string; task: unknown }
  | { type: "deleted"; cursor: string; taskId: string }
  | { type: "refetch"; cursor: string }
  | { type: "reminder"; taskId: string; reminderId: string; title: string; scheduledFor: string; firedAt: string }
  | { type: "ping" }
  | { type: "pong" };

// A socket whose peer stops reading is dropped rather than buffering without bound; the device
// reconnects with its cursor and catches up from the feed.
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * One authenticated socket of one user. Changes come from two places that overlap: the catch-up
 * read of the feed and the live topic. Every change carries its feed position (cursor), which only
 * grows for a user, so a change at or below the last one sent is a duplicate and is skipped.
 */
export class LiveConnection {
  #lastCursor = 0n;
  /** Live changes that arrived during catch-up, sent (deduplicated) once it ends. */
  #pending: TaskUpdate[] | undefined = [];
  /** Frames to send after `ready`, which is always the first frame. */
  #beforeReady: (ServerFrame | string)[] | undefined = [];
  alive = true;

  constructor(
    readonly userId: string,
    private readonly socket: WebSocket,
    /** The cursor the user sees for a feed position (positions stay internal). */
    private readonly seal: (position: string) => string,
  ) {}

  /** Past hello and catch-up: pinged from now on. */
  get started(): boolean {
    return this.#beforeReady === undefined;
  }

  /** The first frame: the position the server resumes from. */
  ready(position: string): void {
    const early = this.#beforeReady ?? [];
    this.#beforeReady = undefined;
    this.send({ type: "ready", cursor: this.seal(position) });
    for (const frame of early) this.send(frame);
  }

  send(frame: ServerFrame | string): void {
    if (this.#beforeReady) {
      // A ping before ready is pointless (the hello just arrived); anything else waits for ready.
      if (typeof frame === "string" || frame.type !== "ping") this.#beforeReady.push(frame);
      return;
    }
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.socket.close(CLOSE.slowConsumer, "not reading fast enough: reconnect with your cursor");
      return;
    }
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  /** For a peer that stopped answering: no closing handshake to wait for. */
  drop(): void {
    this.socket.terminate();
  }

  /** A message of the catch-up read (WatchTasks from the client's cursor). */
  catchUp(message: WatchTasksResponse): void {
    const { change, cursor } = message;
    switch (change.case) {
      case "upserted":
        this.#advance(cursor, () => ({ type: "task", cursor: this.seal(cursor), task: toJson(TaskSchema, change.value) }));
        break;
      case "deletedTaskId":
        this.#advance(cursor, () => ({ type: "deleted", cursor: this.seal(cursor), taskId: change.value }));
        break;
      case "resyncRequired":
        this.#lastCursor = BigInt(cursor);
        this.send({ type: "refetch", cursor: this.seal(cursor) });
        break;
      case "caughtUp":
        if (BigInt(cursor) > this.#lastCursor) this.#lastCursor = BigInt(cursor);
        break;
    }
  }

  /** Catch-up is over: flush what the topic delivered meanwhile, then go live. */
  goLive(): void {
    const pending = this.#pending ?? [];
    this.#pending = undefined;
    for (const update of pending) this.offer(update, liveFrame(update, this.seal(update.cursor)));
  }

  /** A change from the task-updates topic; `frame` is its JSON, shared by all the user's sockets. */
  offer(update: TaskUpdate, frame: string): void {
    if (this.#pending) {
      this.#pending.push(update);
      return;
    }
    this.#advance(update.cursor, () => frame);
  }

  #advance(cursor: string, frame: () => ServerFrame | string): void {
    const position = BigInt(cursor);
    if (position <= this.#lastCursor) return;
    this.#lastCursor = position;
    this.send(frame());
  }
}

/** The JSON frame of a live change with its sealed cursor (built once per change, whatever the number of sockets). */
export function liveFrame(update: TaskUpdate, cursor: string): string {
  const { change } = update;
  if (change.case === "upserted") return JSON.stringify({ type: "task", cursor, task: toJson(TaskSchema, change.value) });
  return JSON.stringify({ type: "deleted", cursor, taskId: change.value ?? "" });
}

export function reminderFrame(event: ReminderEvent): string | undefined {
  if (event.event.case !== "fired") return undefined;
  const fired = event.event.value;
  const frame: ServerFrame = {
    type: "reminder",
    taskId: event.taskId,
    reminderId: event.reminderId,
    title: fired.taskTitle,
    scheduledFor: fired.scheduledFor ? timestampDate(fired.scheduledFor).toISOString() : "",
    firedAt: fired.firedAt ? timestampDate(fired.firedAt).toISOString() : "",
  };
  return JSON.stringify(frame);
}
