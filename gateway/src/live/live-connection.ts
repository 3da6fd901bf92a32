import { create, toJsonString, type MessageInitShape } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { ReminderEvent, TaskUpdate } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { CloseCode, ServerFrameSchema } from "@taskmesh/proto/taskmesh/live/v1/live_pb.js";
import type { WatchTasksResponse } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import type { WebSocket } from "ws";

/** A frame as sockets are sent it: the proto3 JSON of a taskmesh.live.v1.ServerFrame. */
export function serverFrame(frame: MessageInitShape<typeof ServerFrameSchema>["frame"]): string {
  return toJsonString(ServerFrameSchema, create(ServerFrameSchema, { frame }));
}

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
  #beforeReady: string[] | undefined = [];
  alive = true;

  constructor(
    readonly userId: string,
    private readonly socket: WebSocket,
    /** The cursor the user sees for a feed position (positions stay internal). */
    private readonly seal: (position: string) => string,
    /** How often the socket is pinged once ready, told to the device in ready. */
    private readonly pingIntervalMs: number,
  ) {}

  /** Past hello and catch-up: pinged from now on. */
  get started(): boolean {
    return this.#beforeReady === undefined;
  }

  /** The first frame: the position the server resumes from. */
  ready(position: string): void {
    const early = this.#beforeReady ?? [];
    this.#beforeReady = undefined;
    this.send(serverFrame({ case: "ready", value: { cursor: this.seal(position), pingInterval: durationFromMs(this.pingIntervalMs) } }));
    for (const frame of early) this.send(frame);
  }

  /** `frame`: its JSON text (see serverFrame). */
  send(frame: string): void {
    if (this.#beforeReady) {
      this.#beforeReady.push(frame);
      return;
    }
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.socket.close(CloseCode.SLOW_CONSUMER, "not reading fast enough: reconnect with your cursor");
      return;
    }
    this.socket.send(frame);
  }

  close(code: CloseCode, reason: string): void {
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
        this.#advance(cursor, () => serverFrame({ case: "task", value: { cursor: this.seal(cursor), task: change.value } }));
        break;
      case "deletedTaskId":
        this.#advance(cursor, () => serverFrame({ case: "deleted", value: { cursor: this.seal(cursor), taskId: change.value } }));
        break;
      case "resyncRequired":
        this.#lastCursor = BigInt(cursor);
        this.send(serverFrame({ case: "refetch", value: { cursor: this.seal(cursor) } }));
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

  #advance(cursor: string, frame: () => string): void {
    const position = BigInt(cursor);
    if (position <= this.#lastCursor) return;
    this.#lastCursor = position;
    this.send(frame());
  }
}

/** The frame of a live change with its sealed cursor (built once per change, whatever the number of sockets). */
export function liveFrame(update: TaskUpdate, cursor: string): string {
  const { change } = update;
  if (change.case === "upserted") return serverFrame({ case: "task", value: { cursor, task: change.value } });
  return serverFrame({ case: "deleted", value: { cursor, taskId: change.value ?? "" } });
}

const INBOX_CHANGED = serverFrame({ case: "inbox", value: {} });

/** The frame a reminder event makes for the devices of whoever it reminds, if any. */
export function reminderFrame(event: ReminderEvent): string | undefined {
  switch (event.event.case) {
    case "fired": {
      const { taskTitle, scheduledFor, firedAt } = event.event.value;
      return serverFrame({ case: "reminder", value: { taskId: event.taskId, reminderId: event.reminderId, title: taskTitle, scheduledFor, firedAt } });
    }
    // Snoozing, dismissing (a cancel) and reading mark the notification read on every device.
    case "snoozed":
    case "cancelled":
    case "read":
      return INBOX_CHANGED;
    default:
      return undefined;
  }
}
