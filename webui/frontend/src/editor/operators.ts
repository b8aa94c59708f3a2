// Make's filter operators (engine/filters/codes.py), grouped by type as in Make's filter editor.
export interface OperatorGroup {
  label: string;
  operators: { code: string; label: string }[];
}

const text: [string, string][] = [
  ["equal", "Equal to"],
  ["notequal", "Not equal to"],
  ["contain", "Contains"],
  ["notcontain", "Does not contain"],
  ["startwith", "Starts with"],
  ["notstartwith", "Does not start with"],
  ["endwith", "Ends with"],
  ["notendwith", "Does not end with"],
  ["pattern", "Matches pattern"],
  ["notpattern", "Does not match pattern"],
];

const comparisons = (prefix: string, greater: string, less: string) => [
  { code: `${prefix}:equal`, label: "Equal to" },
  { code: `${prefix}:notequal`, label: "Not equal to" },
  { code: `${prefix}:greater`, label: greater },
  { code: `${prefix}:less`, label: less },
  { code: `${prefix}:greaterorequal`, label: `${greater} or equal to` },
  { code: `${prefix}:lessorequal`, label: `${less} or equal to` },
];

export const OPERATOR_GROUPS: OperatorGroup[] = [
  {
    label: "Basic operators",
    operators: [
      { code: "exist", label: "Exists" },
      { code: "notexist", label: "Does not exist" },
    ],
  },
  {
    label: "Text operators",
    operators: text.flatMap(([code, label]) => [
      { code: `text:${code}`, label },
      { code: `text:${code}:ci`, label: `${label} (case insensitive)` },
    ]),
  },
  { label: "Numeric operators", operators: comparisons("number", "Greater than", "Less than") },
  { label: "Date operators", operators: comparisons("date", "Later than", "Earlier than") },
  { label: "Time operators", operators: comparisons("time", "Later than", "Earlier than") },
  { label: "Semver operators", operators: comparisons("semver", "Greater than", "Less than") },
  {
    label: "Array operators",
    operators: [
      { code: "array:contain", label: "Contains" },
      { code: "array:contain:ci", label: "Contains (case insensitive)" },
      { code: "array:notcontain", label: "Does not contain" },
      { code: "array:notcontain:ci", label: "Does not contain (case insensitive)" },
      { code: "array:equal", label: "Length equal to" },
      { code: "array:notequal", label: "Length not equal to" },
      { code: "array:greater", label: "Length greater than" },
      { code: "array:less", label: "Length less than" },
      { code: "array:greaterorequal", label: "Length greater than or equal to" },
      { code: "array:lessorequal", label: "Length less than or equal to" },
    ],
  },
  {
    label: "Boolean operators",
    operators: [
      { code: "boolean:equal", label: "Equal to" },
      { code: "boolean:notequal", label: "Not equal to" },
    ],
  },
];

export const UNARY = new Set(["exist", "notexist"]);

export const OPERATOR_CODES = new Set(OPERATOR_GROUPS.flatMap((g) => g.operators.map((o) => o.code)));
