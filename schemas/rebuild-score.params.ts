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
    },
    "maxPositions": {
      "type": "integer",
      "minimum": 1,
      "default": 16384,
      "description": "Each text (training, held-out) is scored at every position t = 0..len-2 (the definition) when it has at most this many; above it (long data) at an evenly spread sample of this many, in blocks of blockLength consecutive t, for every model and the trained one alike (an RNN still runs forward over every position from S[-1] = 0)"
    },
    "blockLength": {
      "type": "integer",
      "minimum": 1,
      "default": 256,
      "description": "Consecutive positions per block when maxPositions samples a text's positions"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
