import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

type OutgoingDetail = { desc: DescMessage; value: MessageInitShape<DescMessage> };
import { FieldPathElementSchema, FieldPathSchema, ViolationSchema, ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

export interface FieldViolation {
  /** Dotted path, e.g. "task.title" or "query". */
  field: string;
  ruleId: string;
  message: string;
}

/**
 * INVALID_ARGUMENT with the same buf.validate.Violations detail that the protovalidate interceptor
 * attaches, so clients handle rule violations and service-side checks one way.
 */
export function invalidArgument(violations: FieldViolation[], ...extraDetails: OutgoingDetail[]): ConnectError {
  const detail = create(ViolationsSchema, {
    violations: violations.map((v) =>
      create(ViolationSchema, {
        field: create(FieldPathSchema, {
          elements: v.field.split(".").map((name) => create(FieldPathElementSchema, { fieldName: name })),
        }),
        ruleId: v.ruleId,
        message: v.message,
      }),
    ),
  });
  const summary = violations.map((v) => `${v.field}: ${v.message}`).join("; ");
  return new ConnectError(summary, Code.InvalidArgument, undefined, [{ desc: ViolationsSchema, value: detail }, ...extraDetails]);
}
