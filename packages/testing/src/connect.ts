import assert from "node:assert/strict";
import { ViolationsSchema } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";

/** The error a call must end with, checked for its code; `what` names the call in the message. */
export async function expectCode(promise: Promise<unknown>, code: Code, what = ""): Promise<ConnectError> {
  const prefix = what ? `${what}: ` : "";
  const err = await promise.then(
    () => assert.fail(`${prefix}expected ${Code[code]}, got success`),
    (e: unknown) => ConnectError.from(e),
  );
  assert.equal(err.code, code, `${prefix}expected ${Code[code]}, got ${Code[err.code]}: ${err.message}`);
  return err;
}

/** The fields a validation error names, as dotted paths (`task.title`). */
export function violatedFields(err: ConnectError): string[] {
  const [violations] = err.findDetails(ViolationsSchema);
  return (violations?.violations ?? []).map((v) => (v.field?.elements ?? []).map((e) => e.fieldName).join("."));
}
