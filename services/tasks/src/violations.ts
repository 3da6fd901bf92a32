import type { DescField } from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { Violation, violationsToProto } from "@bufbuild/protovalidate";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";

/** Rule violations of a merged message (a task, a project), reported under the request's field that holds it. */
export function violationsUnder(field: DescField, violations: Violation[]): ConnectError {
  const under = violations.map((v) => new Violation(v.message, v.ruleId, [field, ...v.field], v.rule, v.forKey));
  const [proto] = violationsToProto(under);
  const summary = under.map((v) => `${pathToString(v.field)}: ${v.message}`).join("; ");
  return new ConnectError(summary, Code.InvalidArgument, undefined, [{ desc: ViolationsSchema, value: proto }]);
}
