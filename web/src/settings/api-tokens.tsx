// Personal API tokens for scripts, the taskmesh CLI and AI agents: made here with a name, what it may
// do and how long it lasts; its secret is shown once (only its hash is kept); listed with when each
// was last used; revoked at once on every server.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { useQuery } from "@connectrpc/connect-query";
import { ApiTokenScope, AuthService, type ApiToken } from "@taskmesh/proto/taskmesh/auth/v1/auth_service_pb.js";
import { useId, useState } from "react";
import { accountClient } from "../api/clients.js";
import { formatDay } from "../tasks/format.js";
import { FieldError } from "../ui/field-error.js";
import { emptiedIfStill } from "../ui/sent-draft.js";
import { useAttempt } from "../ui/use-attempt.js";

const LIFETIMES: [string, string][] = [
  ["30", "30 days"],
  ["90", "90 days"],
  ["365", "a year"],
  ["0", "no expiry"],
];

const scopesText = (t: ApiToken) =>
  t.scopes.length === 0 || (t.scopes.includes(ApiTokenScope.READ) && t.scopes.includes(ApiTokenScope.WRITE)) ? "read and write" : t.scopes.includes(ApiTokenScope.WRITE) ? "write" : "read only";

export function ApiTokens() {
  const ids = useId();
  const tokens = useQuery(AuthService.method.listApiTokens, {});
  const [name, setName] = useState("");
  const [readOnly, setReadOnly] = useState(false);
  const [days, setDays] = useState("90");
  const [made, setMade] = useState<{ name: string; secret: string }>();
  const { problem, attempt } = useAttempt(() => tokens.refetch());

  const create = () =>
    attempt(async () => {
      const sent = name.trim();
      const res = await accountClient.createApiToken({ name: sent, validDays: Number(days), scopes: readOnly ? [ApiTokenScope.READ] : [ApiTokenScope.READ, ApiTokenScope.WRITE] });
      setMade({ name: res.token!.name, secret: res.secret });
      setName(emptiedIfStill(sent));
    });

  return (
    <section aria-labelledby={`${ids}-title`}>
      <h3 id={`${ids}-title`}>API tokens</h3>
      <p className="hint">For scripts, the taskmesh command and AI agents (MCP): each acts as you, with what you allow it.</p>
      <form
        className="settings-row"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <input aria-label="Token name" placeholder="e.g. laptop scripts" value={name} maxLength={100} required onChange={(e) => setName(e.target.value)} />
        <select aria-label="What the token may do" value={readOnly ? "read" : "write"} onChange={(e) => setReadOnly(e.target.value === "read")}>
          <option value="write">Read and change tasks</option>
          <option value="read">Only read</option>
        </select>
        <select aria-label="Token lifetime" value={days} onChange={(e) => setDays(e.target.value)}>
          {LIFETIMES.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
        <button type="submit" className="primary" disabled={!name.trim()}>
          Make a token
        </button>
      </form>
      <FieldError problem={problem} />
      {made && (
        <div className="feed-address" role="status">
          <p>“{made.name}”: copy the token now, it is shown only once.</p>
          <input aria-label="New API token" readOnly value={made.secret} onFocus={(e) => e.target.select()} />
          <p className="hint">
            For the command line:{" "}
            <code>
              npx taskmesh login --url {location.origin} --token {made.secret}
            </code>
          </p>
        </div>
      )}
      {(tokens.data?.tokens.length ?? 0) > 0 && (
        <ul className="feed-list" aria-label="Your API tokens">
          {tokens.data!.tokens.map((t) => (
            <li key={t.id}>
              <span>{t.name}</span>
              <span className="muted">
                {scopesText(t)} · {t.lastUsedTime ? `used ${formatDay(timestampDate(t.lastUsedTime))}` : "never used"} ·{" "}
                {t.expireTime ? `expires ${formatDay(timestampDate(t.expireTime))}` : "no expiry"}
              </span>
              <button type="button" className="link danger" aria-label={`Revoke ${t.name}`} onClick={() => void attempt(() => accountClient.revokeApiToken({ id: t.id }))}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
