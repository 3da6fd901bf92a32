// Repeat rule of a task: common presets from its due date, or any phrase the recurrence service
// understands ("every 2nd tuesday", "every 3 days after completion"), with a readable summary and
// the next dates.
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { skipToken, useQuery } from "@connectrpc/connect-query";
import { RecurrenceService } from "@taskmesh/proto/taskmesh/recurrence/v1/recurrence_service_pb.js";
import { RecurrenceMode } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { useState } from "react";
import { recurrenceClient } from "../api/clients.js";
import { formatDay, formatTime } from "./format.js";
import type { RuleValue } from "./task-form.js";

const WEEKDAYS = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"] as const;

function presets(anchor: Date): { label: string; rrule: string }[] {
  const weekday = anchor.toLocaleDateString(undefined, { weekday: "long" });
  const day = anchor.getDate();
  const month = anchor.toLocaleDateString(undefined, { month: "long" });
  return [
    { label: "Every day", rrule: "FREQ=DAILY" },
    { label: "Every weekday (Mon–Fri)", rrule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR" },
    { label: `Every week on ${weekday}`, rrule: `FREQ=WEEKLY;BYDAY=${WEEKDAYS[anchor.getDay()]}` },
    { label: `Every month on day ${day}`, rrule: `FREQ=MONTHLY;BYMONTHDAY=${day}` },
    { label: `Every year on ${month} ${day}`, rrule: `FREQ=YEARLY;BYMONTH=${anchor.getMonth() + 1};BYMONTHDAY=${day}` },
  ];
}

interface Props {
  value?: RuleValue;
  onChange(value: RuleValue | undefined): void;
  /** The task's due: the first occurrence. */
  start?: { case: "startTime"; value: Date } | { case: "startDate"; value: string };
  timeZone: string;
}

export function RecurrencePicker({ value, onChange, start, timeZone }: Props) {
  const [phrase, setPhrase] = useState("");
  const [error, setError] = useState<string>();
  const anchor = start ? (start.case === "startTime" ? start.value : new Date(`${start.value}T00:00`)) : new Date();
  const options = presets(anchor);
  const rule = value ? { rrule: value.rrule, mode: value.mode } : undefined;
  const previewStart = start?.case === "startTime" ? { case: "startTime" as const, value: timestampFromDate(start.value) } : { case: "startDate" as const, value: start?.value ?? new Date().toISOString().slice(0, 10) };
  const preview = useQuery(RecurrenceService.method.previewOccurrences, rule ? { recurrence: rule, start: previewStart, timeZone, count: 5 } : skipToken, { retry: false });

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
            {preview.data.occurrences
              .map((o) => (o.when.case === "time" ? `${formatDay(timestampDate(o.when.value))} ${formatTime(timestampDate(o.when.value))}` : o.when.case === "date" ? formatDay(new Date(`${o.when.value}T00:00`)) : ""))
              .join(" · ")}
          </p>
        </div>
      )}
      {value && preview.error && <p className="field-error">{preview.error.rawMessage}</p>}
    </fieldset>
  );
}
