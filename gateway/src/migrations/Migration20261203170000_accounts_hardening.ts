import { Migration } from "@mikro-orm/migrations";

export class Migration20261203170000_accounts_hardening extends Migration {
  override name = "Migration20261203170000_accounts_hardening";

  override up(): void {
    // Tokens made before scopes existed keep what they were for (the API), not token management.
    this.addSql(`ALTER TABLE auth.api_tokens ADD COLUMN scopes text[] NOT NULL DEFAULT '{read,write}'`);
    // Access tokens carry the epoch they were issued in; signing out everywhere moves it on.
    this.addSql(`ALTER TABLE auth.users ADD COLUMN session_epoch integer NOT NULL DEFAULT 0`);
    // Single-use e-mailed links: a sign-up to verify (the account is made only then, from `pending`)
    // or a password reset. Only the token's hash is kept.
    this.addSql(`CREATE TABLE auth.email_tokens (
      token_hash bytea PRIMARY KEY,
      purpose text NOT NULL CHECK (purpose IN ('verify-email', 'reset-password')),
      email text NOT NULL,
      user_id uuid REFERENCES auth.users (id) ON DELETE CASCADE,
      pending jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      used_at timestamptz
    )`);
    this.addSql(`CREATE INDEX email_tokens_expiry ON auth.email_tokens (expires_at)`);
  }

  override down(): void {
    this.addSql(`DROP TABLE auth.email_tokens`);
    this.addSql(`ALTER TABLE auth.users DROP COLUMN session_epoch`);
    this.addSql(`ALTER TABLE auth.api_tokens DROP COLUMN scopes`);
  }
}
