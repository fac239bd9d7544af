// Generated from schemas/isomorphism.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "isomorphism stage params",
  "type": "object",
  "properties": {
    "floor": {
      "type": "number",
      "exclusiveMinimum": 0,
      "maximum": 1,
      "default": 1e-8,
      "description": "Probability floor of the UM's bpc, -log2 max(p, floor) (docs/definitions.md §0 default 1e-8, the trace's floor)"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
