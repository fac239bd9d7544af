// Generated from schemas/viewer.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "viewer stage params",
  "type": "object",
  "properties": {
    "topUnits": {
      "type": "integer",
      "minimum": 1,
      "maximum": 16,
      "default": 5,
      "description": "How many units the position panel lists by |Wy[o][j]·δ_t[j]| (§5.4), when the viewer computes the decomposition itself"
    },
    "offset": {
      "type": "integer",
      "minimum": 0,
      "default": 0,
      "description": "First byte of the window the page embeds (its positions keep their number in the text); a window past the end is moved back to end at the last byte"
    },
    "length": {
      "type": "integer",
      "minimum": 2,
      "maximum": 65536,
      "default": 4096,
      "description": "Bytes in the window the page embeds (about 0.7 KB of page per byte at H = 128, besides the eq. 7 rows): the whole text up to this size"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
