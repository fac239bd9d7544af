// Generated from schemas/pattern-tables.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "pattern-tables stage params",
  "type": "object",
  "properties": {
    "topUnits": {
      "type": "integer",
      "minimum": 1,
      "maximum": 1024,
      "default": 5,
      "description": "How many units with the most pattern-sensitive positions get a table (docs/definitions.md §6.2: five)"
    },
    "wordLenCap": {
      "type": "integer",
      "minimum": 1,
      "maximum": 255,
      "default": 15,
      "description": "word_len is capped at this value (docs/definitions.md §3.3: 15)"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
