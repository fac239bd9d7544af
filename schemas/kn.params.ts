// Generated from schemas/kn.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "kn stage params",
  "type": "object",
  "properties": {
    "maxOrder": {
      "type": "integer",
      "minimum": 1,
      "maximum": 16,
      "default": 6,
      "description": "Kneser–Ney orders k = 1..maxOrder are trained and scored on the held-out text; the best of them is reported (docs/definitions.md §6.5: 6)"
    },
    "discount": {
      "type": "number",
      "exclusiveMinimum": 0,
      "maximum": 1,
      "default": 0.8,
      "description": "The absolute discount D of every order, 0 < D <= 1 (docs/definitions.md §6.5: 0.8, the authors' value below 1B bytes)"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
