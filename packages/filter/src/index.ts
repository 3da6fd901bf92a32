export type { Comparison, DateField, FilterNode, IsoDate, PriorityLevel, RelativeDay, StatusValue } from "./ast.js";
export { FIELDS, mentions, nameKey, PRIORITY_LEVELS, PRIORITY_RANK, RELATIVE_DAYS, STATUS_CODE } from "./ast.js";
export { parseFilter } from "./parser.js";
export { explainFilter, normalizeFilter } from "./explain.js";
export { compileFilterToSql } from "./sql.js";
export type { CompiledFilter, SqlContext } from "./sql.js";
export { dayRange } from "./dates.js";
export { FilterSyntaxError, LIMITS } from "./errors.js";
