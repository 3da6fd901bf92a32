import { useState } from "react";
import { formatDay, formatTime } from "../tasks/format.js";
import { useNotifications } from "./notifications.js";

/** The bell in the header: fired reminders, unread first count. */
export function NotificationCenter({ onOpenTask }: { onOpenTask(taskId: string): void }) {
  const { reminders, markAllRead } = useNotifications();
  const [open, setOpen] = useState(false);
  const unread = reminders.filter((r) => !r.read).length;
  return (
    <div className="notification-center">
      <button
        type="button"
        className="bell"
        aria-expanded={open}
        aria-label={unread ? `Notifications, ${unread} unread` : "Notifications"}
        onClick={() => {
          setOpen(!open);
          if (open) markAllRead();
        }}
      >
        <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden>
          <path d="M12 3a6 6 0 0 0-6 6v3.5L4.5 16h15L18 12.5V9a6 6 0 0 0-6-6zm-2 15a2 2 0 0 0 4 0" fill="none" stroke="currentColor" strokeWidth="1.7" strokeLinejoin="round" />
        </svg>
        {unread > 0 && <span className="badge">{unread}</span>}
      </button>
      {open && (
        <div className="notification-panel" role="dialog" aria-label="Notifications">
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
                      setOpen(false);
                      markAllRead();
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
