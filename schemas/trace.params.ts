// Generated from schemas/trace.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "trace stage params",
  "type": "object",
  "properties": {
    "logpMaxBytes": {
      "type": "integer",
      "minimum": 0,
      "default": 65536,
      "description": "store the full (T, 256) float64 log-probabilities (tensor logp, 2 KiB per position) only when N is at most this; the log-probability of each next byte (lpNext) is always stored"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
