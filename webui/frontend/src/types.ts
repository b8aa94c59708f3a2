// Shapes of the blueprint (Make's export format) and of the REST API (docs/api.md).

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Condition {
  a: Json;
  o: string;
  b?: Json;
  [key: string]: Json | undefined;
}

export interface Filter {
  name?: string;
  conditions?: Condition[][];
  [key: string]: unknown;
}

export interface Designer {
  x?: number;
  y?: number;
  name?: string;
  [key: string]: Json | undefined;
}

export interface Route {
  flow: Module[];
  disabled?: boolean;
  [key: string]: Json | Module[] | undefined;
}

export interface Branch {
  type?: string;
  label?: string;
  flow: Module[];
  [key: string]: Json | Module[] | undefined;
}

/** One flow item. Unknown keys are kept as they are: the blueprint is the source of truth. */
export interface Module {
  id: number;
  module: string;
  version?: number;
  parameters?: JsonObject;
  mapper?: JsonObject | null;
  metadata?: JsonObject & { designer?: Designer };
  filter?: Filter | null;
  routes?: Route[];
  onerror?: Module[];
  branches?: Branch[];
  [key: string]: unknown;
}

export interface Note {
  moduleIds?: number[];
  content?: string;
  isFilterNote?: boolean;
  metadata?: JsonObject;
  [key: string]: unknown;
}

export interface Blueprint {
  name: string;
  flow: Module[];
  metadata?: { [key: string]: unknown; scenario?: JsonObject; notes?: Note[]; designer?: JsonObject };
  [key: string]: unknown;
}

export interface User {
  id: number;
  email: string;
  name: string;
  role: string;
}

/** What a new password must be (the server's rule, shown where a password is chosen). */
export interface PasswordRule {
  min_length: number;
  text: string;
}

export interface AuthState {
  needs_setup: boolean;
  user: User | null;
  csrf_token: string;
  password_rule: PasswordRule;
}

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: Json[];
  default?: Json;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
  const?: Json;
  format?: string;
  additionalProperties?: boolean | JsonSchema;
}

export interface ModuleInfo {
  id: string;
  app: string;
  app_label: string;
  kind: string;
  label: string;
  description: string;
  version: number;
  parameters_schema: JsonSchema | null;
  input_schema: JsonSchema | null;
  output_schema: JsonSchema | null;
}

export interface AppInfo {
  app: string;
  label: string;
  color: string;
  icon: string;
}

export interface FunctionInfo {
  name: string;
  group: string;
  signature: string;
  description: string;
}

export interface KeywordInfo {
  name: string;
  description: string;
}

export interface Problem {
  path: string | null;
  message: string;
  module_id: number | null;
}

export interface Validation {
  problems: Problem[];
  unsupported: Record<string, number[]>;
}

export interface LastRun {
  status: string;
  finished_at: string | null;
  operations: number;
}

export interface Scenario {
  id: number;
  name: string;
  active: boolean;
  scheduling: JsonObject | null;
  current_version: number;
  consecutive_errors: number;
  created_at: string;
  updated_at: string;
  last_run?: LastRun | null;
}

export interface ScenarioDetail extends Scenario {
  blueprint: Blueprint;
  validation?: Validation | null;
}

export interface ConnectionKind {
  id: string;
  app: string;
  label: string;
  auth: string;
  fields: {
    name: string;
    label: string;
    secret: boolean;
    required: boolean;
    default?: Json;
    advanced?: boolean;
    help?: string;
  }[];
}

export interface Connection {
  id: number;
  app: string;
  kind: string;
  name: string;
  data: JsonObject;
  created_at: string;
}

export interface Webhook {
  id: number;
  name: string;
  scenario_id: number | null;
  url: string;
  enabled: boolean;
  queued?: number;
  settings?: { structure?: StructureField[]; learning?: boolean; [key: string]: unknown };
}

/** A field of a webhook's data structure ("determine data structure"), Make's types. */
export interface StructureField {
  name?: string;
  type: string;
  spec?: StructureField[] | StructureField;
}

export interface DataStore {
  id: number;
  name: string;
}

export interface RunCall {
  input?: Json;
  output?: JsonObject[];
  output_count?: number;
  error?: { message?: string; type?: string; detail?: Json } | null;
  directive?: string | null;
  duration_ms?: number;
}

export interface RecordError {
  message?: string;
  type?: string;
  detail?: Json;
  module_id?: number | null;
  module?: string | null;
}

export interface IncompleteEntry {
  module_id?: number;
  bundles?: Json;
  error?: RecordError | null;
  retry?: Json;
}

export interface ExecutionRecord {
  status?: string;
  error?: RecordError | null;
  incomplete?: IncompleteEntry[];
  warnings?: Json[];
  modules?: {
    id: number;
    module?: string;
    label?: string | null;
    operations?: number;
    bundles_out?: number;
    filtered?: number;
    errors?: number;
    calls?: RunCall[];
    calls_omitted?: number;
  }[];
}

export interface Execution {
  id: string;
  scenario_id: number;
  scenario_version?: number;
  status: string;
  trigger_kind?: string | null;
  created_at: string;
  started_at?: string | null;
  finished_at?: string | null;
  duration_ms?: number | null;
  operations: number;
  data_size?: number | null;
  error?: RecordError | string | null;
  record?: ExecutionRecord | null;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface Incomplete {
  id: number;
  scenario_id: number;
  execution_id: string | null;
  blueprint_version: number;
  failed_module_id: number | null;
  status: string;
  error: RecordError | string | null;
  attempts: number;
  max_attempts: number | null;
  next_retry_at: string | null;
  created_at: string;
  updated_at: string;
  state?: Json;
}
