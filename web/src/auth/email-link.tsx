// The pages the account e-mails link to: /verify-email finishes a sign-up, /reset-password sets a new
// password. The token is in the address's fragment (#token=…), which browsers never send to a server.
import { ConnectError } from "@connectrpc/connect";
import { useEffect, useState } from "react";
import { authClient, setSession } from "../api/auth-client.js";

export const VERIFY_EMAIL_PATH = "/verify-email";
export const RESET_PASSWORD_PATH = "/reset-password";

const tokenInAddress = () => new URLSearchParams(location.hash.slice(1)).get("token") ?? "";

/** Leaves the link's address (and its token) for the app's own. */
const leave = () => history.replaceState(null, "", "/");

export function EmailLink() {
  return location.pathname === VERIFY_EMAIL_PATH ? <VerifyEmail /> : <ResetPassword />;
}

function Card({ children }: { children: React.ReactNode }) {
  return (
    <main className="auth">
      <section className="auth-card">
        <h1 className="brand">
          <span className="logo" aria-hidden /> taskmesh
        </h1>
        {children}
      </section>
    </main>
  );
}

function VerifyEmail() {
  const [error, setError] = useState<string>();
  useEffect(() => {
    authClient.verifyEmail({ token: tokenInAddress() }).then(
      (res) => {
        leave();
        if (res.user) setSession({ accessToken: res.accessToken, user: res.user });
      },
      (err: unknown) => setError(ConnectError.from(err).rawMessage),
    );
  }, []);
  return (
    <Card>
      {error ? (
        <>
          <p className="field-error" role="alert">
            {error}
          </p>
          <a href="/">Back to sign in</a>
        </>
      ) : (
        <p aria-busy="true">Confirming your e-mail…</p>
      )}
    </Card>
  );
}

function ResetPassword() {
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string>();
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit() {
    setBusy(true);
    setError(undefined);
    try {
      await authClient.resetPassword({ token: tokenInAddress(), newPassword: password });
      setDone(true);
    } catch (err) {
      setError(ConnectError.from(err).rawMessage);
    } finally {
      setBusy(false);
    }
  }

  if (done) {
    return (
      <Card>
        <p role="status">Your password has changed, and every device was signed out.</p>
        <a href="/" onClick={leave}>
          Sign in
        </a>
      </Card>
    );
  }
  return (
    <Card>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <p className="muted">Choose a new password.</p>
        <label htmlFor="new-password">New password</label>
        {/* biome-ignore lint/a11y/noAutofocus: the page is this one field, opened from the e-mailed link */}
        <input id="new-password" type="password" autoComplete="new-password" minLength={8} value={password} onChange={(e) => setPassword(e.target.value)} required autoFocus />
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary wide" disabled={busy}>
          Set the new password
        </button>
      </form>
    </Card>
  );
}
