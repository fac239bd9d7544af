// Generated from schemas/carrier-pattern.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "carrier-pattern stage params",
  "type": "object",
  "properties": {
    "floor": {
      "type": "number",
      "exclusiveMinimum": 0,
      "maximum": 1,
      "default": 1e-8,
      "description": "Probability floor for bits, -log2 max(p, floor), for both the actual and the carrier-only bpc (docs/definitions.md §0 default; §5 names no other)"
    },
    "topUnits": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1024,
      "default": 5,
      "description": "How many units with the most pattern-sensitive positions to list (the paper lists five)"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
