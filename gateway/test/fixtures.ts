// A gateway in front of an in-process task service, on a fresh database, for the gateway suites.
import { create, fromJsonString, toJsonString, type MessageInitShape } from "@bufbuild/protobuf";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { openEmbeddedBus, type EventBus } from "@taskmesh/events";
import { createLogger } from "@taskmesh/kit";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { ClientFrameSchema, ServerFrameSchema, type ServerFrame } from "@taskmesh/proto/taskmesh/live/v1/live_pb.js";
import { TaskService } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { startRecurrenceModule } from "@taskmesh/recurrence";
import { startTasksModule } from "@taskmesh/tasks";
import { randomBytes } from "node:crypto";
import { freshDatabase } from "@taskmesh/testing";
import { afterAll, beforeAll } from "vitest";
import { WebSocket } from "ws";
import { startGateway, type Gateway, type GatewayOptions } from "../src/gateway.js";
import { inProcessUpstream } from "../src/mesh.js";
import type { AuthModuleOptions } from "../src/auth/index.js";

export const JWT_SECRET = randomBytes(48);
const logger = createLogger("gateway-test");

export interface TestMesh {
  gateway: Gateway;
  bus: EventBus;
  tasks: Awaited<ReturnType<typeof startTasksModule>>;
  url: string;
  auth: Client<typeof AuthService>;
  taskClient: Client<typeof TaskService>;
  /** Signs a new user up; returns the bearer headers and the user id. */
  user(name: string): Promise<{ id: string; email: string; token: string; headers: { authorization: string } }>;
  stop(): Promise<void>;
}

export interface MeshOptions {
  databaseUrl: string;
  /** Live-sync events; default the embedded log in the same database. */
  bus?: EventBus;
  replicaId?: string;
  /** An existing task service (a second replica in front of the same one). */
  tasks?: TestMesh["tasks"];
  signInLimit?: { points: number; windowSeconds: number };
  /** More settings of the auth module (limits, password queue, trusted proxies). */
  auth?: Partial<AuthModuleOptions>;
  now?: () => Date;
  livePingIntervalMs?: number;
  /** More settings of the gateway (metrics port, allowed hosts, web app folder). */
  gateway?: Partial<Pick<GatewayOptions, "metricsPort" | "allowedHosts" | "webDir">>;
}

export async function startMesh(options: MeshOptions): Promise<TestMesh> {
  const stops: (() => Promise<void>)[] = [];
  const bus = options.bus ?? (await openEmbeddedBus({ url: options.databaseUrl, logger }));
  if (!options.bus) stops.push(() => bus.close());
  let tasks = options.tasks;
  if (!tasks) {
    tasks = await startTasksModule({ databaseUrl: options.databaseUrl, logger, events: { send: (r) => bus.publish(r) } });
    stops.push(tasks.stop);
  }
  // Its RPCs only: these suites are about the edge, not about next occurrences.
  const recurrence = await startRecurrenceModule();
  const gateway = await startGateway({
    logger,
    port: 0,
    host: "127.0.0.1",
    upstreams: [inProcessUpstream(tasks), inProcessUpstream(recurrence)],
    auth: { databaseUrl: options.databaseUrl, jwtSecret: JWT_SECRET, signInLimit: options.signInLimit, now: options.now, ...options.auth },
    bus,
    replicaId: options.replicaId ?? "test",
    allowedOrigins: ["https://app.example.com"],
    webDir: "/nonexistent-web-dist",
    livePingIntervalMs: options.livePingIntervalMs,
    ...options.gateway,
  });
  stops.push(gateway.stop);
  const transport = createConnectTransport({ baseUrl: gateway.server.url, httpVersion: "1.1" });
  const auth = createClient(AuthService, transport);
  return {
    gateway,
    bus,
    tasks,
    url: gateway.server.url,
    auth,
    taskClient: createClient(TaskService, transport),
    async user(name) {
      const email = `${name}-${randomBytes(4).toString("hex")}@example.com`;
      const res = await auth.signUp({ email, password: "long enough secret", timeZone: "Europe/Paris" });
      return { id: res.user!.id, email, token: res.accessToken, headers: { authorization: `Bearer ${res.accessToken}` } };
    },
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}

/**
 * A mesh on a fresh database, started before the tests of the suite that calls it (a file or a
 * describe) and stopped after them; its parts are there from the suite's first test and later hooks on.
 */
export function meshUnderTest(options: Omit<MeshOptions, "databaseUrl"> = {}): Omit<TestMesh, "stop"> {
  const mesh = {} as TestMesh;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const db = await freshDatabase();
    drop = db.drop;
    Object.assign(mesh, await startMesh({ ...options, databaseUrl: db.url }));
  });
  afterAll(async () => {
    await mesh.stop?.();
    await drop?.();
  });
  return mesh;
}

/** A frame the gateway sent: the oneof of its taskmesh.live.v1.ServerFrame. */
export type Frame = ServerFrame["frame"];
export type FrameKind = NonNullable<Frame["case"]>;
type FrameOf<K extends FrameKind> = Extract<Frame, { case: K }>["value"];

/** The JSON text of a client frame, as a device sends it. */
export function clientFrame(frame: MessageInitShape<typeof ClientFrameSchema>["frame"]): string {
  return toJsonString(ClientFrameSchema, create(ClientFrameSchema, { frame }));
}

export const hello = (token: string, cursor?: string) => clientFrame({ case: "hello", value: { token, cursor } });

/** A live-sync client: collects frames; `next` waits for one matching. */
export class LiveClient {
  readonly frames: Frame[] = [];
  /** The frames as sent, JSON text. */
  readonly texts: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters = new Set<() => void>();
  #read = 0;

  private constructor(
    readonly socket: WebSocket,
    answerPings: boolean,
  ) {
    socket.on("message", (data) => {
      const text = data.toString();
      // Strict: a field the schema does not have is the gateway's mistake.
      const { frame } = fromJsonString(ServerFrameSchema, text);
      if (frame.case === "ping" && answerPings) socket.send(clientFrame({ case: "pong", value: {} }));
      this.texts.push(text);
      this.frames.push(frame);
      for (const w of this.#waiters) w();
    });
    this.closed = new Promise((resolve) => socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** `hello`: the first frame's text (see hello()). Answers pings like a real device unless `answerPings` is false. */
  static async open(baseUrl: string, hello?: string, headers?: Record<string, string>, answerPings = true): Promise<LiveClient> {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/live`, { headers });
    const client = new LiveClient(socket, answerPings);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    if (hello !== undefined) socket.send(hello);
    return client;
  }

  /** The next unread frame of a kind, or matching `match` (frames before it are consumed). */
  next<K extends FrameKind>(kind: K, timeoutMs?: number): Promise<FrameOf<K>>;
  next(match?: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  async next(match: FrameKind | ((f: Frame) => boolean) = () => true, timeoutMs = 10_000): Promise<unknown> {
    const matches = typeof match === "string" ? (f: Frame) => f.case === match : match;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.#read < this.frames.length) {
        const frame = this.frames[this.#read++]!;
        if (matches(frame)) return typeof match === "string" ? frame.value : frame;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; got ${this.texts.join(" ")}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
    }
  }

  /** Frames still unread after waiting `ms`. */
  async quiet(ms: number): Promise<Frame[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.frames.slice(this.#read).filter((f) => f.case !== "ping");
  }

  close(): void {
    this.socket.close();
  }
}
