// Generated from schemas/construction.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "construction stage params",
  "type": "object",
  "properties": {
    "groups": {
      "type": "integer",
      "minimum": 1,
      "default": 16,
      "description": "Groups of the shift register; group g holds the code of the byte read g steps ago (docs/definitions.md §4.1: 16)"
    },
    "units": {
      "type": "integer",
      "minimum": 1,
      "default": 8,
      "description": "Units per group = bits of the sign code s(x, j), j = 0..units-1 (docs/definitions.md §4.1: 8; H = groups · units)"
    },
    "inputWeight": {
      "type": "number",
      "default": 10,
      "description": "Wx[j][x] = inputWeight · s(x, j) for group 0 (docs/definitions.md §4.1: 10)"
    },
    "shiftWeight": {
      "type": "number",
      "default": 5,
      "description": "Wh[8g+j][8(g-1)+j], the shift from group g-1 to g (docs/definitions.md §4.1: 5)"
    },
    "alphaStep": {
      "type": "number",
      "exclusiveMinimum": 0,
      "default": 0.5,
      "description": "Analytic Wy smoothing grid α = k · alphaStep, k = 1..alphaCount (docs/definitions.md §4.1: 0.5..5.0)"
    },
    "alphaCount": {
      "type": "integer",
      "minimum": 1,
      "default": 10,
      "description": "Number of α values in the grid"
    },
    "scaleStep": {
      "type": "number",
      "exclusiveMinimum": 0,
      "default": 0.05,
      "description": "Analytic Wy scale grid s = k · scaleStep, k = 1..scaleCount (docs/definitions.md §4.1: 0.05..3.0)"
    },
    "scaleCount": {
      "type": "integer",
      "minimum": 1,
      "default": 60,
      "description": "Number of s values in the grid"
    },
    "floor": {
      "type": "number",
      "exclusiveMinimum": 0,
      "default": 1e-30,
      "description": "Probability floor of the eval bpc, -log2 max(p, floor) (docs/definitions.md §4.1: 1e-30)"
    },
    "steps": {
      "type": "integer",
      "minimum": 1,
      "default": 1000,
      "description": "Full-batch gradient-descent steps of the optimized Wy (docs/definitions.md §4.1: 1000)"
    },
    "lr": {
      "type": "number",
      "exclusiveMinimum": 0,
      "default": 0.5,
      "description": "Initial learning rate; the summed gradient is multiplied by lr / positions (docs/definitions.md §4.1: 0.5)"
    },
    "decay": {
      "type": "number",
      "exclusiveMinimum": 0,
      "default": 0.3,
      "description": "Factor applied to lr at each entry of decayAt (docs/definitions.md §4.1: 0.3)"
    },
    "decayAt": {
      "type": "array",
      "items": {
        "type": "integer",
        "minimum": 0
      },
      "default": [
        300,
        600,
        800
      ],
      "description": "lr is multiplied by decay once this many steps are done: step k uses lr · decay^#{a ≤ k} (docs/definitions.md §4.1: after 300, 600, 800 steps)"
    },
    "gdFirst": {
      "type": "integer",
      "minimum": 0,
      "default": 16,
      "description": "First gradient-descent position; the positions are t = gdFirst..N-3 (docs/definitions.md §4.1: 16)"
    },
    "maxPositions": {
      "type": "integer",
      "minimum": 1,
      "default": 4096,
      "description": "The α × s grid and the gradient descent use every position (the definition) when their range holds at most this many; above it (long data) an evenly spread sample of this many, in blocks of blockLength consecutive t. The reported bpc of both readouts is always over every position t = 0..N-2"
    },
    "blockLength": {
      "type": "integer",
      "minimum": 1,
      "default": 256,
      "description": "Consecutive positions per block when maxPositions samples a range"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
