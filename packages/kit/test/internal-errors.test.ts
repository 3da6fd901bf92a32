// Every INTERNAL answer carries an error id, and the log has a line with that id and the stack:
// thrown errors, bare `internal` errors from an in-process upstream or a library, and responses
// that cannot be encoded (a Timestamp past 9999).
import { test } from "vitest";
import assert from "node:assert/strict";
import net from "node:net";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { Health, HealthCheckRequestSchema, HealthCheckResponse_ServingStatus } from "@taskmesh/proto/grpc/health/v1/health_pb.js";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { recordingLogger as capture } from "@taskmesh/testing/logs";
import { internalErrorInterceptor, isTransientError } from "../src/index.js";

/** The error a connection to a port nobody listens on really gets. */
async function refusedConnection(): Promise<Error> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return new Promise((resolve) => net.connect(port, "127.0.0.1").on("error", resolve));
}

test("internal errors get an id the caller sees and a log line with the stack", async () => {
  const { lines, logger } = capture();
  const failures: (() => never)[] = [
    () => {
      throw new TypeError("boom in a handler");
    },
    () => {
      throw new ConnectError("internal error", Code.Internal);
    },
  ];
  let next = 0;
  const transport = createRouterTransport(
    (router) =>
      router.service(RecurrenceService, {
        parseRecurrence: () => failures[next++]!(),
        previewOccurrences: () => ({ occurrences: [{ when: { case: "time", value: { seconds: 10n ** 14n, nanos: 0 } } }] }) as never,
      }),
    { router: { interceptors: [internalErrorInterceptor(logger)] } },
  );
  const client = createClient(RecurrenceService, transport);
  for (let i = 0; i < failures.length; i++) {
    const err = await client.parseRecurrence({ text: "every day" }).then(
      () => assert.fail("no error"),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(err.code, Code.Internal);
    const id = /id ([0-9a-f-]{36})/.exec(err.rawMessage)?.[1];
    assert.ok(id, `the message carries an id: ${err.rawMessage}`);
    const line = lines.find((l) => l.errorId === id);
    assert.ok(line, "a log line with the same id");
    assert.ok(String((line!.err as Error).stack).length > 0, "with the stack");
    assert.ok(!err.rawMessage.includes("boom"), "internals do not reach the caller");
  }
  const err = await client.previewOccurrences({}).then(
    () => assert.fail("no error"),
    (e: unknown) => ConnectError.from(e),
  );
  assert.equal(err.code, Code.Internal);
  const id = /id ([0-9a-f-]{36})/.exec(err.rawMessage)?.[1];
  assert.ok(
    lines.some((l) => l.errorId === id && String((l.err as Error).message).includes("occurrences[0].time")),
    "the unencodable field is logged",
  );

  // Deliberate statuses pass through untouched, and an error that already has an id is not re-logged.
  const before = lines.length;
  const passthrough = createClient(
    RecurrenceService,
    createRouterTransport(
      (router) =>
        router.service(RecurrenceService, {
          parseRecurrence: () => {
            throw new ConnectError("internal error (id 0b0f6a8e-5b8e-4b59-9d55-1f1d29f4a0b1); the server log has the details", Code.Internal);
          },
          previewOccurrences: () => {
            throw new ConnectError("bad", Code.InvalidArgument);
          },
        }),
      { router: { interceptors: [internalErrorInterceptor(logger)] } },
    ),
  );
  const kept = await passthrough.parseRecurrence({ text: "x" }).then(
    () => assert.fail(),
    (e: unknown) => ConnectError.from(e),
  );
  assert.match(kept.rawMessage, /0b0f6a8e/);
  const invalid = await passthrough.previewOccurrences({}).then(
    () => assert.fail(),
    (e: unknown) => ConnectError.from(e),
  );
  assert.equal(invalid.code, Code.InvalidArgument);
  assert.equal(lines.length, before);
});

test("a database or service out of reach answers UNAVAILABLE (retry later), with an id in the message and a warning logged", async () => {
  const { lines, logger } = capture();
  const outages: Error[] = [
    await refusedConnection(),
    new Error("Connection terminated unexpectedly"),
    Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }),
    new Error("could not save the task", { cause: Object.assign(new Error("the database system is starting up"), { code: "57P03" }) }),
  ];
  let next = 0;
  const client = createClient(
    RecurrenceService,
    createRouterTransport(
      (router) =>
        router.service(RecurrenceService, {
          parseRecurrence: () => {
            throw outages[next++]!;
          },
        }),
      { router: { interceptors: [internalErrorInterceptor(logger)] } },
    ),
  );
  for (const outage of outages) {
    const err = await client.parseRecurrence({ text: "every day" }).then(
      () => assert.fail("no error"),
      (e: unknown) => ConnectError.from(e),
    );
    assert.equal(err.code, Code.Unavailable, outage.message);
    const id = /id ([0-9a-f-]{36})/.exec(err.rawMessage)?.[1];
    assert.ok(
      lines.some((l) => l.errorId === id && l.level === "warn" && l.err === outage),
      "logged as a warning with the id",
    );
    assert.ok(!err.rawMessage.includes(outage.message), "internals do not reach the caller");
  }
});

