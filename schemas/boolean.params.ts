// Generated from schemas/boolean.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "boolean stage params",
  "type": "object",
  "properties": {
    "floor": {
      "type": "number",
      "exclusiveMinimum": 0,
      "maximum": 1,
      "default": 1e-30,
      "description": "Probability floor of the §3.2 bpc, -log2 max(p, floor) (docs/definitions.md §3.2: the authors' 1e-30)"
    },
    "threshold": {
      "type": "number",
      "minimum": 0,
      "default": 1,
      "description": "Margin threshold: the fraction of neuron-steps with |z| > threshold (docs/definitions.md §3.2: 1)"
    },
    "binWidth": {
      "type": "number",
      "exclusiveMinimum": 0,
      "default": 0.5,
      "description": "Width of the |z| histogram bins"
    },
    "binMax": {
      "type": "number",
      "exclusiveMinimum": 0,
      "default": 10,
      "description": "Upper end of the |z| histogram; larger |z| go to one overflow bin"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
