export {
  IMPORT_FORMATS,
  ImportFormatError,
  type ImportFormat,
  type ImportPlan,
  type ImportedDue,
  type ImportedProject,
  type ImportedRecurrence,
  type ImportedTask,
  type PriorityName,
  type Unmapped,
} from "./plan.js";
export { readImportFile, projectNameOf, type ImportFileOptions } from "./import-file.js";
export { readTodoistCsv } from "./todoist-csv.js";
export { readTodoistJson } from "./todoist-json.js";
export { readTaskwarrior, recurrenceOf } from "./taskwarrior.js";
export { EXPORT_FORMAT, exportCsv, exportJson, readTaskmeshExport, type ExportContent, type ExportedProject } from "./taskmesh-export.js";
export { calendarFeed, type CalendarFeedOptions } from "./calendar-feed.js";
