import { useId, useState } from "react";
import { useRefreshProjects } from "../projects/projects-api.js";
import { apiFetch, jsonOf } from "./api-fetch.js";

interface ImportReport {
  format: string;
  projects: { created: string[]; existing: string[] };
  sections: { created: number; existing: number };
  tasks: { created: number; alreadyImported: number; completed: number; failed: { where: string; title: string; reason: string }[] };
  comments: number;
  unmapped: { where: string; field: string; value: string; reason: string }[];
}

const FORMATS: [string, string][] = [
  ["", "Recognise it"],
  ["todoist-csv", "Todoist CSV (one project)"],
  ["todoist-json", "Todoist JSON"],
  ["taskwarrior", "Taskwarrior (task export)"],
  ["taskmesh", "taskmesh export"],
];
// The gateway refuses larger files; saying so here spares the upload.
const MAX_BYTES = 5 * 1024 * 1024;

/** Upload a Todoist, Taskwarrior or taskmesh file and read what was imported; download everything as JSON or CSV. */
export function ImportExport() {
  const ids = useId();
  const refresh = useRefreshProjects();
  const [file, setFile] = useState<File>();
  const [format, setFormat] = useState("");
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<ImportReport>();
  const [problem, setProblem] = useState<string>();

  async function upload() {
    if (!file) return;
    setProblem(undefined);
    setReport(undefined);
    if (file.size > MAX_BYTES) return setProblem(`${file.name} is larger than 5 MiB`);
    setBusy(true);
    try {
      const query = new URLSearchParams({ filename: file.name, ...(format ? { format } : {}) });
      setReport(await jsonOf<ImportReport>(await apiFetch(`/api/import?${query}`, { method: "POST", body: file })));
      await refresh();
    } catch (err) {
      setProblem(`Nothing was imported: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  async function download(kind: "json" | "csv") {
    setProblem(undefined);
    try {
      const res = await apiFetch(`/api/export?format=${kind}`);
      if (!res.ok) await jsonOf(res);
      const name = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? `taskmesh.${kind}`;
      const link = document.createElement("a");
      link.href = URL.createObjectURL(await res.blob());
      link.download = name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (err) {
      setProblem(`Export failed: ${(err as Error).message}`);
    }
  }

  return (
    <section aria-labelledby={`${ids}-import`}>
      <h3 id={`${ids}-import`}>Import</h3>
      <p className="hint">
        A Todoist project exported as CSV (the project is named after the file), Todoist JSON, Taskwarrior's <code>task export</code>, or a taskmesh export. Importing the same file again adds nothing
        twice.
      </p>
      <form
        className="settings-row"
        onSubmit={(e) => {
          e.preventDefault();
          void upload();
        }}
      >
        <input aria-label="File to import" type="file" accept=".csv,.json,text/csv,application/json" onChange={(e) => setFile(e.target.files?.[0])} />
        <select aria-label="Format of the file" value={format} onChange={(e) => setFormat(e.target.value)}>
          {FORMATS.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
        <button type="submit" className="primary" disabled={!file || busy}>
          {busy ? "Importing…" : "Import"}
        </button>
      </form>
      {report && <ImportSummary report={report} />}
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
      <h3>Export</h3>
      <p className="hint">Every project you own with its sections, tasks and comments. The JSON file imports back into taskmesh; the CSV opens in a spreadsheet.</p>
      <div className="settings-row">
        <button type="button" onClick={() => void download("json")}>
          Download JSON
        </button>
        <button type="button" onClick={() => void download("csv")}>
          Download CSV
        </button>
      </div>
    </section>
  );
}

function ImportSummary({ report }: { report: ImportReport }) {
  const { tasks, projects, unmapped } = report;
  return (
    <div className="import-report" role="status">
      <p>
        {tasks.created} task{tasks.created === 1 ? "" : "s"} imported
        {tasks.completed ? ` (${tasks.completed} completed)` : ""}
        {tasks.alreadyImported ? `, ${tasks.alreadyImported} already there from an earlier import` : ""}
        {report.comments ? `, with ${report.comments} comment${report.comments === 1 ? "" : "s"}` : ""}
        {projects.created.length ? `; new projects: ${projects.created.join(", ")}` : ""}.
      </p>
      {tasks.failed.length > 0 && (
        <>
          <p className="field-error">Not imported:</p>
          <ul>
            {tasks.failed.map((f) => (
              <li key={f.where}>
                {f.where} “{f.title}”: {f.reason}
              </li>
            ))}
          </ul>
        </>
      )}
      {unmapped.length > 0 && (
        <details>
          <summary>{unmapped.length === 1 ? "1 thing had no place here or was changed to fit" : `${unmapped.length} things had no place here or were changed to fit`}</summary>
          <table>
            <thead>
              <tr>
                <th>Where</th>
                <th>Field</th>
                <th>Value</th>
                <th>What happened</th>
              </tr>
            </thead>
            <tbody>
              {unmapped.map((u, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: a report's rows never move, and an entry has no identity of its own
                <tr key={i}>
                  <td>{u.where}</td>
                  <td>{u.field}</td>
                  <td>{u.value}</td>
                  <td>{u.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </div>
  );
}
