import { ApiToken, EmailToken, RefreshToken, User } from "../auth/entities.js";
import { CalendarFeed } from "../calendar/entities.js";
import { Migration20261125100000_auth } from "./Migration20261125100000_auth.js";
import { Migration20261203170000_accounts_hardening } from "./Migration20261203170000_accounts_hardening.js";
import { Migration20261204170000_calendar_feeds } from "./Migration20261204170000_calendar_feeds.js";
import { Migration20261205130000_credentials_notify } from "./Migration20261205130000_credentials_notify.js";
import { Migration20261205170000_session_epoch_notify } from "./Migration20261205170000_session_epoch_notify.js";

/** In order; committed migrations are never edited, only appended. */
export const migrations = [
  { name: "Migration20261125100000_auth", class: Migration20261125100000_auth },
  { name: "Migration20261203170000_accounts_hardening", class: Migration20261203170000_accounts_hardening },
  { name: "Migration20261204170000_calendar_feeds", class: Migration20261204170000_calendar_feeds },
  { name: "Migration20261205130000_credentials_notify", class: Migration20261205130000_credentials_notify },
  { name: "Migration20261205170000_session_epoch_notify", class: Migration20261205170000_session_epoch_notify },
];

/** The tables these migrations leave, for both modules that open the auth schema. */
export const entities = [User, RefreshToken, ApiToken, EmailToken, CalendarFeed];
