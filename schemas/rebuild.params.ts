// Generated from schemas/rebuild.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "rebuild stage params",
  "type": "object",
  "properties": {
    "gain": {
      "type": "number",
      "exclusiveMinimum": 0,
      "default": 20,
      "description": "Weight scale a of the feature units (large: they saturate at ±1)"
    },
    "margin": {
      "type": "number",
      "minimum": 0,
      "default": 1,
      "description": "Wx of a byte in an outer bin: this far beyond the last carrier threshold"
    },
    "ridge": {
      "type": "number",
      "minimum": 0,
      "default": 0.001,
      "description": "Ridge penalty of the least-squares fit of each described unit's Wh row"
    },
    "readoutSteps": {
      "type": "integer",
      "minimum": 0,
      "default": 60,
      "description": "L-BFGS iterations fitting Wy, by on the rebuilt states (rule levels); more fit better and cost about 5 ms each at H = 128"
    },
    "floor": {
      "type": "number",
      "exclusiveMinimum": 0,
      "maximum": 1,
      "default": 1e-8,
      "description": "Probability floor for bits (SPEC §0)"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
