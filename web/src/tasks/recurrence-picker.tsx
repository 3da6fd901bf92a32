// Repeat rule of a task: common presets from its due date, or any phrase the recurrence service
// understands ("every 2nd tuesday", "every 3 days after completion"), with a readable summary and
// the next dates.
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { skipToken, useQuery } from "@connectrpc/connect-query";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { RecurrenceMode } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { useState } from "react";
import { recurrenceClient, recurrenceTransport } from "../api/clients.js";
import { Temporal } from "temporal-polyfill";
import { browserTimeZone, formatDate, formatInstant } from "./format.js";
import type { RuleValue } from "./task-form.js";
import { isTimeZone, toWallClock } from "./zoned.js";

const WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"] as const;

/** Presets on the first occurrence's calendar date (YYYY-MM-DD) as the task's zone has it. */
function presets(date: string): { label: string; rrule: string }[] {
  const day = Temporal.PlainDate.from(date);
  // Noon UTC names the same calendar day in any locale's formatting.
  const noon = new Date(`${date}T12:00:00Z`);
  const weekday = noon.toLocaleDateString(undefined, { weekday: "long", timeZone: "UTC" });
  const month = noon.toLocaleDateString(undefined, { month: "long", timeZone: "UTC" });
  return [
    { label: "Every day", rrule: "FREQ=DAILY" },
    { label: "Every weekday (Mon–Fri)", rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR" },
    { label: `Every week on ${weekday}`, rrule: `FREQ=WEEKLY;BYDAY=${WEEKDAYS[day.dayOfWeek - 1]}` },
    day.day >= 29
      ? { label: `Every month on day ${day.day} (or the last day)`, rrule: `FREQ=MONTHLY;BYMONTHDAY=${upTo(day.day)};BYSETPOS=-1` }
      : { label: `Every month on day ${day.day}`, rrule: `FREQ=MONTHLY;BYMONTHDAY=${day.day}` },
    day.month === 2 && day.day === 29
      ? { label: `Every year on ${month} 29 (or the 28th)`, rrule: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1" }
      : { label: `Every year on ${month} ${day.day}`, rrule: `FREQ=YEARLY;BYMONTH=${day.month};BYMONTHDAY=${day.day}` },
  ];
}

/**
 * BYMONTHDAY=28,…,d for BYSETPOS=-1: the d-th, or the last day of a shorter month. A plain
 * BYMONTHDAY=31 would skip every month without a 31st (RFC 5545), which a person picking "the 31st"
 * does not expect.
 */
const upTo = (d: number) => Array.from({ length: d - 27 }, (_, i) => 28 + i).join(",");

interface Props {
  value?: RuleValue;
  onChange(value: RuleValue | undefined): void;
  /** The task's due: the first occurrence. */
  start?: { case: "startTime"; value: Date } | { case: "startDate"; value: string };
  timeZone: string;
}

export function RecurrencePicker({ value, onChange, start, timeZone: typed }: Props) {
  // The zone field may hold a half-typed name: the viewer's zone stands in until it is one.
  const timeZone = isTimeZone(typed) ? typed : browserTimeZone();
  const [phrase, setPhrase] = useState("");
  const [error, setError] = useState<string>();
  const firstDate = start ? (start.case === "startTime" ? toWallClock(start.value, timeZone).date : start.value) : toWallClock(new Date(), timeZone).date;
  const options = presets(firstDate);
  const rule = value ? { rrule: value.rrule, mode: value.mode } : undefined;
  const previewStart = start?.case === "startTime" ? { case: "startTime" as const, value: timestampFromDate(start.value) } : { case: "startDate" as const, value: start?.value ?? firstDate };
  // Read in the page (recurrenceTransport): it needs no network, offline included.
  const preview = useQuery(RecurrenceService.method.previewOccurrences, rule ? { recurrence: rule, start: previewStart, timeZone, count: 5 } : skipToken, {
    retry: false,
    transport: recurrenceTransport,
    networkMode: "always",
  });

  async function applyPhrase() {
    if (!phrase.trim()) return;
    try {
      const res = await recurrenceClient.parseRecurrence({ text: phrase.trim() });
      if (res.recurrence) onChange({ rrule: res.recurrence.rrule, mode: res.recurrence.mode });
      setError(undefined);
      setPhrase("");
    } catch (err) {
      setError(ConnectError.from(err).rawMessage);
    }
  }

  const selected = !value ? "" : (options.find((o) => o.rrule === value.rrule)?.rrule ?? "custom");
  return (
    <fieldset className="recurrence-picker">
      <legend>Repeat</legend>
      <select
        aria-label="Repeat"
        value={selected}
        onChange={(e) => {
          const next = e.target.value;
          if (next === "") onChange(undefined);
          else if (next !== "custom") onChange({ rrule: next, mode: value?.mode ?? RecurrenceMode.SCHEDULE });
        }}
      >
        <option value="">Does not repeat</option>
        {options.map((o) => (
          <option key={o.rrule} value={o.rrule}>
            {o.label}
          </option>
        ))}
        <option value="custom">{selected === "custom" && preview.data ? preview.data.summary : "Custom…"}</option>
      </select>
      <div className="phrase-row">
        <input
          aria-label="Repeat rule in words"
          placeholder="or type: every 2nd tuesday, every 3 days after completion"
          value={phrase}
          onChange={(e) => setPhrase(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              void applyPhrase();
            }
          }}
        />
        <button type="button" onClick={() => void applyPhrase()} disabled={!phrase.trim()}>
          Set
        </button>
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {value && (
        <label className="inline">
          <input
            type="checkbox"
            checked={value.mode === RecurrenceMode.AFTER_COMPLETION}
            onChange={(e) => onChange({ ...value, mode: e.target.checked ? RecurrenceMode.AFTER_COMPLETION : RecurrenceMode.SCHEDULE })}
          />
          Count from when I complete it
        </label>
      )}
      {value && preview.data && (
        <div className="recurrence-summary">
          <p className="summary">
            <strong>{preview.data.summary}</strong>
          </p>
          <p className="muted">
            Next:{" "}
            {preview.data.occurrences.map((o) => (o.when.case === "time" ? formatInstant(timestampDate(o.when.value), timeZone) : o.when.case === "date" ? formatDate(o.when.value) : "")).join(" · ")}
          </p>
        </div>
      )}
      {value && preview.error && <p className="field-error">{preview.error.rawMessage}</p>}
    </fieldset>
  );
}
