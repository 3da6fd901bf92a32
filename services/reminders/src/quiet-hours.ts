import { Temporal } from "temporal-polyfill";

export interface QuietHours {
  /** "HH:MM" wall-clock times in `timeZone`; start after end spans midnight. */
  start: string;
  end: string;
  timeZone: string;
}

/**
 * When a delivery due at `at` may go out: `at` itself, or the end of the quiet hours it falls in
 * (on that local day or the next, resolved in the zone across DST changes).
 */
export function afterQuietHours(at: Date, quiet: QuietHours | undefined): Date {
  if (!quiet || quiet.start === quiet.end) return at;
  const local = Temporal.Instant.fromEpochMilliseconds(at.getTime()).toZonedDateTimeISO(quiet.timeZone);
  const time = local.toPlainTime();
  const start = Temporal.PlainTime.from(quiet.start);
  const end = Temporal.PlainTime.from(quiet.end);
  const cmp = Temporal.PlainTime.compare;
  let endDay: Temporal.PlainDate | undefined;
  if (cmp(start, end) < 0) {
    if (cmp(time, start) >= 0 && cmp(time, end) < 0) endDay = local.toPlainDate();
  } else if (cmp(time, start) >= 0) {
    endDay = local.toPlainDate().add({ days: 1 });
  } else if (cmp(time, end) < 0) {
    endDay = local.toPlainDate();
  }
  if (!endDay) return at;
  return new Date(endDay.toZonedDateTime({ timeZone: quiet.timeZone, plainTime: end }).epochMilliseconds);
}
