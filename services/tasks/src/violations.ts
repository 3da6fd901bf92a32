import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { violationsToProto } from "@bufbuild/protovalidate";
import { FieldPathElementSchema, FieldPathSchema, ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

/** Rule violations of a merged message (a task, a project), reported under the request's field path. */
export function violationsUnder(prefix: string, violations: Parameters<typeof violationsToProto>[0]): ConnectError {
  const [proto] = violationsToProto(violations);
  for (const v of proto.violations) {
    v.field ??= create(FieldPathSchema);
    v.field.elements.unshift(create(FieldPathElementSchema, { fieldName: prefix }));
  }
  const summary = proto.violations.map((v) => `${v.field!.elements.map((e) => e.fieldName).join(".")}: ${v.message}`).join("; ");
  return new ConnectError(summary, Code.InvalidArgument, undefined, [{ desc: ViolationsSchema, value: proto }]);
}
