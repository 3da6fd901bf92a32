import { useEffect, useRef } from "react";

export type Shortcuts = Record<string, () => void>;

// A checkbox or radio takes no letters: the shortcuts stay on while one has the focus.
const CHOICES = ["checkbox", "radio"];

/** The target takes what is typed: a text field, a text area, a select, or editable content. */
export const typing = (target: EventTarget | null): target is HTMLElement =>
  target instanceof HTMLElement &&
  (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || (target instanceof HTMLInputElement && !CHOICES.includes(target.type)));

/**
 * Single-key shortcuts, ignored while typing in a field (Escape always reaches its handler) and while
 * a modal dialog is open: its keys are its own (Escape closes it, a letter must not act on the list
 * behind it).
 */
export function useShortcuts(shortcuts: Shortcuts): void {
  const current = useRef(shortcuts);
  current.current = shortcuts;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.metaKey || e.ctrlKey || e.altKey || e.defaultPrevented || document.querySelector("dialog:modal")) return;
      if (e.key !== "Escape" && typing(e.target)) return;
      const handler = current.current[e.key];
      if (!handler) return;
      e.preventDefault();
      handler();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
