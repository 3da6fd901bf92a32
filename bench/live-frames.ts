// The frames of the gateway's /live socket (taskmesh.live.v1), as the benchmarks' devices send and read them.
import { create, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { ClientFrameSchema, ServerFrameSchema, type ServerFrame } from "@taskmesh/proto/taskmesh/live/v1/live_pb.js";
import { WebSocket } from "ws";

export type Frame = ServerFrame["frame"];

export const hello = (token: string, cursor = ""): string => toJsonString(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "hello", value: { token, cursor } } }));

export const PONG = toJsonString(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "pong", value: {} } }));

export const readFrame = (text: string): Frame => fromJsonString(ServerFrameSchema, text).frame;

/** Where a device resumes after this frame; undefined for frames that do not move it (reminder, ping, pong). */
export function cursorOf(frame: Frame): string | undefined {
  switch (frame.case) {
    case "ready":
    case "task":
    case "deleted":
    case "refetch":
      return frame.value.cursor;
    default:
      return undefined;
  }
}

/**
 * A device on the live feed at `url` (ws://…/live): records the tasks and fired reminders it is told
 * of, and resumes from its last cursor `retryMs` after any drop, as the web app does.
 */
export class LiveDevice {
  readonly seen = new Set<string>();
  readonly reminders = new Set<string>();
  connects = 0;
  cursor = "";
  #ws: WebSocket | undefined;
  #stopped = false;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly retryMs: number,
  ) {}

  /** Connects, and keeps reconnecting until stopped; resolves once the first connection is ready. */
  start(): Promise<void> {
    return new Promise((resolve) => this.#connect(resolve));
  }

  #connect(ready: () => void): void {
    this.connects++;
    const ws = new WebSocket(this.url);
    this.#ws = ws;
    ws.on("open", () => ws.send(hello(this.token, this.cursor)));
    ws.on("message", (data) => {
      const frame = readFrame(data.toString());
      if (frame.case === "ready") ready();
      if (frame.case === "ping") ws.send(PONG);
      if (frame.case === "task" && frame.value.task) this.seen.add(frame.value.task.id);
      if (frame.case === "reminder") this.reminders.add(frame.value.taskId);
      this.cursor = cursorOf(frame) ?? this.cursor;
    });
    // A failed connection attempt (a replica or pod going away) closes too: the close handler retries.
    ws.on("error", () => {});
    ws.on("close", () => {
      if (!this.#stopped) setTimeout(() => this.#connect(ready), this.retryMs);
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#ws?.close();
  }
}
