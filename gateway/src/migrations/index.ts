import { Migration20261125100000_auth } from "./Migration20261125100000_auth.js";

/** In order; committed migrations are never edited, only appended. */
export const migrations = [{ name: "Migration20261125100000_auth", class: Migration20261125100000_auth }];
