import type { Json, JsonObject, JsonSchema, Module, ModuleInfo, StructureField } from "../types";
import { resolve } from "./SchemaForm";

export interface OutputField {
  path: string; // as mapped: items.name, items[].name
  label: string;
  type: string;
  sample?: Json;
}

/** The output schema of a module as it is set: a module whose output depends on a setting (a
 * 1CRM trigger's record type) outputs that value's fields; any other value, the general ones.
 * The editor's copy of the engine's ``ModuleSpec.output_for``: an empty parameter falls back to
 * the mapper there too. */
export function outputSchema(info: ModuleInfo | undefined, module: Module): JsonSchema | null {
  if (!info) return null;
  const choice = info.output_choice;
  if (choice) {
    const value = module.parameters?.[choice.setting] || module.mapper?.[choice.setting];
    const picked = typeof value === "string" ? choice.schemas[value.trim().toLowerCase()] : undefined;
    if (picked) return picked;
  }
  return info.output_schema;
}

/** Every field of an output schema, nested collections and arrays included. */
export function schemaFields(
  schema: JsonSchema | null,
  root: JsonSchema | null = schema,
  prefix = "",
  depth = 0,
): OutputField[] {
  if (!schema || !root || depth > 5) return [];
  const s = resolve(schema, root);
  const out: OutputField[] = [];
  for (const [name, raw] of Object.entries(s.properties ?? {})) {
    const prop = resolve(raw, root);
    const path = prefix ? `${prefix}.${name}` : name;
    const declared = Array.isArray(prop.type)
      ? prop.type.join("|")
      : (prop.type ?? (prop.properties ? "object" : "any"));
    const type = prop.format === "date-time" || prop.format === "date" ? "date" : declared;
    out.push({ path, label: prop.title ?? name, type });
    if (prop.properties) out.push(...schemaFields(prop, root, path, depth + 1));
    if (prop.items) {
      const item = resolve(prop.items, root);
      if (item.properties) out.push(...schemaFields(item, root, `${path}[]`, depth + 1));
    }
  }
  return out;
}

/** Every field of a real bundle (the last run's data), with its value as a sample. */
export function bundleFields(bundle: Json, prefix = "", depth = 0): OutputField[] {
  if (!bundle || typeof bundle !== "object" || Array.isArray(bundle) || depth > 5) return [];
  const out: OutputField[] = [];
  for (const [name, value] of Object.entries(bundle as JsonObject)) {
    const key = /^[A-Za-z_][\w]*$/.test(name) ? name : `\`${name}\``;
    const path = prefix ? `${prefix}.${key}` : key;
    const type = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
    out.push({ path, label: name, type, sample: value });
    if (value && typeof value === "object" && !Array.isArray(value)) out.push(...bundleFields(value, path, depth + 1));
    if (Array.isArray(value) && value[0] && typeof value[0] === "object")
      out.push(...bundleFields(value[0], `${path}[]`, depth + 1));
  }
  return out;
}

export function mergeFields(a: OutputField[], b: OutputField[]): OutputField[] {
  const seen = new Map(a.map((f) => [f.path, f]));
  for (const f of b) {
    const old = seen.get(f.path);
    if (old) old.sample = f.sample;
    else seen.set(f.path, f);
  }
  return [...seen.values()];
}

/** Every field of a webhook's data structure (nested collections and arrays of collections). */
export function structureFields(structure: StructureField[] | undefined, prefix = "", depth = 0): OutputField[] {
  if (!structure || depth > 5) return [];
  const out: OutputField[] = [];
  for (const field of structure) {
    if (!field.name) continue;
    const key = /^[A-Za-z_][\w]*$/.test(field.name) ? field.name : `\`${field.name}\``;
    const path = prefix ? `${prefix}.${key}` : key;
    out.push({ path, label: field.name, type: field.type });
    if (field.type === "collection" && Array.isArray(field.spec))
      out.push(...structureFields(field.spec, path, depth + 1));
    if (field.type === "array" && field.spec && !Array.isArray(field.spec) && field.spec.type === "collection") {
      const inner = field.spec.spec;
      if (Array.isArray(inner)) out.push(...structureFields(inner, `${path}[]`, depth + 1));
    }
  }
  return out;
}
