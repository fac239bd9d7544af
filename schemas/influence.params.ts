// Generated from schemas/influence.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "influence stage params",
  "type": "object",
  "properties": {
    "maxOffset": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1000,
      "default": 50,
      "description": "Number of state offsets d = 0..maxOffset-1 (the paper's 50, its BPTT length)"
    },
    "firstT": {
      "type": "integer",
      "minimum": 0,
      "default": 50,
      "description": "First output position T (docs/definitions.md §5: T = 50..N-3); must be ≥ maxOffset - 1 so that every offset exists"
    },
    "maxPositions": {
      "type": "integer",
      "minimum": 1,
      "default": 65536,
      "description": "Average over every T = firstT..N-3 (the definition) when there are at most this many (the default covers every N up to 64 KiB); above it over an evenly spread sample of this many, in blocks of blockLength consecutive T. Beware: a sample can misstate the signed means at long offsets, which a few positions dominate"
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
