import { Migration } from "@mikro-orm/migrations";

export class Migration20261125100000_auth extends Migration {
  override name = "Migration20261125100000_auth";

  override up(): void {
    this.addSql(`CREATE TABLE auth.users (
      id uuid PRIMARY KEY,
      email text NOT NULL,
      password_hash text NOT NULL,
      display_name text NOT NULL DEFAULT '',
      time_zone text NOT NULL DEFAULT 'UTC',
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    // One account per address whatever its case.
    this.addSql(`CREATE UNIQUE INDEX users_email_key ON auth.users (lower(email))`);
    // Refresh tokens rotate: each use marks the row used and issues the next of the same family.
    // Presenting a used one again means it leaked, so the whole family is revoked.
    this.addSql(`CREATE TABLE auth.refresh_tokens (
      token_hash bytea PRIMARY KEY,
      family_id uuid NOT NULL,
      user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      revoked_at timestamptz
    )`);
    this.addSql(`CREATE INDEX refresh_tokens_family ON auth.refresh_tokens (family_id)`);
    this.addSql(`CREATE TABLE auth.api_tokens (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
      name text NOT NULL,
      secret_hash bytea NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz,
      expires_at timestamptz,
      revoked_at timestamptz
    )`);
    this.addSql(`CREATE INDEX api_tokens_user ON auth.api_tokens (user_id, created_at)`);
  }

  override down(): void {
    this.addSql(`DROP TABLE auth.api_tokens`);
    this.addSql(`DROP TABLE auth.refresh_tokens`);
    this.addSql(`DROP TABLE auth.users`);
  }
}
