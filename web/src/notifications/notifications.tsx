// In-app toasts: short-lived messages with optional actions such as Undo (fired reminders live in
// the server's inbox, inbox.ts).
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";

export interface Toast {
  id: number;
  text: string;
  tone?: "info" | "reminder" | "error";
  actions?: { label: string; run(): void }[];
}

interface Notifications {
  toasts: Toast[];
  toast(toast: Omit<Toast, "id">, ttlMs?: number): void;
  dismiss(id: number): void;
}

const NotificationsContext = createContext<Notifications | undefined>(undefined);

export function NotificationsProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
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
  const value = useMemo(() => ({ toasts, toast, dismiss }), [toasts, toast, dismiss]);
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
          {t.actions?.map((action) => (
            <button
              key={action.label}
              type="button"
              className="link"
              onClick={() => {
                action.run();
                dismiss(t.id);
              }}
            >
              {action.label}
            </button>
          ))}
          <button type="button" className="icon" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
