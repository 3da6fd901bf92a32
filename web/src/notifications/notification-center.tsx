import { useEffect, useId, useRef, useState } from "react";
import { formatDay, formatTime } from "../tasks/format.js";
import { BellIcon, useNotifications } from "./notifications.js";

/**
 * The bell in the header: fired reminders, unread first count. Its popover closes with Esc (the
 * focus goes back to the bell), with a click outside it, and when the focus moves elsewhere (quick
 * add's `q`, Tab), so it never sits over the field being typed in.
 */
export function NotificationCenter({ onOpenTask }: { onOpenTask(taskId: string): void }) {
  const { reminders, markAllRead } = useNotifications();
  const [open, setOpen] = useState(false);
  const unread = reminders.filter((r) => !r.read).length;
  const root = useRef<HTMLDivElement>(null);
  const bell = useRef<HTMLButtonElement>(null);
  const panelId = useId();

  const close = (refocus = false) => {
    setOpen(false);
    markAllRead();
    if (refocus) bell.current?.focus();
  };
  const closeRef = useRef(close);
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
          <h3>Reminders</h3>
          {reminders.length === 0 ? (
            <p className="muted">No reminders yet.</p>
          ) : (
            <ul>
              {reminders.map((r) => (
                <li key={r.id} className={r.read ? "" : "unread"}>
                  <button
                    type="button"
                    className="link"
                    onClick={() => {
                      onOpenTask(r.taskId);
                      close();
                    }}
                  >
                    {r.title}
                  </button>
                  <span className="muted">
                    {formatDay(r.firedAt)} {formatTime(r.firedAt)}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}
