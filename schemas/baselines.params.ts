// Generated from schemas/baselines.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "baselines stage params",
  "type": "object",
  "properties": {
    "maxOffset": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1000,
      "default": 50,
      "description": "Number of state offsets d = 0..maxOffset-1 for the gradient and the ablation (the paper's 50)"
    },
    "firstT": {
      "type": "integer",
      "minimum": 0,
      "default": 50,
      "description": "First output position T (docs/definitions.md §5: T = 50..N-3); must be ≥ maxOffset - 1"
    },
    "maxDepth": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1000,
      "default": 8,
      "description": "Report the fraction of nodes (T, j) whose decisive chains reach depth d = 1..maxDepth (default 8)"
    },
    "floor": {
      "type": "number",
      "exclusiveMinimum": 0,
      "maximum": 1,
      "default": 1e-8,
      "description": "Probability floor for the ablated and the actual bits (docs/definitions.md §0 default)"
    },
    "maxPositions": {
      "type": "integer",
      "minimum": 1,
      "default": 4096,
      "description": "Gradient and ablation visit every T = firstT..N-3 (the definition) when there are at most this many; above it (long data) an evenly spread sample of this many, in blocks of blockLength consecutive T. Decisive chains always use every T"
    },
    "blockLength": {
      "type": "integer",
      "minimum": 1,
      "default": 256,
      "description": "Consecutive output positions per block when maxPositions samples the range"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
