// Generated from schemas/reverse-iso.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "reverse-iso stage params",
  "type": "object",
  "properties": {
    "bytesPerOffset": {
      "type": "integer",
      "minimum": 1,
      "maximum": 256,
      "default": 16,
      "description": "Units per offset: unit 16g + i uses the i-th most frequent byte (docs/definitions.md §4.2: 16; H = offsets · bytesPerOffset)"
    },
    "clip": {
      "type": "number",
      "exclusiveMinimum": 0,
      "default": 3,
      "description": "Hidden values are clip(ln(p(y|a)/p(y)), -clip, clip) (docs/definitions.md §4.2: 3)"
    },
    "smoothing": {
      "type": "number",
      "exclusiveMinimum": 0,
      "default": 0.001,
      "description": "Added to every count: p(y|a) = (c + e)/(Σc + 256e), p(y) = (count + e)/(N + 256e) (docs/definitions.md §4.2: 0.001)"
    },
    "steps": {
      "type": "integer",
      "minimum": 1,
      "default": 500,
      "description": "Full-batch gradient-descent steps on (Wy, by) (docs/definitions.md §4.2: 500)"
    },
    "lr": {
      "type": "number",
      "exclusiveMinimum": 0,
      "default": 0.5,
      "description": "Step: (Wy, by) -= lr · mean over positions of the gradient (docs/definitions.md §4.2: 0.5)"
    },
    "eps": {
      "type": "number",
      "minimum": 0,
      "default": 1e-10,
      "description": "Reported loss per position -ln(p + eps) (docs/definitions.md §4.2: 1e-10)"
    },
    "maxPositions": {
      "type": "integer",
      "minimum": 1,
      "default": 16384,
      "description": "The gradient descent uses every position t = max(offsets)..N-2 (the definition) when there are at most this many; above it (long data) an evenly spread sample of this many, in blocks of blockLength consecutive t. The reported bpc and firstBpc are always over every position"
    },
    "blockLength": {
      "type": "integer",
      "minimum": 1,
      "default": 256,
      "description": "Consecutive positions per block when maxPositions samples the descent's positions"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
