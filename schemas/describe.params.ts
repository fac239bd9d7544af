// Generated from schemas/describe.params.json by `npm run schemas`: edit the JSON, not this file.
import type { FromSchema } from 'json-schema-to-ts';

export const schema = {
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "describe stage params",
  "type": "object",
  "properties": {
    "digits": {
      "type": "integer",
      "minimum": 0,
      "maximum": 12,
      "default": 1,
      "description": "Decimals the cell carriers of a rule level are written with (fewer: a smaller description; on the paper's weights 1 decimal costs the fitted levels about 0.01 bpc against 3 and saves 45% of their bits)"
    },
    "classes": {
      "type": "integer",
      "minimum": 1,
      "maximum": 128,
      "default": 16,
      "description": "Bytes (the most frequent) that get their own x1 / x2 feature unit in a rule level; the rest share one class"
    },
    "readoutDigits": {
      "type": "integer",
      "minimum": 0,
      "maximum": 12,
      "default": 1,
      "description": "Decimals of the model's readout (Wy on the described units, by) a rules_<set> level writes"
    },
    "fitDigits": {
      "type": "integer",
      "minimum": 0,
      "maximum": 12,
      "default": 1,
      "description": "Decimals of the readout fitted in describe that a rules_<set>_fit level writes (on the paper's weights 0 decimals cost up to 0.8 bpc against 1)"
    },
    "fitSteps": {
      "type": "integer",
      "minimum": 0,
      "default": 60,
      "description": "L-BFGS iterations of the readout that describe fits on a rule level's rebuilt states and writes into its rules_<set>_fit description; 0: no _fit levels"
    },
    "cellsFit": {
      "type": "boolean",
      "default": false,
      "description": "Also write rules_<set>_fit: the cell-carrier states with a fitted readout. Off by default: on the paper's weights the linear form is within 0.06 bpc of it everywhere, better on 4 of the 6 sets, at 2.3-2.5 times fewer bits with x1 and about the same bits without"
    },
    "rowDigits": {
      "type": "integer",
      "minimum": 0,
      "maximum": 12,
      "default": 2,
      "description": "Decimals of each unit's carrier rule (Wh row on the feature units, bh) in a rules_<set>_linear level"
    },
    "wxDigits": {
      "type": "integer",
      "minimum": 0,
      "maximum": 12,
      "default": 1,
      "description": "Decimals of each unit's Wx on the seen bytes in a rules_<set>_linear level"
    },
    "maxPositions": {
      "type": "integer",
      "minimum": 1,
      "default": 4096,
      "description": "The readouts describe fits use every position t = 0..N-2 when there are at most this many; above it (long data) an evenly spread sample of this many, in blocks of blockLength consecutive t (the description's readout rule says so)"
    },
    "blockLength": {
      "type": "integer",
      "minimum": 1,
      "default": 256,
      "description": "Consecutive positions per block when maxPositions samples the fits' positions"
    },
    "gain": {
      "type": "number",
      "exclusiveMinimum": 0,
      "default": 20,
      "description": "Weight scale a of the feature units a rebuild writes (large: they saturate at ±1); written into each rule description"
    },
    "margin": {
      "type": "number",
      "minimum": 0,
      "default": 1,
      "description": "Wx of a byte in an outer bin: this far beyond the last carrier threshold; written into each rule description"
    },
    "ridge": {
      "type": "number",
      "minimum": 0,
      "default": 0.001,
      "description": "Ridge penalty of the least-squares fit of each described unit's Wh row; written into each rule description"
    },
    "file": {
      "type": "string",
      "default": "",
      "description": "A description (JSON, as describe writes it) that replaces the computed one of its level, e.g. one edited by hand; empty: none"
    }
  },
  "additionalProperties": false
} as const;

export type Params = FromSchema<typeof schema>;
