// Generated from schemas/skipgrams.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "skipgrams stage params",
  "type": "object",
  "properties": {
    "maxOffset": {
      "type": "integer",
      "minimum": 1,
      "default": 30,
      "description": "Greedy candidates are the skip-gram offsets 1..maxOffset (docs/definitions.md §3.4: 30)"
    },
    "maxK": {
      "type": "integer",
      "minimum": 1,
      "default": 8,
      "description": "Length of the greedy path k = 1..maxK, starting from [1] (docs/definitions.md §3.4: 8)"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
