import { useCallback, useState } from "react";

const KEY = "taskmesh.savedFilters";

function load(): string[] {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(KEY) ?? "[]");
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  } catch {
    return [];
  }
}

/** Filter queries the user kept, in this browser. */
export function useSavedFilters() {
  const [saved, setSaved] = useState(load);
  const update = useCallback((next: string[]) => {
    localStorage.setItem(KEY, JSON.stringify(next));
    setSaved(next);
  }, []);
  return {
    saved,
    save: (query: string) => update([...saved.filter((q) => q !== query), query]),
    remove: (query: string) => update(saved.filter((q) => q !== query)),
  };
}
