import { create, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { parsePath } from "@bufbuild/protobuf/reflect";
import { Violation, violationToProto } from "@bufbuild/protovalidate";
import { FieldPathElementSchema, FieldPathSchema, ViolationSchema, ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

type OutgoingDetail = { desc: DescMessage; value: MessageInitShape<DescMessage> };

export interface FieldViolation {
  /** The field's path in the request, as protobuf-es writes paths: `task.title`, `reminders[1].before_due`. */
  field: string;
  ruleId: string;
  message: string;
}

/**
 * INVALID_ARGUMENT with the same buf.validate.Violations detail that the protovalidate interceptor
 * attaches, so clients handle rule violations and service-side checks one way. The paths carry
 * names only until `fieldPathsInterceptor` reads them against the request's schema.
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

/**
 * Gives the field paths of an INVALID_ARGUMENT's violations what protovalidate writes and clients
 * read (`pathFromViolationProto`, grpcurl's output): each element's field number and type, and a
 * list index or map key as its subscript, not in its name. Field number 0 does not exist in
 * Protobuf, so an element without one is a name still to be read against the request's schema.
 */
export function fieldPathsInterceptor(): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      if (err instanceof ConnectError && err.code === Code.InvalidArgument) resolveFieldPaths(req.method.input, err);
      throw err;
    }
  };
}

/** `fieldPathsInterceptor`'s work on one error, for errors answered outside the interceptors. */
export function resolveFieldPaths(schema: DescMessage, err: ConnectError): void {
  for (const detail of err.details) {
    if (!("desc" in detail) || detail.desc.typeName !== ViolationsSchema.typeName) continue;
    for (const violation of (detail.value as MessageInitShape<typeof ViolationsSchema>).violations ?? []) {
      const elements = violation.field?.elements ?? [];
      if (!elements.some((e) => !e.fieldNumber)) continue;
      try {
        const path = parsePath(schema, elements.map((e) => e.fieldName).join("."));
        violation.field = violationToProto(new Violation("", "", path, [], false))[0].field;
      } catch {
        // A name that is not a path of the request keeps the names it has.
      }
    }
  }
}
