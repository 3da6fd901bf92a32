// gRPC-Web's text mode (the gRPC-Web protocol, "Text-encoded (response) streams"): the frames of
// binary gRPC-Web, base64-encoded both ways, for clients that can only read text (XHR). It is the
// default of the official grpc-web client (mode=grpcwebtext); connect-node answers it with 415.
// A text request is decoded here, served as binary gRPC-Web, and its response encoded back.
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalServerRequest, UniversalServerResponse } from "@connectrpc/connect/protocol";

const TEXT_CONTENT_TYPE = /^application\/grpc-web-text(?=$|[+;\s])/i;
// Whole base64 quanta (4 characters), where a quantum ending in "=" ends a segment: the protocol lets
// a sender pad each chunk it flushes, so padding may stand inside the body, not only at its end.
const QUANTA = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?/;

export function isGrpcWebText(contentType: string | null): boolean {
  return contentType !== null && TEXT_CONTENT_TYPE.test(contentType);
}

/** The request (and its body) as binary gRPC-Web: its content type without "-text", its body base64-decoded. */
export function grpcWebTextRequest(req: UniversalServerRequest, body: AsyncIterable<Uint8Array>): UniversalServerRequest {
  const header = new Headers(req.header);
  header.set("content-type", (header.get("content-type") ?? "").replace(TEXT_CONTENT_TYPE, "application/grpc-web"));
  header.delete("content-length");
  return { ...req, header, body: base64Decoded(body) };
}

/** The binary gRPC-Web response as text: its content type with "-text", each chunk base64-encoded as it is flushed. */
export function grpcWebTextResponse(res: UniversalServerResponse): UniversalServerResponse {
  const header = new Headers(res.header);
  const type = header.get("content-type");
  if (type) header.set("content-type", type.replace(/^application\/grpc-web/i, "application/grpc-web-text"));
  header.delete("content-length");
  return { ...res, header, body: res.body && base64Encoded(res.body) };
}

async function* base64Encoded(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for await (const chunk of body) if (chunk.byteLength > 0) yield Buffer.from(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("base64"), "latin1");
}

async function* base64Decoded(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  let pending = "";
  for await (const chunk of body) {
    pending += Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1").replace(/\s+/g, "");
    for (;;) {
      const segment = QUANTA.exec(pending)![0];
      if (segment.length === 0) break;
      yield Buffer.from(segment, "base64");
      pending = pending.slice(segment.length);
    }
    if (/[^A-Za-z0-9+/=]/.test(pending) || /=[^=]|={3}/.test(pending)) throw notBase64();
  }
  if (pending.length > 0) throw notBase64();
}

const notBase64 = () => new ConnectError("the grpc-web-text request body is not base64: send the frames base64-encoded, as the grpc-web client does", Code.InvalidArgument);
