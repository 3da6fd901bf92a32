// Invitations through the edge: the gateway forwards the caller's account e-mail (from the access
// token or the API token's account) as x-user-email, and a client's own x-user-email is ignored, so
// only the invited account sees and answers an invitation.
import { test } from "vitest";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ProjectRole, ProjectService } from "@taskmesh/proto/taskmesh/projects/v1/project_service_pb.js";
import { meshUnderTest } from "./fixtures.js";

const mesh = meshUnderTest();

async function account(name: string) {
  const email = `${name}-${randomBytes(4).toString("hex")}@example.com`;
  const res = await mesh.auth.signUp({ email, password: "long enough secret", timeZone: "Europe/Paris" });
  return { email, id: res.user!.id, headers: { authorization: `Bearer ${res.accessToken}` } };
}

test("only the invited account sees and accepts an invitation, by access token or API token; a client's x-user-email is ignored", async () => {
  const projects = createClient(ProjectService, createConnectTransport({ baseUrl: mesh.url, httpVersion: "1.1" }));
  const [alice, bob, carol] = [await account("alice"), await account("bob"), await account("carol")];
  const { project } = await projects.createProject({ name: "Shared" }, { headers: alice.headers });
  const { invitation } = await projects.inviteMember({ projectId: project!.id, email: bob.email.toUpperCase(), role: ProjectRole.VIEWER }, { headers: alice.headers });
  assert.equal(invitation!.email, bob.email);
  assert.equal(invitation!.invitedByEmail, alice.email);

  const posing = { headers: { ...carol.headers, "x-user-email": bob.email } };
  assert.deepEqual((await projects.listInvitations({}, posing)).invitations, []);
  const refused = await projects.acceptInvitation({ id: invitation!.id }, posing).then(
    () => assert.fail("carol accepted bob's invitation"),
    (e: unknown) => ConnectError.from(e),
  );
  assert.equal(refused.code, Code.NotFound);

  // Bob's API token carries his account's e-mail too.
  const { secret } = await mesh.auth.createApiToken({ name: "script" }, { headers: bob.headers });
  const byToken = { headers: { authorization: `Bearer ${secret}` } };
  assert.deepEqual(
    (await projects.listInvitations({}, byToken)).invitations.map((i) => i.projectName),
    ["Shared"],
  );
  const { project: joined } = await projects.acceptInvitation({ id: invitation!.id }, { headers: bob.headers });
  assert.equal(joined!.role, ProjectRole.VIEWER);
  const { members } = await projects.listMembers({ projectId: project!.id }, byToken);
  assert.deepEqual(
    members.map((m) => [m.email, m.owner]),
    [
      [alice.email, true],
      [bob.email, false],
    ],
  );
});
