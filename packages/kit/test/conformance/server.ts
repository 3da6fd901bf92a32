// The server under test for Connect's conformance runner (connectconformance --mode server): reads a
// ServerCompatRequest on stdin, serves connectrpc.conformance.v1.ConformanceService through kit's
// startServer (one port: HTTP/1.1 and h2c, kit's interceptors, drain on SIGTERM), and answers with
// a ServerCompatResponse on stdout. The handlers follow the runner's docs/testing_servers.md, as
// connect-es's packages/connect-conformance does for connect-node.
import { readFileSync } from "node:fs";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyPack, type Any } from "@bufbuild/protobuf/wkt";
import { ConnectError, type Code, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { pino } from "pino";
import { drainOnSignals, startServer } from "../../src/index.js";
import { HTTPVersion } from "./gen/connectrpc/conformance/v1/config_pb.js";
import { ServerCompatRequestSchema, ServerCompatResponseSchema } from "./gen/connectrpc/conformance/v1/server_compat_pb.js";
import {
  BidiStreamRequestSchema,
  ClientStreamRequestSchema,
  ConformancePayload_RequestInfoSchema,
  ConformancePayloadSchema,
  ConformanceService,
  IdempotentUnaryRequestSchema,
  ServerStreamRequestSchema,
  UnaryRequestSchema,
  type ConformancePayload_RequestInfo,
  type Error as ConformanceError,
  type Header,
  type StreamResponseDefinition,
  type UnaryResponseDefinition,
} from "./gen/connectrpc/conformance/v1/service_pb.js";

function requestInfo(ctx: HandlerContext, requests: Any[]): ConformancePayload_RequestInfo {
  const timeoutMs = ctx.timeoutMs();
  const requestHeaders: Header[] = [];
  ctx.requestHeader.forEach((value, name) => {
    requestHeaders.push({ $typeName: "connectrpc.conformance.v1.Header", name, value: [value] });
  });
  return create(ConformancePayload_RequestInfoSchema, { requestHeaders, requests, ...(timeoutMs !== undefined && { timeoutMs: BigInt(timeoutMs) }) });
}

function setHeaders(headers: Headers, from: Header[]): void {
  for (const header of from) for (const value of header.value) headers.append(header.name, value);
}

/** The error the runner asked for, carrying the request info (the runner checks it came back). */
function errorWithInfo(error: ConformanceError, info: ConformancePayload_RequestInfo | undefined): ConnectError {
  const details = info ? [{ desc: ConformancePayload_RequestInfoSchema, value: info }] : [];
  return new ConnectError(error.message ?? "", error.code as number as Code, undefined, details);
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function unaryResponse(def: UnaryResponseDefinition | undefined, requests: Any[], ctx: HandlerContext) {
  setHeaders(ctx.responseHeader, def?.responseHeaders ?? []);
  setHeaders(ctx.responseTrailer, def?.responseTrailers ?? []);
  const info = requestInfo(ctx, requests);
  if (def?.response.case === "error") throw errorWithInfo(def.response.value, info);
  await wait(def?.responseDelayMs ?? 0);
  const data = def?.response.case === "responseData" ? def.response.value : undefined;
  return { payload: create(ConformancePayloadSchema, { requestInfo: info, ...(data && { data }) }) };
}

async function* streamResponses(def: StreamResponseDefinition | undefined, info: ConformancePayload_RequestInfo, from: number) {
  for (let i = from; i < (def?.responseData.length ?? 0); i++) {
    await wait(def?.responseDelayMs ?? 0);
    // The request info goes with the first response only.
    yield { payload: create(ConformancePayloadSchema, { ...(i === 0 && { requestInfo: info }), data: def!.responseData[i]! }) };
  }
  if (def?.error) throw errorWithInfo(def.error, def.responseData.length === 0 ? info : undefined);
}

function routes(router: ConnectRouter): void {
  router.service(ConformanceService, {
    unary: (req, ctx) => unaryResponse(req.responseDefinition, [anyPack(UnaryRequestSchema, req)], ctx),
    idempotentUnary: (req, ctx) => unaryResponse(req.responseDefinition, [anyPack(IdempotentUnaryRequestSchema, req)], ctx),
    async clientStream(reqs, ctx) {
      let def: UnaryResponseDefinition | undefined;
      const received: Any[] = [];
      for await (const req of reqs) {
        def ??= req.responseDefinition;
        received.push(anyPack(ClientStreamRequestSchema, req));
      }
      return unaryResponse(def, received, ctx);
    },
    async *serverStream(req, ctx) {
      const def = req.responseDefinition;
      setHeaders(ctx.responseHeader, def?.responseHeaders ?? []);
      setHeaders(ctx.responseTrailer, def?.responseTrailers ?? []);
      yield* streamResponses(def, requestInfo(ctx, [anyPack(ServerStreamRequestSchema, req)]), 0);
    },
    async *bidiStream(reqs, ctx) {
      let def: StreamResponseDefinition | undefined;
      let first = true;
      let fullDuplex = false;
      let sent = 0;
      let received: Any[] = [];
      for await (const req of reqs) {
        if (first) {
          first = false;
          def = req.responseDefinition;
          fullDuplex = req.fullDuplex;
          setHeaders(ctx.responseHeader, def?.responseHeaders ?? []);
          setHeaders(ctx.responseTrailer, def?.responseTrailers ?? []);
        }
        received.push(anyPack(BidiStreamRequestSchema, req));
        if (!fullDuplex) continue;
        // Full duplex: one response per request, echoing the requests since the last response.
        if (sent >= (def?.responseData.length ?? 0)) break;
        await wait(def?.responseDelayMs ?? 0);
        yield { payload: create(ConformancePayloadSchema, { requestInfo: requestInfo(ctx, received), data: def!.responseData[sent]! }) };
        sent++;
        received = [];
      }
      yield* streamResponses(def, requestInfo(ctx, received), sent);
    },
  });
}

// A size-delimited message (a big-endian 32-bit length, then the bytes) each way.
const input = readFileSync(process.stdin.fd);
const request = fromBinary(ServerCompatRequestSchema, input.subarray(4, 4 + input.readUInt32BE(0)));
if (request.useTls) throw new Error("TLS was asked for, but the config YAML says supportsTls: false");
if (request.httpVersion === HTTPVersion.HTTP_VERSION_3) throw new Error("HTTP/3 was asked for, but the config YAML lists HTTP/1.1 and HTTP/2 only");

// stdout carries the response to the runner, so logs go to stderr (which the runner shows); silent
// unless LOG_LEVEL says otherwise, as every known failure logs an internal error.
const logger = pino({ name: "conformance", level: process.env.LOG_LEVEL ?? "silent" }, pino.destination(2));
const server = await startServer(
  {
    logger,
    services: [ConformanceService],
    routes,
    ...(request.messageReceiveLimit > 0 && { readMaxBytes: request.messageReceiveLimit }),
    // The suite's responses are small: at kit's default threshold none would be compressed.
    compressMinBytes: 0,
    // The runner stops each server with SIGTERM when its cases are done: a short drain.
    lingerMs: 200,
  },
  0,
  "127.0.0.1",
);
drainOnSignals([server], logger, async () => {});
const response = toBinary(ServerCompatResponseSchema, create(ServerCompatResponseSchema, { host: "127.0.0.1", port: server.port }));
const length = Buffer.alloc(4);
length.writeUInt32BE(response.byteLength);
process.stdout.write(Buffer.concat([length, response]));
