// axe-core in the page under test: its script is evaluated through the DevTools protocol (the page's
// Content-Security-Policy refuses inline scripts, page.evaluate is not subject to it), then axe.run.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeFinding {
  screen: string;
  id: string;
  impact: string;
  help: string;
  nodes: { target: string; summary: string }[];
}

/** The serious and critical axe violations on the page as it is now, labelled with `screen` (AXE_DEBUG=1: its "needs review" results too). */
export async function axeViolations(page: Page, screen: string): Promise<AxeFinding[]> {
  if (!(await page.evaluate("typeof window.axe === 'object'"))) await page.evaluate(axeSource);
  const found =
    (await page.evaluate(`axe.run(document, { resultTypes: ["violations", "incomplete"] }).then((r) => [...r.violations, ...(${process.env.AXE_DEBUG ? "r.incomplete.map((v) => ({ ...v, id: v.id + ' (needs review)' }))" : "[]"})]
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: (n.failureSummary || "").replace(/\\s+/g, " ").trim() })) })))`)) as Omit<AxeFinding, "screen">[];
  return found.map((f) => ({ screen, ...f }));
}

/** One line per element: "screen: rule (impact) — help\n    target: why". */
export function formatFindings(findings: AxeFinding[]): string {
  return findings.map((f) => `${f.screen}: ${f.id} (${f.impact}) — ${f.help}\n${f.nodes.map((n) => `    ${n.target}: ${n.summary}`).join("\n")}`).join("\n");
}
