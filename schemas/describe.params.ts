// Generated from schemas/describe.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "describe stage params",
  "type": "object",
  "properties": {
    "digits": {
      "type": "integer",
      "minimum": 0,
      "maximum": 12,
      "default": 3,
      "description": "Decimals the cell carriers of a rule level are written with (fewer: a smaller description)"
    },
    "classes": {
      "type": "integer",
      "minimum": 1,
      "maximum": 128,
      "default": 16,
      "description": "Bytes (the most frequent) that get their own x1 / x2 feature unit in a rule level; the rest share one class"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
