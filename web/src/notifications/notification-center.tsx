import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ReminderState, type Notification } from "@taskmesh/proto/taskmesh/reminders/v1/reminder_service_pb.js";
import { useEffect, useId, useRef, useState } from "react";
import { usePushSubscription } from "../push/push-subscription.js";
import { useNotificationActions } from "../push/use-notification-actions.js";
import { formatInstant } from "../tasks/format.js";
import { SNOOZE_MINUTES, useInbox } from "./inbox.js";
import { BellIcon } from "./notifications.js";

const STATE_NOTES: Partial<Record<ReminderState, string>> = {
  [ReminderState.SNOOZED]: "snoozed",
  [ReminderState.DISMISSED]: "dismissed",
};

/**
 * The bell in the header: the inbox of fired reminders (the server's, the same on every device) with
 * its unread count, Snooze and Dismiss per reminder, and push notifications turned on or off. Its popover closes with Esc (the
 * focus goes back to the bell), with a click outside it, and when the focus moves elsewhere (quick
 * add's `q`, Tab), so it never sits over the field being typed in.
 */
export function NotificationCenter({ onOpenTask }: { onOpenTask(taskId: string): void }) {
  const inbox = useInbox();
  const { notifications, unread } = inbox;
  const push = usePushSubscription();
  useNotificationActions(inbox, onOpenTask);
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const bell = useRef<HTMLButtonElement>(null);
  const panelId = useId();

  const close = (refocus = false) => {
    setOpen(false);
    if (inbox.unread > 0) void inbox.markAllRead();
    if (refocus) bell.current?.focus();
  };
  const closeRef = useRef(close);
  const act = (n: Notification) => n.state === ReminderState.FIRED || n.state === ReminderState.SNOOZED;
  closeRef.current = close;

  useEffect(() => {
    if (!open) return;
    const inside = (target: EventTarget | null) => target instanceof Node && !!root.current?.contains(target);
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      // Handled here: the page's own Esc (closing the editor) waits for the next press.
      e.preventDefault();
      closeRef.current(true);
    };
    const onPointer = (e: PointerEvent) => !inside(e.target) && closeRef.current();
    const onFocus = (e: FocusEvent) => !inside(e.target) && closeRef.current();
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onPointer, true);
    document.addEventListener("focusin", onFocus);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onPointer, true);
      document.removeEventListener("focusin", onFocus);
    };
  }, [open]);

  return (
    <div className="notification-center" ref={root}>
      <button
        ref={bell}
        type="button"
        className="bell"
        aria-expanded={open}
        aria-haspopup="dialog"
        aria-controls={open ? panelId : undefined}
        aria-label={unread ? `Notifications, ${unread} unread` : "Notifications"}
        onClick={() => (open ? close() : setOpen(true))}
      >
        <BellIcon />
        {unread > 0 && (
          <span className="badge" aria-hidden>
            {unread}
          </span>
        )}
      </button>
      {open && (
        <div id={panelId} className="notification-panel" role="dialog" aria-label="Notifications" tabIndex={-1}>
          <div className="panel-head">
            <h3>Reminders</h3>
            <PushToggle {...push} />
          </div>
          {notifications.length === 0 ? (
            <p className="muted">No reminders yet.</p>
          ) : (
            <ul>
              {notifications.map((n) => (
                <li key={n.id} className={n.read ? "" : "unread"}>
                  <button
                    type="button"
                    className="link"
                    onClick={() => {
                      onOpenTask(n.taskId);
                      close();
                    }}
                  >
                    {n.taskTitle}
                  </button>
                  <span className="muted">
                    {n.fireTime && formatInstant(timestampDate(n.fireTime))}
                    {STATE_NOTES[n.state] && ` · ${STATE_NOTES[n.state]}`}
                  </span>
                  {act(n) && (
                    <span className="notification-actions">
                      <button type="button" className="link" onClick={() => void inbox.snooze(n)} aria-label={`Snooze ${n.taskTitle} ${SNOOZE_MINUTES} minutes`}>
                        Snooze {SNOOZE_MINUTES} min
                      </button>
                      <button type="button" className="link" onClick={() => void inbox.dismiss(n)} aria-label={`Dismiss ${n.taskTitle}`}>
                        Dismiss
                      </button>
                    </span>
                  )}
                </li>
              ))}
            </ul>
          )}
          <PushNote {...push} />
        </div>
      )}
    </div>
  );
}

type Push = ReturnType<typeof usePushSubscription>;

/** Push for this browser, on or off, beside the panel's title (short: the panel must not grow over quick add). */
function PushToggle({ state, turnOn, turnOff }: Push) {
  if (state === "on") {
    return (
      <button type="button" className="link" onClick={() => void turnOff()} title="Reminders reach this browser even when taskmesh is closed">
        Turn off notifications
      </button>
    );
  }
  if (state !== "off" && state !== "working") return null;
  return (
    <button type="button" className="link" disabled={state === "working"} onClick={() => void turnOn()} title="Get reminders when taskmesh is closed">
      Turn on notifications
    </button>
  );
}

/** Why push cannot be turned on here, when that is the case. */
function PushNote({ state, problem }: Push) {
  const note =
    state === "blocked"
      ? "Notifications are blocked for this site in the browser's settings."
      : state === "unavailable"
        ? "This server does not send push notifications."
        : problem && `Could not turn notifications on: ${problem}`;
  return note ? <p className="push-note muted">{note}</p> : null;
}
