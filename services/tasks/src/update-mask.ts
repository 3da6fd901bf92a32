// The update_mask of the Update RPCs, read as AIP-134 has it: the paths named, or "*" alone for all
// the updatable fields (a full replacement: the client sends the whole resource back).
import type { FieldMask } from "@bufbuild/protobuf/wkt";
import { invalidArgument } from "@taskmesh/kit";

/** The mask's paths (each once), "*" expanded; INVALID_ARGUMENT on update_mask for none or one not updatable. */
export function maskedPaths(mask: FieldMask | undefined, updatable: readonly string[]): string[] {
  const named = [...new Set(mask?.paths ?? [])];
  if (named.length === 1 && named[0] === "*") return [...updatable];
  const unknown = named.filter((p) => !updatable.includes(p));
  if (named.length === 0 || unknown.length > 0) {
    const problem = named.length === 0 ? "name at least one field" : unknown.includes("*") ? '"*" stands alone' : `cannot update ${unknown.join(", ")}`;
    throw invalidArgument([{ field: "update_mask", ruleId: "update_mask.paths", message: `${problem}; updatable: ${updatable.join(", ")} (or "*" for all of them)` }]);
  }
  return named;
}
