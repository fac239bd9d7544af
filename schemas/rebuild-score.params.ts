// Generated from schemas/rebuild-score.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "rebuild-score stage params",
  "type": "object",
  "properties": {
    "floor": {
      "type": "number",
      "exclusiveMinimum": 0,
      "maximum": 1,
      "default": 1e-8,
      "description": "Probability floor for bits, -log2 max(p, floor) (docs/definitions.md §0)"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
