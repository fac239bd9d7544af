// Generated from schemas/viewer.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "viewer stage params",
  "type": "object",
  "properties": {
    "topUnits": {
      "type": "integer",
      "minimum": 1,
      "maximum": 16,
      "default": 5,
      "description": "How many units the position panel lists by |Wy[o][j]·δ_t[j]| (§5.4), when the viewer computes the decomposition itself"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
