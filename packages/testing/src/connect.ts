import assert from "node:assert/strict";
import { ViolationsSchema, type FieldPath } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";

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

/** The fields a validation error names, as protobuf-es writes paths (`task.title`, `reminders[1].before_due`). */
export function violatedFields(err: ConnectError): string[] {
  const [violations] = err.findDetails(ViolationsSchema);
  return (violations?.violations ?? []).map((v) => fieldPathText(v.field));
}

/** A violation's field path as text: names joined by dots, a list index or map key in brackets. */
export function fieldPathText(path: FieldPath | undefined): string {
  return (path?.elements ?? [])
    .map(({ fieldName, subscript }) => {
      if (subscript.case === undefined) return fieldName;
      return `${fieldName}[${subscript.case === "stringKey" ? JSON.stringify(subscript.value) : String(subscript.value)}]`;
    })
    .join(".");
}

export interface ApiTokenUser {
  /** The API token's secret, as `taskmesh login --token` or an MCP client takes it. */
  token: string;
  /** A client of `service` calling as the token, over HTTP/1.1 as a script does. */
  client<S extends DescService>(service: S): Client<S>;
}

/** A new account on the app at `baseUrl` with an API token, as someone scripting against it has. */
export async function apiTokenUser(baseUrl: string, account: { email: string; timeZone: string; tokenName: string }): Promise<ApiTokenUser> {
  const auth = createClient(AuthService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
  const { accessToken } = await auth.signUp({ email: account.email, password: `${account.tokenName}-test-secret`, timeZone: account.timeZone });
  const { secret: token } = await auth.createApiToken({ name: account.tokenName }, { headers: { authorization: `Bearer ${accessToken}` } });
  return {
    token,
    client: (service) =>
      createClient(
        service,
        createConnectTransport({
          baseUrl,
          httpVersion: "1.1",
          interceptors: [
            (next) => (req) => {
              req.header.set("authorization", `Bearer ${token}`);
              return next(req);
            },
          ],
        }),
      ),
  };
}
