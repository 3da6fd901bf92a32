import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ReminderSchema, type Reminder } from "@taskmesh/proto/taskmesh/tasks/v1/task_pb.js";
import { useState } from "react";
import { beforeMidnight, formatReminder } from "./format.js";
import { fromWallClock, toWallClock } from "./zoned.js";

const UNITS = [
  { value: 60, label: "minutes" },
  { value: 3600, label: "hours" },
  { value: 86400, label: "days" },
  { value: 604800, label: "weeks" },
];

interface Props {
  reminders: Reminder[];
  onChange(reminders: Reminder[]): void;
  hasDue: boolean;
  /** The due is a date without a time: "before" is days before, at a time of day. */
  allDay?: boolean;
  timeZone: string;
}

/** Reminders at a fixed time, or a while before the due (they move when the due moves). */
export function RemindersEditor({ reminders, onChange, hasDue, allDay = false, timeZone }: Props) {
  const [kind, setKind] = useState<"before" | "at">(hasDue ? "before" : "at");
  const [amount, setAmount] = useState(15);
  const [unit, setUnit] = useState(60);
  const [days, setDays] = useState(1);
  const [dayTime, setDayTime] = useState("09:00");
  const [at, setAt] = useState(() => {
    const soon = toWallClock(new Date(Date.now() + 3600_000), timeZone);
    return `${soon.date}T${soon.time}`;
  });

  function add() {
    const trigger =
      kind === "before"
        ? ({ case: "beforeDue", value: { seconds: BigInt(allDay ? beforeMidnight(days, dayTime) : Math.max(0, amount) * unit) } } as const)
        : ({ case: "absoluteTime", value: timestampFromDate(fromWallClock(at.slice(0, 10), at.slice(11, 16), timeZone)) } as const);
    onChange([...reminders, create(ReminderSchema, { trigger })]);
  }

  return (
    <fieldset className="reminders-editor">
      <legend>Reminders</legend>
      {reminders.length > 0 && (
        <ul className="reminder-list">
          {reminders.map((r, i) => (
            <li key={r.id || i}>
              <span>{formatReminder(r, allDay, timeZone)}</span>
              <button type="button" className="icon" aria-label={`Remove reminder ${formatReminder(r, allDay, timeZone)}`} onClick={() => onChange(reminders.filter((_, j) => j !== i))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="reminder-add">
        <select aria-label="Reminder kind" value={kind} onChange={(e) => setKind(e.target.value as "before" | "at")}>
          <option value="before" disabled={!hasDue}>
            Before due
          </option>
          <option value="at">At a time</option>
        </select>
        {kind === "before" && allDay ? (
          <>
            <input type="number" min={1} aria-label="Days before" value={days} onChange={(e) => setDays(Number(e.target.value))} className="narrow" />
            <span>{days === 1 ? "day" : "days"} before at</span>
            <input type="time" aria-label="Reminder time" value={dayTime} onChange={(e) => setDayTime(e.target.value || "09:00")} />
          </>
        ) : kind === "before" ? (
          <>
            <input type="number" min={0} aria-label="Reminder amount" value={amount} onChange={(e) => setAmount(Number(e.target.value))} className="narrow" />
            <select aria-label="Reminder unit" value={unit} onChange={(e) => setUnit(Number(e.target.value))}>
              {UNITS.map((u) => (
                <option key={u.value} value={u.value}>
                  {u.label}
                </option>
              ))}
            </select>
          </>
        ) : (
          <input type="datetime-local" aria-label="Remind at" value={at} onChange={(e) => setAt(e.target.value)} />
        )}
        <button type="button" onClick={add}>
          Add reminder
        </button>
      </div>
    </fieldset>
  );
}
