// What a list's query says about where a task added on it belongs: the project and section every
// listed task is in, and the tags each has, read as the server reads the query.
import { test } from "vitest";
import assert from "node:assert/strict";
import { namedInQuery, requiredTags } from "../src/tasks/query-tokens.js";

const PROJECTS = [{ name: "Home reno" }, { name: "Garden" }];
const SECTIONS = [{ name: "Paint jobs" }];
const project = (query: string) => namedInQuery(query, "project", PROJECTS)?.name;
const section = (query: string) => namedInQuery(query, "section", SECTIONS)?.name;

test("the project every listed task is in: project:, #name and ##name of one of the projects", () => {
  assert.equal(project("project:home-reno"), "Home reno");
  assert.equal(project('project:"Home  Reno" !high'), "Home reno");
  assert.equal(project("#garden due:today"), "Garden");
  assert.equal(project("##Home_Reno"), "Home reno");
  assert.equal(project("#weeds"), undefined, "a tag");
  assert.equal(project("project:nowhere"), undefined);
});

test("a project the list only may or may not be in is none: under NOT or OR, or a query that does not parse", () => {
  assert.equal(project("NOT #garden"), undefined);
  assert.equal(project("-project:garden"), undefined);
  assert.equal(project("#garden OR #home-reno"), undefined);
  assert.equal(project("today, #garden"), undefined);
  assert.equal(project('#garden "unclosed'), undefined);
});

test("the section: section: or /name of one of the sections", () => {
  assert.equal(section("#home-reno /paint-jobs"), "Paint jobs");
  assert.equal(section("section:paint_jobs"), "Paint jobs");
  assert.equal(section("/walls"), undefined);
  assert.equal(section("NOT /paint-jobs"), undefined);
});

test("the tags every listed task has: #name that names no project, @name, tag:", () => {
  assert.deepEqual(requiredTags("#weeds @outside tag:Spring #garden", PROJECTS), ["weeds", "outside", "spring"]);
  assert.deepEqual(requiredTags("#weeds OR #moss", PROJECTS), []);
  assert.deepEqual(requiredTags("-#weeds", PROJECTS), []);
});
