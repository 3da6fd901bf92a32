// Which reader a file goes to: named by the caller, or told apart by its content.
import { ImportFormatError, type ImportFormat, type ImportPlan } from "./plan.js";
import { looksLikeTaskmeshExport, readTaskmeshExport } from "./taskmesh-export.js";
import { looksLikeTaskwarrior, parseTaskwarriorText, readTaskwarrior } from "./taskwarrior.js";
import { looksLikeTodoistCsv, readTodoistCsv } from "./todoist-csv.js";
import { looksLikeTodoistJson, readTodoistJson } from "./todoist-json.js";

export interface ImportFileOptions {
  /** Unset: told apart by the content. */
  format?: ImportFormat;
  /** The file's name: a Todoist CSV holds one project, named like its file. */
  fileName?: string;
}

export function readImportFile(text: string, options: ImportFileOptions = {}): ImportPlan {
  const format = options.format ?? detect(text);
  switch (format) {
    case "todoist-csv":
      return readTodoistCsv(text, projectNameOf(options.fileName));
    case "todoist-json":
      return readTodoistJson(json(text));
    case "taskwarrior":
      return readTaskwarrior(parseTaskwarriorText(text));
    case "taskmesh":
      return readTaskmeshExport(json(text));
  }
}

function detect(text: string): ImportFormat {
  if (looksLikeTodoistCsv(text)) return "todoist-csv";
  const trimmed = text.trim().replace(/^\uFEFF/, "");
  if (trimmed.startsWith("{")) {
    // Older Taskwarrior writes one object per line: the file as a whole is then not one JSON value.
    const firstLine = trimmed.split("\n", 1)[0]!;
    if (firstLine !== trimmed && parses(firstLine.replace(/,\s*$/, "")) && !parses(trimmed)) return "taskwarrior";
    const data = json(trimmed);
    if (looksLikeTaskmeshExport(data)) return "taskmesh";
    if (looksLikeTodoistJson(data)) return "todoist-json";
    if (typeof data === "object" && data !== null && "uuid" in data) return "taskwarrior";
  } else if (trimmed.startsWith("[") && looksLikeTaskwarrior(json(trimmed))) return "taskwarrior";
  throw new ImportFormatError("not a file this imports: a Todoist CSV or JSON export, Taskwarrior's `task export`, or a taskmesh export");
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function json(text: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (err) {
    const message = (err as Error).message;
    const line = errorLine(text, message);
    throw new ImportFormatError(`not valid JSON (${message})`, line ? `line ${line}` : undefined);
  }
}

// V8 names the position ("at position 12") or quotes the text around it ("…"content": }]}" is not valid JSON).
function errorLine(text: string, message: string): number | undefined {
  const at = /position (\d+)/.exec(message);
  if (at) return text.slice(0, Number(at[1])).split("\n").length;
  const quoted = /"(\.\.\.)?([\s\S]*?)(\.\.\.)?" is not valid JSON/.exec(message);
  const index = quoted ? text.indexOf(quoted[2]!) : -1;
  return index < 0 ? undefined : text.slice(0, index + (quoted![1] ? Math.min(10, quoted![2]!.length) : 0)).split("\n").length;
}

/** "Home renovation.csv" → "Home renovation"; Todoist names exports after the project. */
export function projectNameOf(fileName: string | undefined): string {
  const base = (fileName ?? "")
    .split(/[\\/]/)
    .pop()!
    .replace(/\.csv$/i, "")
    .replace(/[_]+/g, " ")
    .trim();
  return base.slice(0, 120) || "Imported from Todoist";
}
