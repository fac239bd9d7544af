// Generated from schemas/report.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "report stage params",
  "type": "object",
  "properties": {
    "label": {
      "type": [
        "string",
        "null"
      ],
      "default": null,
      "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$",
      "description": "folder name under reports/: letters, digits, . _ - and not starting with a dot, so never .. (default: derived from the model and data, so runs do not overwrite each other)"
    },
    "reference": {
      "type": [
        "string",
        "null"
      ],
      "default": null,
      "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]*$",
      "description": "label of a report under reports/ built on the paper's weights (--set model.source=FILE); its figures fill the audit's \"paper's weights\" column beside the paper and ours. null: no such column, and the report says how to add it"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
