// Generated from schemas/timing-carrier.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "timing-carrier stage params",
  "type": "object",
  "properties": {
    "floor": {
      "type": "number",
      "exclusiveMinimum": 0,
      "maximum": 1,
      "default": 1e-8,
      "description": "Probability floor for bits, -log2 max(p, floor) (docs/definitions.md §6.1: 1e-8)"
    },
    "wordLenCap": {
      "type": "integer",
      "minimum": 1,
      "maximum": 255,
      "default": 15,
      "description": "word_len is capped at this value (docs/definitions.md §3.3: 15)"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
