/** Codes of the config loading and schema validation stage. */
export const LOAD_CODES = {
  LOAD_YAML_SYNTAX: 'A YAML/JSON document could not be parsed',
} as const;
