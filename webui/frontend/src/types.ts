// Shapes of the blueprint (Make's export format) and of the execution record, kept here; the
// REST API's shapes come from src/api.gen.ts, generated from /api/openapi.json (`make
// api-types`), refined only where the server's model says "any JSON object".
import type { components } from "./api.gen";

type Schemas = components["schemas"];
/** ``T`` with the fields of ``R`` replaced: the precise shape of a field the API calls JSON. */
type Refine<T, R> = Omit<T, keyof R> & R;

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

export type User = Schemas["UserOut"];
/** What a new password must be (the server's rule, shown where a password is chosen). */
export type PasswordRule = Schemas["PasswordRule"];
export type AuthState = Schemas["AuthState"];

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
  /** The app's RPC that loads this select's choices (apps defined as data). */
  "x-make-rpc"?: string;
  /** The labels of ``enum``'s values, in its order (Make's select options: value → label). */
  "x-enum-labels"?: string[];
}

export type ModuleInfo = Refine<
  Schemas["ModuleOut"],
  {
    parameters_schema: JsonSchema | null;
    input_schema: JsonSchema | null;
    output_schema: JsonSchema | null;
    output_choice?: { setting: string; schemas: Record<string, JsonSchema> } | null;
  }
>;
export type AppInfo = Schemas["AppOut"];
export type FunctionInfo = Schemas["FunctionOut"];
export type KeywordInfo = Schemas["KeywordOut"];
export type Operator = Schemas["OperatorOut"];
export type OperatorGroup = Schemas["OperatorGroupOut"];
export type Problem = Schemas["ProblemOut"];
export type Validation = Schemas["ValidationOut"];
export type LastRun = Schemas["LastRun"];
export type Scenario = Refine<Schemas["ScenarioOut"], { scheduling: JsonObject | null }>;
export type ScenarioDetail = Refine<
  Schemas["ScenarioDetail"],
  { scheduling: JsonObject | null; blueprint: Blueprint; validation?: Validation | null }
>;
export type ConnectionKind = Refine<Schemas["ConnectionKindOut"], { fields: ConnectionField[] }>;
export type ConnectionField = Refine<Schemas["FieldOut"], { default?: Json }>;
export type Connection = Refine<Schemas["ConnectionOut"], { data: JsonObject }>;
export type Webhook = Refine<
  Schemas["WebhookOut"],
  { settings?: { structure?: StructureField[]; learning?: boolean; [key: string]: unknown } }
>;
export type DataStore = Schemas["DataStoreOut"];

export interface StructureField {
  name?: string;
  type: string;
  spec?: StructureField[] | StructureField;
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

export type Execution = Refine<Schemas["ExecutionOut"], { error: RecordError | null; record?: ExecutionRecord | null }>;

export type Page<T> = Refine<Schemas["ExecutionPage"], { items: T[] }>;

export type Incomplete = Refine<Schemas["IncompleteDetail"], { error: RecordError | null; state?: Json }>;
