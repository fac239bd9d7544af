// Generated from schemas/factor-map.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "factor-map stage params",
  "type": "object",
  "properties": {
    "floor": {
      "type": "number",
      "exclusiveMinimum": 0,
      "maximum": 1,
      "default": 1e-10,
      "description": "Probability floor of the ladder's bpc, -log2 max(p, floor) (docs/definitions.md §3.3: 1e-10)"
    },
    "wordLenCap": {
      "type": "integer",
      "minimum": 0,
      "default": 15,
      "description": "Cap of word_len[t] in ladder levels 2 and 3 (docs/definitions.md §3.3: 15)"
    },
    "topGroups": {
      "type": "integer",
      "minimum": 1,
      "default": 5,
      "description": "Table 1 lists this many of the largest best-pair groups, then 'Other' (docs/definitions.md §3.3: 5)"
    },
    "ladderFit": {
      "enum": [
        "scored",
        "all"
      ],
      "default": "scored",
      "description": "Positions the ladder's cell means are fitted on: 'scored' = t = m..N-2, the positions they are scored on (gives the cross-check's 0.8529); 'all' = t = m..N-1, docs/definitions.md §3.3's text (gives 0.8527). Levels 2-3 agree to 4 decimals either way."
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
