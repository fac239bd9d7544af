// Generated from schemas/data.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "data stage params",
  "type": "object",
  "properties": {
    "bytes": {
      "type": "integer",
      "minimum": 2,
      "maximum": 1000000000,
      "default": 1024,
      "description": "N: how many bytes from the start of enwik9 (at least 2, so that there is one prediction)"
    },
    "path": {
      "type": [
        "string",
        "null"
      ],
      "default": null,
      "description": "Local source: enwik9, enwik8, a prefix of them, or enwik9.zip. Null: the env var ENWIK9, else for bytes <= 1024 the copy shipped in data/, else download from url"
    },
    "url": {
      "type": "string",
      "pattern": "^https?://",
      "default": "http://mattmahoney.net/dc/enwik9.zip",
      "description": "The enwik9 zip to stream from when bytes > 1024 and neither path nor ENWIK9 is set (the Hutter Prize site's link)"
    },
    "heldoutOffset": {
      "type": [
        "integer",
        "null"
      ],
      "minimum": 0,
      "maximum": 1000000000,
      "default": null,
      "description": "First byte of the held-out text (an offset into enwik9). Null: data.bytes, i.e. the held-out text follows the training prefix. Must not overlap the training prefix [0, data.bytes)"
    },
    "heldoutBytes": {
      "type": [
        "integer",
        "null"
      ],
      "minimum": 0,
      "maximum": 1000000000,
      "default": null,
      "description": "Length of the held-out text in bytes. Null: data.bytes (the N bytes after an N-byte prefix). 0: no held-out text (a source holding only the training prefix). Otherwise at least 2"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
