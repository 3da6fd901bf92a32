// Confluent Schema Registry wire format for Protobuf values, byte for byte as Confluent's
// serializers write it, so any Confluent-compatible consumer can read what we produce:
//
//   0x00 | schema id (int32 big-endian) | message indexes | protobuf payload
//
// Message indexes locate the message type inside the registered .proto file: a count then each
// index, all zigzag varints. The common case, the first top-level message ([0]), is the single
// byte 0 instead of [count 1, index 0].

export const MAGIC_BYTE = 0;

export interface Frame {
  schemaId: number;
  messageIndexes: number[];
  payload: Uint8Array;
}

export class WireFormatError extends Error {
  override name = "WireFormatError";
}

export function encodeFrame(schemaId: number, messageIndexes: readonly number[], payload: Uint8Array): Uint8Array {
  const indexes = encodeMessageIndexes(messageIndexes);
  const out = new Uint8Array(5 + indexes.length + payload.length);
  out[0] = MAGIC_BYTE;
  new DataView(out.buffer).setInt32(1, schemaId, false);
  out.set(indexes, 5);
  out.set(payload, 5 + indexes.length);
  return out;
}

export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.length < 6) throw new WireFormatError(`frame of ${bytes.length} bytes is too short for the Confluent wire format`);
  if (bytes[0] !== MAGIC_BYTE) throw new WireFormatError(`unknown magic byte ${bytes[0]} (expected ${MAGIC_BYTE})`);
  const schemaId = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(1, false);
  const reader = { bytes, pos: 5 };
  const count = readZigzagVarint(reader);
  if (count < 0 || count > 64) throw new WireFormatError(`implausible message index count ${count}`);
  // A count of 0 is the shorthand for [0].
  const messageIndexes = count === 0 ? [0] : Array.from({ length: count }, () => readZigzagVarint(reader));
  return { schemaId, messageIndexes, payload: bytes.subarray(reader.pos) };
}

export function encodeMessageIndexes(indexes: readonly number[]): Uint8Array {
  if (indexes.length === 1 && indexes[0] === 0) return Uint8Array.of(0);
  const out: number[] = [];
  writeZigzagVarint(out, indexes.length);
  for (const i of indexes) writeZigzagVarint(out, i);
  return Uint8Array.from(out);
}

function writeZigzagVarint(out: number[], value: number): void {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
}

function readZigzagVarint(reader: { bytes: Uint8Array; pos: number }): number {
  let result = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (reader.pos >= reader.bytes.length) throw new WireFormatError("frame ends inside a message index varint");
    const b = reader.bytes[reader.pos++]!;
    result |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return (result >>> 1) ^ -(result & 1);
  }
  throw new WireFormatError("message index varint longer than 5 bytes");
}
