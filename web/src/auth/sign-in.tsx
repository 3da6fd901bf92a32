import { ConnectError } from "@connectrpc/connect";
import { useState } from "react";
import { authClient, setSession } from "../api/auth-client.js";
import { browserTimeZone } from "../tasks/format.js";

type Mode = "in" | "up" | "forgot";

const INTRO: Record<Mode, string> = {
  in: "Sign in to your tasks.",
  up: "Create an account. It takes a few seconds.",
  forgot: "We will e-mail you a link to choose a new password.",
};
const SUBMIT: Record<Mode, string> = { in: "Sign in", up: "Create account", forgot: "Send the link" };

export function SignIn() {
  const [mode, setMode] = useState<Mode>("in");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string>();
  // What to do next when the answer is an e-mail rather than a session.
  const [sent, setSent] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit() {
    setBusy(true);
    setError(undefined);
    try {
      if (mode === "forgot") {
        await authClient.requestPasswordReset({ email });
        setSent(`If ${email} has an account, a link to choose a new password is on its way. It works once, within an hour.`);
        return;
      }
      const res = mode === "up" ? await authClient.signUp({ email, password, timeZone: browserTimeZone() }) : await authClient.signIn({ email, password });
      if ("verificationSent" in res && res.verificationSent) setSent(`Check ${email}: open the link we sent to finish creating your account.`);
      else if (res.user) setSession({ accessToken: res.accessToken, user: res.user });
    } catch (err) {
      setError(ConnectError.from(err).rawMessage);
    } finally {
      setBusy(false);
    }
  }

  const switchTo = (next: Mode) => () => {
    setMode(next);
    setError(undefined);
    setSent(undefined);
  };

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
        <p className="muted">{INTRO[mode]}</p>
        {sent ? (
          <p role="status">{sent}</p>
        ) : (
          <>
            <label htmlFor="email">Email</label>
            {/* biome-ignore lint/a11y/noAutofocus: the sign-in page is this form, and the e-mail field comes first */}
            <input id="email" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoFocus />
            {mode !== "forgot" && (
              <>
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
              </>
            )}
            {mode === "up" && <p className="hint">At least 8 characters, not a common password: a few unrelated words work well.</p>}
            {error && (
              <p className="field-error" role="alert">
                {error}
              </p>
            )}
            <button type="submit" className="primary wide" disabled={busy}>
              {SUBMIT[mode]}
            </button>
          </>
        )}
        <p className="switch">
          {mode === "in" ? "New here?" : mode === "up" ? "Have an account?" : "Remembered it?"}{" "}
          <button type="button" className="link" onClick={switchTo(mode === "in" ? "up" : "in")}>
            {mode === "in" ? "Create an account" : "Sign in"}
          </button>
        </p>
        {mode === "in" && (
          <p className="switch">
            <button type="button" className="link" onClick={switchTo("forgot")}>
              Forgot your password?
            </button>
          </p>
        )}
      </form>
    </main>
  );
}
