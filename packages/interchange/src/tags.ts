import type { Unmapped } from "./plan.js";

// taskmesh's tag rule (task.proto): letters, digits, '_', '.', '/', '-'; 1 to 64 characters; lower case.
const NOT_ALLOWED = /[^\p{L}\p{N}_./-]+/gu;
const MAX_TAG = 64;
const MAX_TAGS = 30;

/** Tags as taskmesh keeps them; a name that had to change, or did not fit, is reported. */
export function cleanTags(names: readonly string[], where: string, unmapped: Unmapped[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    const tag = name.trim().toLowerCase().replace(/\s+/g, "-").replace(NOT_ALLOWED, "").slice(0, MAX_TAG);
    if (!tag) {
      unmapped.push({ where, field: "tag", value: name, reason: "no letters or digits a tag can keep" });
      continue;
    }
    if (tag !== name.toLowerCase()) unmapped.push({ where, field: "tag", value: name, reason: `kept as "${tag}" (tags hold letters, digits, _ . / -)` });
    if (!out.includes(tag)) out.push(tag);
  }
  if (out.length > MAX_TAGS) {
    unmapped.push({ where, field: "tag", value: out.slice(MAX_TAGS).join(", "), reason: `a task has at most ${MAX_TAGS} tags` });
    out.length = MAX_TAGS;
  }
  return out;
}
