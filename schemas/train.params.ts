// Generated from schemas/train.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "train stage params",
  "type": "object",
  "properties": {
    "hidden": {
      "type": "integer",
      "minimum": 1,
      "maximum": 4096,
      "default": 128,
      "description": "H, the number of tanh hidden units (paper: 128)"
    },
    "epochs": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1000000,
      "default": 4000,
      "description": "E, passes over the data (paper: 4000)"
    },
    "optimizer": {
      "enum": [
        "adam",
        "sgd"
      ],
      "default": "adam",
      "description": "adam (the paper's text: lr 0.001) or sgd (the authors' released trainer: cosine lr from 0.01, floor 1e-4)"
    },
    "seed": {
      "type": "integer",
      "minimum": 0,
      "maximum": 4294967295,
      "default": 42,
      "description": "mulberry32 seed of the weight init (paper: 42)"
    },
    "bptt": {
      "type": "integer",
      "minimum": 1,
      "maximum": 100000,
      "default": 50,
      "description": "truncated-BPTT chunk length in predictions (paper: BPTT-50)"
    },
    "evalEvery": {
      "type": "integer",
      "minimum": 1,
      "default": 50,
      "description": "record the eval bpc (full forward over the data) every this many epochs, and after the last"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
