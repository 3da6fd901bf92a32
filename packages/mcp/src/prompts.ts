// Prompts a client offers the user as ready-made requests: each says which tools to use and how,
// so the agent starts from the user's real tasks rather than guessing.
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import * as z from "zod";

const user = (text: string) => ({ messages: [{ role: "user" as const, content: { type: "text" as const, text } }] });

export function registerPrompts(server: McpServer): void {
  server.registerPrompt(
    "plan_my_week",
    {
      title: "Plan my week",
      description: "Looks at what is overdue and due in the next 7 days and proposes a day-by-day plan, changing nothing until asked",
      argsSchema: { focus: z.string().max(200).optional().describe("what to favour, e.g. 'work' or '#home'") },
    },
    ({ focus }) =>
      user(
        "Help me plan my week in taskmesh. First call get_overview, then find_tasks with query 'status:open due:next-7-days' and " +
          "'status:open due:none !high'. Propose a plan per day (no more than about six tasks a day), moving overdue work into it, " +
          (focus ? `favouring ${focus}, ` : "") +
          "and say which tasks to reschedule or drop. Do not change anything until I agree; then use update_tasks with each task's version.",
      ),
  );

  server.registerPrompt(
    "triage_overdue",
    {
      title: "Triage overdue tasks",
      description: "Goes through the overdue tasks and suggests for each: do today, reschedule (to when), or complete/delete",
      argsSchema: {
        limit: z
          .string()
          .regex(/^\d{1,3}$/)
          .optional()
          .describe("how many to go through (default 20)"),
      },
    },
    ({ limit }) =>
      user(
        `Triage my overdue tasks in taskmesh. Call find_tasks with query 'due:overdue' and limit ${limit ?? "20"}. For each task ` +
          "suggest one of: do today, reschedule (give a date), or drop (complete or delete), with a one-line reason from its title, " +
          "priority and project. Show the list and wait for my answer; then apply it with update_tasks, complete_tasks or " +
          "delete_tasks (each with the version you read). Every change can be undone from the activity history.",
      ),
  );
}
