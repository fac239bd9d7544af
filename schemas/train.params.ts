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
      "description": "E, passes over the data (paper: 4000); ignored when predictions is set"
    },
    "predictions": {
      "type": [
        "integer",
        "null"
      ],
      "minimum": 1,
      "default": null,
      "description": "total predictions to train for (compute-matched runs; the paper's run is 4000 × 1023 = 4092000): epochs = max(1, round(predictions / (N - 1))); null: use epochs"
    },
    "predictionsGrowth": {
      "type": "number",
      "minimum": 0,
      "maximum": 2,
      "default": 0,
      "description": "with predictions set, the budget grows with the data: total = predictions × ((N − 1) / 1023)^predictionsGrowth, so the paper's run (N = 1024) is unchanged at any value; 0: the same predictions at every size (compute-matched). Q3's length rule (docs/q3.md)"
    },
    "minEpochs": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1000000,
      "default": 1,
      "description": "with predictions set, train at least this many epochs: epochs = max(minEpochs, round(predictions / (N - 1))). Q3's length rule (docs/q3.md): the paper's compute, and at least this many passes over a large text"
    },
    "maxDoublings": {
      "type": "integer",
      "minimum": 0,
      "maximum": 10,
      "default": 0,
      "description": "with held-out text: a model that did not converge (docs/definitions.md §6.4) trains again from its init with twice the epochs, the cosine schedule spanning them, at most this many times (Q3's length rule, docs/q3.md). 0: one run, as given"
    },
    "stopOnHeldout": {
      "type": "boolean",
      "default": false,
      "description": "stop on the held-out curve (docs/definitions.md §6.4; Q3's length rule, docs/q3.md): from the 8th held-out point after the init on, stop when the run so far has converged (its best held-out bpc improved by less than 0.01 over the last quarter of the epochs run); epochs (or predictions) is then the cap. Needs held-out text and optimizer adam, whose constant rate makes a run stopped at epoch e the run planned for e epochs. heldoutEvery null: every round(32768 / (N − 1)) epochs, at least 1"
    },
    "optimizer": {
      "enum": [
        "sgd",
        "adam"
      ],
      "default": "sgd",
      "description": "sgd (the authors' released trainer, which made the shipped weights: cosine lr from 0.01, floor 1e-4) or adam (the paper's text: lr 0.001)"
    },
    "init": {
      "enum": [
        "glibc",
        "mulberry32"
      ],
      "default": "glibc",
      "description": "init PRNG: glibc (srand(seed)/rand(), the authors' trainer: equals the shipped weights wherever training leaves them) or mulberry32"
    },
    "seed": {
      "type": "integer",
      "minimum": 0,
      "maximum": 4294967295,
      "default": 42,
      "description": "seed of the init PRNG (srand(seed) for glibc; paper: 42)"
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
    },
    "heldoutEvery": {
      "type": [
        "integer",
        "null"
      ],
      "minimum": 1,
      "default": null,
      "description": "score the data stage's held-out text (a float32 forward over it, read-only: the training is the same without it) at the init, every this many epochs and after the last; the model is converged when its best held-out bpc improved by less than 0.01 over the last quarter of its training. Null: floor(E/8), at least 1 (about eight points per run). No held-out text (data.heldoutBytes = 0): no curve, converged null"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
