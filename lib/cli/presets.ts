// Presets of `report` (kept apart from sweep.ts so that the command line's start-up does not load it).

/** `report --q3`: SPEC §6.4, the decomposition against data size (issue 15). */
export const Q3_PRESET = {
  sweep: ['data.bytes=1024,2048,4096,8192,16384,32768,65536'],
  seeds: [42, 43, 44],
  sets: ['train.predictions=4092000'],
  targets: ['trace', 'carrier-pattern', 'influence', 'timing-carrier'],
};
