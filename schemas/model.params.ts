// Generated from schemas/model.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "model stage params",
  "type": "object",
  "properties": {
    "source": {
      "type": "string",
      "minLength": 1,
      "default": "train",
      "description": "\"train\": the train stage's best checkpoint; \"paper\": the authors' sat_model.bin (inimino/hutter 74ddb51, sha256-checked; TOTAL_INTERP_PAPER_WEIGHTS=FILE names a local copy, else it is downloaded once into $TOTAL_INTERP_DOWNLOADS, $XDG_CACHE_HOME/total-interp or ~/.cache/total-interp); otherwise a path to a weights file in the authors' layout to import (nothing is trained then)"
    },
    "hidden": {
      "type": "integer",
      "minimum": 1,
      "maximum": 4096,
      "default": 128,
      "description": "H of an imported weights file (ignored for source = train, which records its own H)"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
