// What an import file says, in taskmesh's terms but before anything is created: the importer in the
// gateway turns it into service calls as the signed-in user.
import type { PriorityLevel } from "@taskmesh/filter";

export type ImportFormat = "todoist-csv" | "todoist-json" | "taskwarrior" | "taskmesh";
export const IMPORT_FORMATS: readonly ImportFormat[] = ["todoist-csv", "todoist-json", "taskwarrior", "taskmesh"];

/** The filter language's priority names: what the formats' priorities are read into. */
export type PriorityName = PriorityLevel;

/** An all-day date, an exact instant, or a wall-clock time in the task's zone (the user's when it has none). */
export type ImportedDue = { date: string } | { instant: string } | { local: string };

export interface ImportedRecurrence {
  rrule: string;
  afterCompletion?: boolean;
  exdates?: string[];
  /** The same wall-clock time wherever the user is. */
  floating?: boolean;
}

export interface ImportedTask {
  /** Unique within the source (Todoist's id, Taskwarrior's uuid, …): a re-run finds the task by it. */
  sourceId: string;
  /** Where it stands in the file, for the report ("line 12", "item 3"). */
  where: string;
  title: string;
  notes: string;
  /** The project's name; none: the Inbox. */
  project?: string;
  section?: string;
  priority: PriorityName;
  tags: string[];
  due?: ImportedDue;
  /** A phrase to read as a date (Todoist's CSV keeps only the text the user typed). */
  dueText?: string;
  timeZone?: string;
  recurrence?: ImportedRecurrence;
  /** A phrase for the recurrence service ("every monday"). */
  recurrenceText?: string;
  completed: boolean;
  /** Its comments' texts, oldest first: added again as comments of the importing user. */
  comments?: string[];
  parentSourceId?: string;
  /** The id of the taskmesh task this was exported from: where the user still has it, it is not imported again. */
  exportedId?: string;
}

export interface ImportedProject {
  name: string;
  colour?: string;
  sections: string[];
}

/** Something in the file with no place in taskmesh, or changed to fit. */
export interface Unmapped {
  where: string;
  field: string;
  value: string;
  reason: string;
}

export interface ImportPlan {
  format: ImportFormat;
  projects: ImportedProject[];
  tasks: ImportedTask[];
  unmapped: Unmapped[];
}

/** The file cannot be read: nothing of it is imported. `where` names the line or entry. */
export class ImportFormatError extends Error {
  constructor(
    message: string,
    readonly where?: string,
  ) {
    super(where ? `${where}: ${message}` : message);
    this.name = "ImportFormatError";
  }
}

/** Collects projects and their sections in the order first met. */
export class ProjectList {
  readonly #byName = new Map<string, ImportedProject>();

  add(name: string, section?: string, colour?: string): void {
    let project = this.#byName.get(name);
    if (!project) {
      project = { name, sections: [], ...(colour ? { colour } : {}) };
      this.#byName.set(name, project);
    }
    if (section && !project.sections.includes(section)) project.sections.push(section);
  }

  list(): ImportedProject[] {
    return [...this.#byName.values()];
  }
}