test("transient: unreachable peers and databases, not requests that are wrong", async () => {
  for (const err of [
    await refusedConnection(),
    new ConnectError("no healthy upstream", Code.Unavailable),
    new ConnectError("deadline", Code.DeadlineExceeded),
    new ConnectError("slow down", Code.ResourceExhausted),
    new ConnectError("the stream was closed under the call", Code.Canceled),
    new ConnectError("protocol error", Code.Internal, undefined, undefined, Object.assign(new Error("Stream closed with error code NGHTTP2_INTERNAL_ERROR"), { code: "ERR_HTTP2_STREAM_ERROR" })),
    Object.assign(new Error("could not serialize access"), { code: "40001" }),
    Object.assign(new Error("connection failure"), { code: "08006" }),
    new AggregateError([Object.assign(new Error("connect ECONNREFUSED ::1:5432"), { code: "ECONNREFUSED" })]),
    new ConnectError("internal", Code.Internal, undefined, undefined, new Error("timeout exceeded when trying to connect")),
  ]) {
    assert.equal(isTransientError(err), true, String(err));
  }
  for (const err of [
    new ConnectError("changed since version 3", Code.Aborted),
    new ConnectError("bad title", Code.InvalidArgument),
    new ConnectError("no such task", Code.NotFound),
    Object.assign(new Error("duplicate key value"), { code: "23505" }),
    Object.assign(new Error('relation "tasks" does not exist'), { code: "42P01" }),
    new TypeError("cannot read properties of undefined"),
    "a string",
    null,
  ]) {
    assert.equal(isTransientError(err), false, String(err));
  }
});

test("a streaming handler's failure is answered like a unary one: internal errors masked with an id, deliberate ones kept", async () => {
  const { lines, logger } = capture();
  const failures = [new TypeError("boom in a stream"), new ConnectError("no such service", Code.NotFound)];
  let next = 0;
  const transport = createRouterTransport(
    (router) =>
      router.service(Health, {
        check: () => ({}),
        async *watch() {
          yield { status: HealthCheckResponse_ServingStatus.SERVING };
          throw failures[next++]!;
        },
      }),
    { router: { interceptors: [internalErrorInterceptor(logger)] } },
  );
  const client = createClient(Health, transport);
  const failure = async () => {
    try {
      for await (const _ of client.watch({ service: "" })) void _;
    } catch (e) {
      return ConnectError.from(e);
    }
    return assert.fail("the stream ended without an error");
  };
  const masked = await failure();
  assert.equal(masked.code, Code.Internal);
  const id = /id ([0-9a-f-]{36})/.exec(masked.rawMessage)?.[1];
  assert.ok(id && lines.some((l) => l.errorId === id), `an id the log has: ${masked.rawMessage}`);
  assert.ok(!masked.rawMessage.includes("boom"));
  const kept = await failure();
  assert.equal(kept.code, Code.NotFound);
  assert.equal(kept.rawMessage, "no such service");
});

test("an error message that echoes a long input is cut to 1,024 characters, keeping its code and details", async () => {
  const { logger } = capture();
  const name = "x".repeat(70_000);
  const transport = createRouterTransport(
    (router) =>
      router.service(Health, {
        check: (req) => {
          throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound, undefined, [{ desc: HealthCheckRequestSchema, value: { service: "detail" } }]);
        },
        watch: () => assert.fail("not called"),
      }),
    { router: { interceptors: [internalErrorInterceptor(logger)] } },
  );
  const err = await createClient(Health, transport)
    .check({ service: name })
    .then(
      () => assert.fail("no error"),
      (e: unknown) => ConnectError.from(e),
    );
  assert.equal(err.code, Code.NotFound);
  assert.ok(err.rawMessage.length < 1100, `${err.rawMessage.length} characters`);
  assert.match(err.rawMessage, /^unknown service "x{100}.*… \(70018 characters in all\)$/);
  assert.equal(err.findDetails(HealthCheckRequestSchema)[0]?.service, "detail");
});
