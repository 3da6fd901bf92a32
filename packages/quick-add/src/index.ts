export {
  ALL_DAY_REMINDER_TIME,
  isTimeZone,
  localDate,
  parseQuickAdd,
  taggedWith,
  toWall,
  type Due,
  type QuickAddDraft,
  type ReminderDraft,
} from "./parse-quick-add.js";
export { lastDayRule, resolveQuickAdd, toCreateRequest, type ResolvedQuickAdd } from "./resolve-quick-add.js";
export { pickProject, type ProjectChoice } from "./pick-project.js";
export { mentionsSomeone, pickAssignee, type MemberChoice } from "./pick-assignee.js";
export { namesSection, pickSection, type SectionChoice } from "./pick-section.js";
export { lineProject, placeLine, placeWithin, type PlacementLookups } from "./place-line.js";
