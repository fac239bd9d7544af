// Generated from schemas/decomposition.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "decomposition stage params",
  "type": "object",
  "properties": {
    "position": {
      "type": "integer",
      "minimum": 0,
      "default": 29,
      "description": "Position t to decompose (it predicts x_{t+1}); the paper's example is 29 ('m' -> 'e'). At most N - 2. The tensors cover every position regardless"
    },
    "topUnits": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1024,
      "default": 5,
      "description": "How many units to list by |Wy[o][j]·δ_t[j]|: in the JSON row, and per position in the tensors topUnits and topContributions (their K)"
    },
    "floor": {
      "type": "number",
      "exclusiveMinimum": 0,
      "maximum": 1,
      "default": 1e-8,
      "description": "Probability floor for the bits of x_{t+1} under the carrier-only and the actual state (docs/definitions.md §0 default)"
    },
    "context": {
      "type": "integer",
      "minimum": 1,
      "maximum": 200,
      "default": 30,
      "description": "How many bytes up to and including x_t to show as the position's context"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
