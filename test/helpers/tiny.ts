// A tiny random model (H = 5) on 80 bytes of a small alphabet, with its upstream outputs:
// for the §5 stages' invariants and their bad-param errors, on every machine.
import { paramCount, weightsFrom } from '../../lib/rnn/weights.ts';
import { randomBytes, randomFill } from '../rnn/helpers.ts';
import { upstream } from './stages.ts';

export const TINY_H = 5;
export const tinyInputs = () => upstream(weightsFrom(randomFill(new Float32Array(paramCount(TINY_H)), 81, 1), TINY_H), randomBytes(80, 82));
