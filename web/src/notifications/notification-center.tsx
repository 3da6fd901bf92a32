import { useState } from "react";
import { formatDay, formatTime } from "../tasks/format.js";
import { BellIcon, useNotifications } from "./notifications.js";

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
        <BellIcon />
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
