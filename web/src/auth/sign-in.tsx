import { ConnectError } from "@connectrpc/connect";
import { useState } from "react";
import { authClient, setSession } from "../api/auth-client.js";
import { browserTimeZone } from "../tasks/format.js";

export function SignIn() {
  const [mode, setMode] = useState<"in" | "up">("in");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit() {
    setBusy(true);
    setError(undefined);
    try {
      const res = mode === "up" ? await authClient.signUp({ email, password, timeZone: browserTimeZone() }) : await authClient.signIn({ email, password });
      if (res.user) setSession({ accessToken: res.accessToken, user: res.user });
    } catch (err) {
      setError(ConnectError.from(err).rawMessage);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="auth">
      <form
        className="auth-card"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <h1 className="brand">
          <span className="logo" aria-hidden /> taskmesh
        </h1>
        <p className="muted">{mode === "in" ? "Sign in to your tasks." : "Create an account. It takes a few seconds."}</p>
        <label htmlFor="email">Email</label>
        <input id="email" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoFocus />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          type="password"
          autoComplete={mode === "in" ? "current-password" : "new-password"}
          minLength={mode === "up" ? 8 : undefined}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
        {mode === "up" && <p className="hint">At least 8 characters.</p>}
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary wide" disabled={busy}>
          {mode === "in" ? "Sign in" : "Create account"}
        </button>
        <p className="switch">
          {mode === "in" ? "New here?" : "Have an account?"}{" "}
          <button
            type="button"
            className="link"
            onClick={() => {
              setMode(mode === "in" ? "up" : "in");
              setError(undefined);
            }}
          >
            {mode === "in" ? "Create an account" : "Sign in"}
          </button>
        </p>
      </form>
    </main>
  );
}
