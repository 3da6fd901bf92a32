// The frames of the gateway's /live socket (taskmesh.live.v1), as the benchmarks' devices send and read them.
import { create, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { ClientFrameSchema, ServerFrameSchema, type ServerFrame } from "@taskmesh/proto/taskmesh/live/v1/live_pb.js";

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
