// Live sync over the gateway's /live WebSocket. Framework-free so it can be tested in Node against a
// real server. Resumes from the last cursor after any drop, so a device that reconnects receives
// exactly what it missed (or a refetch when the gap is too old).
import { create, fromJsonString, toJsonString, type MessageInitShape } from "@bufbuild/protobuf";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { ClientFrameSchema, CloseCode, ServerFrameSchema, type FiredReminder, type ServerFrame } from "@taskmesh/proto/taskmesh/live/v1/live_pb.js";
import type { Task } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";

export type LiveStatus = "connecting" | "live" | "offline";

export interface LiveHandlers {
  task(task: Task): void;
  deleted(taskId: string): void;
  /** The server could not replay the gap, or this is a fresh connection: reload the lists. */
  refetch(): void;
  reminder(reminder: FiredReminder): void;
  /** The notification inbox changed on some device, or may have while this one was not connected: list it again. */
  inbox(): void;
  status(status: LiveStatus): void;
}

export interface LiveOptions {
  url: string;
  /** The current access token, if any. */
  token(): string | undefined;
  /** Renews the access token after a 4401 close; false when the user must sign in again. */
  renew(): Promise<boolean>;
  handlers: LiveHandlers;
  WebSocket?: typeof WebSocket;
  /** Reconnect delays grow from minDelayMs to maxDelayMs (with jitter). */
  minDelayMs?: number;
  maxDelayMs?: number;
}

/** The proto3 JSON of a taskmesh.live.v1.ClientFrame, as the gateway reads it. */
function clientFrame(frame: MessageInitShape<typeof ClientFrameSchema>["frame"]): string {
  return toJsonString(ClientFrameSchema, create(ClientFrameSchema, { frame }));
}

/** A frame from the gateway; undefined for a message that is not one. */
export function parseServerFrame(text: string): ServerFrame | undefined {
  try {
    // The gateway may be newer than this page: fields and frame kinds it does not know are skipped.
    return fromJsonString(ServerFrameSchema, text, { ignoreUnknownFields: true });
  } catch {
    return undefined;
  }
}

/** What the gateway pings at when its ready does not say (an older gateway). */
const DEFAULT_PING_INTERVAL_MS = 25_000;

export class LiveConnection {
  private socket: WebSocket | undefined;
  /** Set by ready: until then (hello, catch-up) silence is not a sign of a dead connection. */
  private pingIntervalMs: number | undefined;
  private cursor: string | undefined;
  private attempt = 0;
  /** Whether a connection was ready before: the inbox's changes since are not replayed. */
  private wasReady = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Fires when the gateway has been silent too long (see Ready.ping_interval). */
  private silence: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private readonly Socket: typeof WebSocket;

  constructor(private readonly options: LiveOptions) {
    this.Socket = options.WebSocket ?? WebSocket;
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.silence);
    this.socket?.close(1000);
    this.socket = undefined;
  }

  /**
   * The device lost its network (the browser's `offline`): the socket is given up now rather than
   * when TCP notices, and the next attempt waits as after any drop.
   */
  networkLost(): void {
    if (this.socket) this.drop(this.socket);
  }

  /**
   * Connect now, not after the backoff, unless connected: the device has a network again (the
   * browser's `online`), or a token now (a session renewed after a start without one).
   */
  reconnectNow(): void {
    if (this.stopped || this.socket) return;
    clearTimeout(this.timer);
    this.attempt = 0;
    this.connect();
  }

  /** Drop the connection and start over without a cursor (another user signed in). */
  restart(): void {
    clearTimeout(this.timer);
    this.attempt = 0;
    this.cursor = undefined;
    this.socket?.close(1000);
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const token = this.options.token();
    if (!token) return void this.options.handlers.status("offline");
    this.options.handlers.status("connecting");
    this.pingIntervalMs = undefined;
    const socket = new this.Socket(this.options.url);
    this.socket = socket;
    let fresh = this.cursor === undefined;
    socket.onopen = () => {
      socket.send(clientFrame({ case: "hello", value: { token, cursor: this.cursor } }));
    };
    socket.onmessage = (event) => {
      if (socket !== this.socket) return;
      this.listen(socket);
      const frame = parseServerFrame(String(event.data));
      if (!frame) return;
      this.handle(frame, socket);
      if (frame.frame.case === "ready" && fresh) {
        // Without a cursor nothing is replayed: changes made before now may be missing from lists
        // loaded earlier.
        fresh = false;
        this.options.handlers.refetch();
      }
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      clearTimeout(this.silence);
      if (this.stopped) return;
      this.options.handlers.status("offline");
      if (event.code === CloseCode.UNAUTHENTICATED) {
        void this.options.renew().then((ok) => (ok ? this.connect() : undefined));
        return;
      }
      this.scheduleReconnect();
    };
  }

  private handle({ frame }: ServerFrame, socket: WebSocket): void {
    const { handlers } = this.options;
    switch (frame.case) {
      case "ping":
        socket.send(clientFrame({ case: "pong", value: {} }));
        return;
      case "ready":
        this.attempt = 0;
        this.cursor = frame.value.cursor;
        this.pingIntervalMs = frame.value.pingInterval ? durationMs(frame.value.pingInterval) : DEFAULT_PING_INTERVAL_MS;
        this.listen(socket);
        handlers.status("live");
        if (this.wasReady) handlers.inbox();
        this.wasReady = true;
        return;
      case "task":
        this.cursor = frame.value.cursor;
        if (frame.value.task) handlers.task(frame.value.task);
        return;
      case "deleted":
        this.cursor = frame.value.cursor;
        handlers.deleted(frame.value.taskId);
        return;
      case "refetch":
        this.cursor = frame.value.cursor;
        handlers.refetch();
        return;
      case "reminder":
        handlers.reminder(frame.value);
        return;
      case "inbox":
        handlers.inbox();
        return;
    }
  }

  /**
   * Once ready, a frame comes at least every ping interval: two without one and the connection is
   * taken for dead, as a network gone without a word (no close ever arrives) leaves it.
   */
  private listen(socket: WebSocket): void {
    clearTimeout(this.silence);
    if (this.pingIntervalMs === undefined) return;
    // A second of slack for timers that fire late.
    this.silence = setTimeout(() => this.drop(socket), 2 * this.pingIntervalMs + 1000);
  }

  /** Gives up the socket: offline until the next attempt, which comes as after any drop. */
  private drop(socket: WebSocket): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    clearTimeout(this.silence);
    socket.close();
    this.options.handlers.status("offline");
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const min = this.options.minDelayMs ?? 500;
    const max = this.options.maxDelayMs ?? 15_000;
    const delay = Math.min(max, min * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt++;
    this.timer = setTimeout(() => this.connect(), delay);
  }
}

export function liveUrl(origin: string): string {
  return `${origin.replace(/^http/, "ws")}/live`;
}
