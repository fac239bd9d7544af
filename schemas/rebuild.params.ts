// Generated from schemas/rebuild.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "rebuild stage params",
  "type": "object",
  "properties": {},
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
