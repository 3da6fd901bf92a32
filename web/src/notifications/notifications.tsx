// In-app notifications: short-lived toasts (with an optional action such as Undo) and a list of
// fired reminders that stays until read.
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";

export interface Toast {
  id: number;
  text: string;
  tone?: "info" | "reminder" | "error";
  action?: { label: string; run(): void };
}

export interface ReminderNotice {
  id: string;
  taskId: string;
  title: string;
  firedAt: Date;
  read: boolean;
}

interface Notifications {
  toasts: Toast[];
  reminders: ReminderNotice[];
  toast(toast: Omit<Toast, "id">, ttlMs?: number): void;
  dismiss(id: number): void;
  addReminder(notice: Omit<ReminderNotice, "read">): void;
  markAllRead(): void;
}

const NotificationsContext = createContext<Notifications | undefined>(undefined);

export function NotificationsProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [reminders, setReminders] = useState<ReminderNotice[]>([]);
  const nextId = useRef(1);

  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((t) => t.id !== id)), []);
  const toast = useCallback(
    (t: Omit<Toast, "id">, ttlMs = 6000) => {
      const id = nextId.current++;
      setToasts((all) => [...all.slice(-3), { ...t, id }]);
      setTimeout(() => dismiss(id), ttlMs);
    },
    [dismiss],
  );
  const addReminder = useCallback((notice: Omit<ReminderNotice, "read">) => {
    // The same firing can arrive twice (replay after a reconnect): keep one.
    setReminders((all) => (all.some((r) => r.id === notice.id) ? all : [{ ...notice, read: false }, ...all].slice(0, 50)));
  }, []);
  const markAllRead = useCallback(() => setReminders((all) => all.map((r) => ({ ...r, read: true }))), []);

  const value = useMemo(() => ({ toasts, reminders, toast, dismiss, addReminder, markAllRead }), [toasts, reminders, toast, dismiss, addReminder, markAllRead]);
  return <NotificationsContext.Provider value={value}>{children}</NotificationsContext.Provider>;
}

export function useNotifications(): Notifications {
  const value = useContext(NotificationsContext);
  if (!value) throw new Error("useNotifications outside NotificationsProvider");
  return value;
}

export function BellIcon() {
  return (
    <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden className="bell-icon">
      <path d="M12 3a6 6 0 0 0-6 6v3.5L4.5 16h15L18 12.5V9a6 6 0 0 0-6-6zm-2 15a2 2 0 0 0 4 0" fill="none" stroke="currentColor" strokeWidth="1.7" strokeLinejoin="round" />
    </svg>
  );
}

export function Toasts() {
  const { toasts, dismiss } = useNotifications();
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.tone ?? "info"}`}>
          {t.tone === "reminder" && <BellIcon />}
          <span>{t.text}</span>
          {t.action && (
            <button
              type="button"
              className="link"
              onClick={() => {
                t.action!.run();
                dismiss(t.id);
              }}
            >
              {t.action.label}
            </button>
          )}
          <button type="button" className="icon" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
