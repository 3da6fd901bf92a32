// `node --import tsx bench/tools/page-json.ts`: CPU time per ListTasks page of 50 tasks through
// toJsonString (what the gateway's Connect JSON answer costs to encode) with the checkout's own
// @bufbuild/protobuf; run it in two checkouts one after the other to compare versions. The tasks
// are built by the task service's taskFromRow from rows like the store's: three Timestamps each
// (created, updated, due), a third completed (a fourth). PAGES (3,000) after 1,000 warm-up pages.
import { readFileSync } from "node:fs";
import { create, toJsonString } from "@bufbuild/protobuf";
import { ListTasksResponseSchema } from "@taskmesh/proto/taskmesh/tasks/v1/task_service_pb.js";
import { taskFromRow, type TaskRow } from "../../services/tasks/src/task-row.js";

const now = Date.now();
const rows = Array.from(
  { length: 50 },
  (_, i): TaskRow => ({
    id: `0193a0c4-7d1e-7c2b-9f00-${String(i).padStart(12, "0")}`,
    userId: "bench",
    title: `Buy groceries call ${i}`,
    notes: "renew passport notes 123",
    status: i % 3 === 0 ? 2 : 1,
    priority: 1 + (i % 4),
    tags: ["home", "work"].slice(0, 1 + (i % 2)),
    dueTime: now + i * 3_600_000,
    dueDate: null,
    dueAt: now + i * 3_600_000,
    timeZone: "Europe/Berlin",
    recurrence: null,
    reminders: [],
    seriesId: null,
    requestId: null,
    projectId: "0193a0c4-7d1e-7c2b-9f00-aaaaaaaaaaaa",
    assignedBy: null,
    sectionId: null,
    assigneeId: null,
    parentId: null,
    orderKey: "d0001",
    commentCount: 0,
    version: 3,
    fieldVersions: {},
    createdAt: new Date(now - 86_400_000),
    updatedAt: new Date(now - 3_600_000),
    completedAt: i % 3 === 0 ? new Date(now - 1_000) : null,
  }),
);
const page = create(ListTasksResponseSchema, { tasks: rows.map(taskFromRow), nextPageToken: "x".repeat(80) });
const PAGES = Number(process.env.PAGES ?? 3_000);
let bytes = 0;
for (let i = 0; i < 1_000; i++) bytes += toJsonString(ListTasksResponseSchema, page).length;
const cpu0 = process.cpuUsage();
for (let i = 0; i < PAGES; i++) bytes += toJsonString(ListTasksResponseSchema, page).length;
const cpu = process.cpuUsage(cpu0);
// Its exports map leaves package.json out; the ESM entry is dist/esm/index.js.
const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.resolve("@bufbuild/protobuf")), "utf8")) as { version: string };
console.log(`@bufbuild/protobuf ${version}: ${((cpu.user + cpu.system) / PAGES).toFixed(1)} µs CPU per page of 50 (${Math.round(bytes / (PAGES + 1_000))} bytes)`);
