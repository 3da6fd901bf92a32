import { fromJsonString, isMessage } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { TOPIC, type ConsumedEvent, type EventBus, type Subscription } from "@taskmesh/events";
import { withSpan, type Logger } from "@taskmesh/kit";
import { ReminderEventSchema, TaskUpdateSchema } from "@taskmesh/proto/taskmesh/events/v1/events_pb.js";
import { ClientFrameSchema, CloseCode, type ClientFrame, type Hello } from "@taskmesh/proto/taskmesh/live/v1/live_pb.js";
import type { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import type http from "node:http";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import type { Authenticator, Identity } from "../auth/index.js";
import { checkScope } from "../auth/scopes.js";
import { upstreamHeaders } from "../forward.js";
import { watchFrom, type WatchCursors } from "../watch-cursors.js";
import { LiveConnection, liveFrame, reminderFrame, serverFrame } from "./live-connection.js";
import { liveConnections, livePushDelay } from "./live-metrics.js";

export const LIVE_PATH = "/live";
const HELLO_TIMEOUT_MS = 10_000;
const PING_INTERVAL_MS = 25_000;
const MAX_FRAME_BYTES = 16 * 1024;
const MAX_TIMER_MS = 2 ** 31 - 1;
const HELLO_EXPECTED = 'expected {"hello":{"token":"…","cursor":"…"}} first';
const PING = serverFrame({ case: "ping", value: {} });
const PONG = serverFrame({ case: "pong", value: {} });
const validator = createValidator();

export interface LiveSyncOptions {
  authenticator: Authenticator;
  /** Reads the change feed from a cursor (catch-up), as the caller. */
  tasks: Client<typeof TaskService>;
  /** Without it live sync is off: /live refuses sockets rather than hold ones that never hear a change. */
  bus: EventBus | undefined;
  /** Names this replica's subscription: every replica reads every change for its own sockets. */
  replicaId: string;
  /** Browser origins allowed besides the gateway's own. */
  allowedOrigins: readonly string[];
  /** Seals feed positions per user on the way out, opens the hello's cursor. */
  cursors: WatchCursors;
  logger: Logger;
  pingIntervalMs?: number;
}

/**
 * Live sync over WebSocket at GET /live. Each replica consumes `task-updates` and `reminders` and
 * pushes them to the sockets it holds; a device that reconnects with its cursor first gets what it
 * missed from the task service's change feed (WatchTasks), or is told to refetch.
 */
export class LiveSync {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  readonly #byUser = new Map<string, Set<LiveConnection>>();
  /** The credential each socket said hello with, checked again at every heartbeat. */
  readonly #credentials = new WeakMap<LiveConnection, string>();
  #rechecking = false;
  #subscription: Subscription | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #uncount: (() => void) | undefined;
  #unlisten: (() => void) | undefined;

  constructor(private readonly options: LiveSyncOptions) {}

  get #pingIntervalMs(): number {
    return this.options.pingIntervalMs ?? PING_INTERVAL_MS;
  }

  get connections(): number {
    let n = 0;
    for (const set of this.#byUser.values()) n += set.size;
    return n;
  }

  async start(): Promise<void> {
    this.#subscription = await this.options.bus?.subscribe({
      group: `gateway-live-${this.options.replicaId}`,
      // From now on and never committed: a device catches up from its cursor, so a new replica
      // replays nothing and leaves no consumer group behind.
      delivery: "broadcast",
      topics: [TOPIC.taskUpdates, TOPIC.reminders],
      handler: (event) => withSpan("live push", { attributes: { "messaging.destination.name": event.topic, "taskmesh.live.connections": this.connections } }, () => this.#deliver(event)),
    });
    this.#uncount = liveConnections.add(() => this.connections);
    // A user signed out everywhere (or a token revoked), here or on another replica: their sockets
    // are checked now, not at the next heartbeat.
    this.#unlisten = this.options.authenticator.onCredentialsChanged((userId) => {
      const set = this.#byUser.get(userId);
      if (set) void this.#recheck([set]);
    });
    this.#heartbeat = setInterval(() => this.#ping(), this.#pingIntervalMs);
    this.#heartbeat.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#uncount?.();
    this.#unlisten?.();
    for (const set of this.#byUser.values()) for (const c of set) c.close(CloseCode.GOING_AWAY, "server restarting: reconnect with your cursor");
    for (const ws of this.#wss.clients) ws.terminate();
    await this.#subscription?.stop();
    this.#wss.close();
  }

  /** The HTTP upgrade handler for the gateway's port. */
  upgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== LIVE_PATH) refuse(socket, 404, `no WebSocket at ${path}: use ${LIVE_PATH}`);
    else if (!this.options.bus) refuse(socket, 503, "live sync is off: this gateway runs without Kafka");
    else if (!this.#originAllowed(req)) refuse(socket, 403, "origin not allowed");
    else this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws));
  };

  #originAllowed(req: http.IncomingMessage): boolean {
    const origin = req.headers.origin;
    // Non-browser clients send no Origin; a browser page may connect from its own origin or a listed one.
    if (!origin) return true;
    if (this.options.allowedOrigins.includes(origin)) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }

  #accept(ws: WebSocket): void {
    const helloTimer = setTimeout(() => ws.close(CloseCode.MALFORMED_FRAME, HELLO_EXPECTED), HELLO_TIMEOUT_MS);
    ws.on("close", () => clearTimeout(helloTimer));
    ws.on("error", () => ws.terminate());
    let conn: LiveConnection | undefined;
    let helloSeen = false;
    let pongOwed = false;
    ws.on("message", (data, isBinary) => {
      const frame = parseClientFrame(data, isBinary);
      if (!helloSeen) {
        helloSeen = true;
        clearTimeout(helloTimer);
        if (frame?.frame.case !== "hello") return ws.close(CloseCode.MALFORMED_FRAME, HELLO_EXPECTED);
        void this.#hello(ws, frame.frame.value, (c) => {
          conn = c;
          if (pongOwed) c.send(PONG);
        }).catch((err: unknown) => {
          this.options.logger.error({ err }, "live hello failed");
          ws.close(1011, "internal error");
        });
        return;
      }
      if (!frame) return ws.close(CloseCode.MALFORMED_FRAME, 'expected a ClientFrame, e.g. {"pong":{}}');
      if (conn) conn.alive = true;
      if (frame.frame.case !== "ping") return;
      if (conn) conn.send(PONG);
      else pongOwed = true;
    });
  }

  async #hello(ws: WebSocket, hello: Hello, onConnection: (conn: LiveConnection) => void): Promise<void> {
    let identity: Identity;
    try {
      identity = await this.options.authenticator.verify(hello.token);
      checkScope(identity.scopes, "read", "live sync");
    } catch (err) {
      return ws.close(CloseCode.UNAUTHENTICATED, (err as Error).message.slice(0, 120));
    }
    if (ws.readyState !== ws.OPEN) return;
    const { cursors } = this.options;
    const userId = identity.userId;
    const conn = new LiveConnection(userId, ws, (position) => cursors.seal(userId, position), this.#pingIntervalMs);
    this.#credentials.set(conn, hello.token);
    // Registered before the catch-up read, so nothing committed meanwhile falls between the two.
    this.#add(conn);
    ws.on("close", () => this.#remove(conn));
    onConnection(conn);
    // Timers hold at most 2^31-1 ms (~24.8 days): a token expiring later outlives any socket worth timing.
    const lifeMs = identity.expiresAt ? identity.expiresAt.getTime() - Date.now() : Infinity;
    if (lifeMs <= MAX_TIMER_MS) {
      const expiry = setTimeout(() => conn.close(CloseCode.UNAUTHENTICATED, "access token expired: reconnect with a fresh one"), lifeMs);
      expiry.unref();
      ws.on("close", () => clearTimeout(expiry));
    }

    const stop = new AbortController();
    ws.on("close", () => stop.abort());
    let ready = false;
    try {
      // The service ends the stream after caughtUp: thousands of devices reconnecting at once would
      // otherwise each cancel one, and a burst of stream resets makes HTTP/2 servers drop the connection.
      const watch = (cursor: string) => this.options.tasks.watchTasks({ cursor, untilCaughtUp: true }, { headers: upstreamHeaders(new Headers(), identity), signal: stop.signal });
      const asked = hello.cursor && cursors.open(userId, hello.cursor);
      for await (const message of watchFrom(cursors, userId, hello.cursor, watch)) {
        if (!ready) {
          ready = true;
          conn.ready(message.change.case === "resyncRequired" || !asked ? message.cursor : asked);
        }
        conn.catchUp(message);
      }
    } catch (err) {
      if (stop.signal.aborted) return;
      throw err;
    } finally {
      stop.abort();
    }
    conn.goLive();
  }

  #add(conn: LiveConnection): void {
    let set = this.#byUser.get(conn.userId);
    if (!set) {
      set = new Set();
      this.#byUser.set(conn.userId, set);
    }
    set.add(conn);
  }

  #remove(conn: LiveConnection): void {
    const set = this.#byUser.get(conn.userId);
    set?.delete(conn);
    if (set?.size === 0) this.#byUser.delete(conn.userId);
  }

  async #deliver(event: ConsumedEvent): Promise<void> {
    const { value } = event;
    if (isMessage(value, TaskUpdateSchema)) {
      const set = this.#byUser.get(value.userId);
      if (!set) return;
      const frame = liveFrame(value, this.options.cursors.seal(value.userId, value.cursor));
      for (const conn of set) conn.offer(value, frame);
      if (value.occurredAt) livePushDelay.observe(Math.max(0, Date.now() - timestampMs(value.occurredAt)) / 1000);
    } else if (isMessage(value, ReminderEventSchema)) {
      const set = this.#byUser.get(value.recipientId || value.userId);
      const frame = set && reminderFrame(value);
      if (frame) for (const conn of set) conn.send(frame);
    }
  }

  #ping(): void {
    for (const set of this.#byUser.values()) {
      for (const conn of set) {
        // Still catching up (slow under a reconnect storm): a ping now would go unsent, unanswered.
        if (!conn.started) continue;
        if (!conn.alive) {
          conn.drop();
          continue;
        }
        conn.alive = false;
        conn.send(PING);
      }
    }
    void this.#recheckCredentials();
  }

  /**
   * An open socket ends when its credential would no longer be accepted: signed out of every
   * session, API token revoked, account deleted. Each distinct credential is verified once.
   */
  async #recheckCredentials(): Promise<void> {
    if (this.#rechecking) return;
    this.#rechecking = true;
    try {
      await this.#recheck(this.#byUser.values());
    } finally {
      this.#rechecking = false;
    }
  }

  async #recheck(sets: Iterable<Set<LiveConnection>>): Promise<void> {
    const byCredential = new Map<string, LiveConnection[]>();
    for (const set of sets) {
      for (const conn of set) {
        const credential = this.#credentials.get(conn);
        if (credential === undefined) continue;
        const conns = byCredential.get(credential);
        if (conns) conns.push(conn);
        else byCredential.set(credential, [conn]);
      }
    }
    for (const [credential, conns] of byCredential) {
      try {
        await this.options.authenticator.verify(credential);
      } catch (err) {
        // Only a refusal ends the sockets; the account store being unreachable does not.
        const e = ConnectError.from(err);
        if (e.code === Code.Unauthenticated) for (const conn of conns) conn.close(CloseCode.UNAUTHENTICATED, e.rawMessage.slice(0, 120));
      }
    }
  }
}

/** What a device sent, if it is a ClientFrame: text, of a kind this gateway knows, no field it does not, within the schema's bounds. */
function parseClientFrame(data: RawData, isBinary: boolean): ClientFrame | undefined {
  if (isBinary) return undefined;
  let frame: ClientFrame;
  try {
    frame = fromJsonString(ClientFrameSchema, data.toString());
  } catch {
    return undefined;
  }
  return validator.validate(ClientFrameSchema, frame).kind === "valid" ? frame : undefined;
}

function refuse(socket: Duplex, status: number, message: string): void {
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${message}\n`);
}
