// An MCP client asks for access (the gateway's /oauth/authorize serves this page once the request
// checked out). Allow makes a personal API token for the client and hands it to /oauth/approve,
// which sends the browser back to the client with a one-time code; Deny sends it back without one.
import { ConnectError } from "@connectrpc/connect";
import { useState } from "react";
import { ApiTokenScope } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { authClient, type Session } from "../api/auth-client.js";

export const CONSENT_PATH = "/oauth/authorize";
// The tools read and change tasks; an agent never makes or revokes tokens (the gateway refuses one that could).
const AGENT_SCOPES = [ApiTokenScope.READ, ApiTokenScope.WRITE];

/** The client's registered name: its id carries the registration as base64url JSON before the signature. */
function clientName(clientId: string): string {
  try {
    const payload = clientId.slice("mcp_".length).split(".")[0]!.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
    return String((JSON.parse(new TextDecoder().decode(bytes)) as { n: unknown }).n);
  } catch {
    return "An MCP client";
  }
}

export function Consent({ session }: { session: Session }) {
  const params = new URLSearchParams(location.search);
  const clientId = params.get("client_id") ?? "";
  const name = clientName(clientId);
  const returnTo = (() => {
    try {
      return new URL(params.get("redirect_uri") ?? "").host;
    } catch {
      return "";
    }
  })();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function decide(decision: "allow" | "deny") {
    setBusy(true);
    setError(undefined);
    try {
      const authorization = `Bearer ${session.accessToken}`;
      const apiToken = decision === "allow" ? (await authClient.createApiToken({ name: `MCP: ${name}`.slice(0, 100), scopes: AGENT_SCOPES }, { headers: { authorization } })).secret : undefined;
      const res = await fetch("/oauth/approve", {
        method: "POST",
        headers: { "content-type": "application/json", authorization },
        body: JSON.stringify({ ...Object.fromEntries(params), decision, api_token: apiToken }),
      });
      const answer = (await res.json()) as { redirect?: string; error_description?: string };
      if (!res.ok || !answer.redirect) throw new Error(answer.error_description ?? `the gateway answered ${res.status}`);
      location.assign(answer.redirect);
    } catch (err) {
      setError(err instanceof ConnectError ? err.rawMessage : (err as Error).message);
      setBusy(false);
    }
  }

  return (
    <main className="auth">
      <section className="auth-card" aria-labelledby="consent-title">
        <h1 className="brand">
          <span className="logo" aria-hidden /> taskmesh
        </h1>
        <h2 id="consent-title">Allow {name} to use your tasks?</h2>
        <p className="muted">
          It will be able to find, add, change, complete and delete the tasks and reminders of {session.user.email} through taskmesh's MCP tools. Its changes show in each task's history (device “mcp”)
          and can be undone there. It gets an API token named “MCP: {name}”: revoke it (RevokeApiToken) to end its access.
        </p>
        {returnTo && <p className="hint">You will be returned to {returnTo}.</p>}
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="button" className="primary wide" disabled={busy} onClick={() => void decide("allow")}>
          Allow
        </button>
        <button type="button" className="wide" disabled={busy} onClick={() => void decide("deny")}>
          Deny
        </button>
      </section>
    </main>
  );
}
