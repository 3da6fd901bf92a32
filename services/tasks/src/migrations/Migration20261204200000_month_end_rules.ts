import { Migration } from "@mikro-orm/migrations";

// Repeat rules used to be evaluated with an unwritten reading of days a month lacks: a monthly rule on
// the 29th–31st (a single BYMONTHDAY, or none and a series starting on such a day) fell on the last
// day of shorter months, and a yearly one on Feb 29 on Feb 28 of common years. Rules are now read as
// RFC 5545 reads them (those months and years are skipped), so the stored rules that relied on the
// old reading get it written out as a standard rule — BYMONTHDAY=28,…,d;BYSETPOS=-1 — and keep
// their dates. Self-contained: a migration must not change when the recurrence service does.

const AFTER_COMPLETION = 2;

/** The canonical order of the recurrence service's rules, so a rewritten rule reads like a new one. */
const ORDER = ["RSCALE", "SKIP", "FREQ", "INTERVAL", "COUNT", "UNTIL", "BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY", "BYHOUR", "BYMINUTE", "BYSECOND", "BYSETPOS", "WKST"];

const upTo = (d: number) => Array.from({ length: d - 27 }, (_, i) => 28 + i).join(",");

/**
 * The rule with the old month-end reading written out, or undefined when the old reading did not
 * change its dates. `start` is the series' first date (YYYY-MM-DD) in the task's zone.
 */
export function explicitMonthEnd(rrule: string, mode: number, start: string | null): string | undefined {
  const parts = new Map<string, string>();
  for (const part of rrule
    .trim()
    .replace(/^rrule:/i, "")
    .replace(/;+$/, "")
    .split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) return undefined;
    parts.set(
      part.slice(0, eq).trim().toUpperCase(),
      part
        .slice(eq + 1)
        .trim()
        .toUpperCase(),
    );
  }
  // The old reading left RSCALE rules and rules that pick days by other parts as written.
  if (["RSCALE", "BYDAY", "BYSETPOS", "BYYEARDAY", "BYWEEKNO"].some((k) => parts.has(k))) return undefined;
  // With several times of day the old reading kept only a month's last one: an accident, not a meaning.
  if (["BYHOUR", "BYMINUTE", "BYSECOND"].some((k) => parts.get(k)?.includes(","))) return undefined;
  const named = parts.get("BYMONTHDAY");
  if (named !== undefined && !/^\d+$/.test(named)) return undefined;
  // Without BYMONTHDAY the day comes from DTSTART: the series' start in SCHEDULE mode; after
  // completion a plain rule adds months to the completion date and never used the old reading.
  const [, startMonth, startDay] = (start ?? "").split("-").map(Number);
  const day = named !== undefined ? Number(named) : mode !== AFTER_COMPLETION ? startDay : undefined;
  if (day === undefined || !(day >= 29 && day <= 31)) return undefined;
  const freq = parts.get("FREQ");
  if (freq === "MONTHLY") {
    parts.set("BYMONTHDAY", upTo(day));
  } else if (freq === "YEARLY") {
    const month = parts.get("BYMONTH") ?? (named === undefined && mode !== AFTER_COMPLETION ? String(startMonth) : undefined);
    // Only Feb 29 is missing in some years; other months have their 29th–31st every year or never.
    if (month === undefined || Number(month) !== 2 || day !== 29) return undefined;
    parts.set("BYMONTH", "2");
    parts.set("BYMONTHDAY", upTo(29));
  } else {
    return undefined;
  }
  parts.set("BYSETPOS", "-1");
  const rank = (k: string) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length);
  return [...parts]
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(";");
}

export class Migration20261204200000_month_end_rules extends Migration {
  override name = "Migration20261204200000_month_end_rules";

  override async up(): Promise<void> {
    const rows = (await this.execute(`
      SELECT id, recurrence->>'rrule' AS rrule, coalesce((recurrence->>'mode')::int, 1) AS mode,
             to_char(coalesce((recurrence->'start'->>'date')::date,
                              ((recurrence->'start'->>'time')::timestamptz AT TIME ZONE time_zone)::date,
                              due_date, (due_time AT TIME ZONE time_zone)::date), 'YYYY-MM-DD') AS start
        FROM tasks.tasks
       WHERE recurrence->>'rrule' ~* 'FREQ=(MONTHLY|YEARLY)'`)) as Array<{ id: string; rrule: string; mode: number; start: string | null }>;
    for (const row of rows) {
      const rrule = explicitMonthEnd(row.rrule, row.mode, row.start);
      if (rrule) await this.execute(`UPDATE tasks.tasks SET recurrence = jsonb_set(recurrence, '{rrule}', to_jsonb(?::text)) WHERE id = ?`, [rrule, row.id]);
    }
  }

  override down(): void {
    // The written-out rules mean under RFC 5545 what the old ones meant before: nothing to undo.
  }
}
