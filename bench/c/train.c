/*
 * The C yardstick of bench/train.bench.ts: the docs/definitions.md §2 training epoch written as the
 * obvious single-threaded loop (the steps of the naive twin lib/rnn/bptt.ts, with the two
 * transposed products Wyᵀ·dy and Whᵀ·dz walked row by row, as C's row-major arrays want,
 * and each exp taken once), built by the benchmark with `gcc -O3 -march=native` and timed
 * in the same run as our kernels. Not shipped code: it exists so that "how fast is our
 * training" has a fair reference. Written the naive twin's way (column walks, exp twice)
 * it takes about twice as long, which would flatter us.
 *
 *   train DATA INIT H EPOCHS BPTT
 *
 * DATA: the training bytes. INIT: paramCount(H) float32 values, the authors' layout
 * (Wx (H,V) | Wh (H,H) | bh (H) | Wy (V,H) | by (V)), written by the benchmark from our own
 * init so that the losses can be compared. Optimizer: the docs/definitions.md §2 sgd (cosine lr, clip 5
 * with the norm in double, summed chunk gradients). Prints one line per epoch:
 *   epoch E bpc B ms T
 * with B the epoch's training bpc (mean over its predictions while the weights change) and
 * T its wall time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define V 256

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *read_file(const char *path, long *len) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(2); }
  fseek(f, 0, SEEK_END);
  *len = ftell(f);
  fseek(f, 0, SEEK_SET);
  void *buf = malloc(*len > 0 ? *len : 1);
  if (fread(buf, 1, *len, f) != (size_t)*len) { perror(path); exit(2); }
  fclose(f);
  return buf;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s DATA INIT H EPOCHS BPTT\n", argv[0]);
    return 2;
  }
  long N, initLen;
  unsigned char *xs = read_file(argv[1], &N);
  float *P = read_file(argv[2], &initLen);
  const int H = atoi(argv[3]), E = atoi(argv[4]), B = atoi(argv[5]);
  const long n = (long)H * V + (long)H * H + H + (long)V * H + V;
  if (initLen != 4 * n) { fprintf(stderr, "init has %ld bytes, expected %ld\n", initLen, 4 * n); return 2; }
  float *Wx = P, *Wh = Wx + H * V, *bh = Wh + H * H, *Wy = bh + H, *by = Wy + V * H;
  float *G = calloc(n, sizeof(float));
  float *gWx = G, *gWh = gWx + H * V, *gbh = gWh + H * H, *gWy = gbh + H, *gby = gWy + V * H;
  float *hs = calloc((size_t)(B + 1) * H, sizeof(float)); /* hs[0] = S[start-1], hs[k+1] = S[start+k] */
  float *ps = calloc((size_t)B * V, sizeof(float));
  float *dy = malloc(V * sizeof(float)), *dh = malloc(H * sizeof(float));
  float *dz = malloc(H * sizeof(float)), *dhnext = malloc(H * sizeof(float));
  double *logits = malloc(V * sizeof(double));
  const long Pn = N - 1;
  const double maxLoss = -log(1e-8);

  for (int e = 1; e <= E; e++) {
    double t0 = now_ms();
    double lr = 0.01 * 0.5 * (1 + cos(M_PI * e / E));
    if (lr < 1e-4) lr = 1e-4;
    memset(hs, 0, H * sizeof(float));
    double epochLoss = 0;
    for (long start = 0; start < Pn; start += B) {
      const int L = Pn - start < B ? (int)(Pn - start) : B;
      memset(G, 0, n * sizeof(float));
      /* forward */
      for (int k = 0; k < L; k++) {
        const int x = xs[start + k];
        const float *prev = hs + k * H;
        float *cur = hs + (k + 1) * H;
        for (int i = 0; i < H; i++) {
          float acc = 0;
          for (int j = 0; j < H; j++) acc += Wh[i * H + j] * prev[j];
          cur[i] = tanhf(Wx[i * V + x] + acc + bh[i]);
        }
        double max = -INFINITY;
        for (int o = 0; o < V; o++) {
          float acc = by[o];
          for (int j = 0; j < H; j++) acc += Wy[o * H + j] * cur[j];
          logits[o] = acc;
          if (acc > max) max = acc;
        }
        const double logit = logits[xs[start + k + 1]];
        double sum = 0;
        for (int o = 0; o < V; o++) sum += logits[o] = exp(logits[o] - max);
        for (int o = 0; o < V; o++) ps[k * V + o] = (float)(logits[o] / sum);
        double nll = max + log(sum) - logit;
        epochLoss += nll < maxLoss ? nll : maxLoss;
      }
      /* backward */
      memset(dhnext, 0, H * sizeof(float));
      for (int k = L - 1; k >= 0; k--) {
        const int x = xs[start + k], target = xs[start + k + 1];
        const float *prev = hs + k * H, *cur = hs + (k + 1) * H;
        for (int o = 0; o < V; o++) dy[o] = ps[k * V + o] - (o == target ? 1.0f : 0.0f);
        for (int o = 0; o < V; o++) {
          gby[o] += dy[o];
          for (int j = 0; j < H; j++) gWy[o * H + j] += dy[o] * cur[j];
        }
        memcpy(dh, dhnext, H * sizeof(float)); /* dh = Wyᵀ·dy + dhnext, row by row of Wy */
        for (int o = 0; o < V; o++)
          for (int j = 0; j < H; j++) dh[j] += dy[o] * Wy[o * H + j];
        for (int i = 0; i < H; i++) dz[i] = (1 - cur[i] * cur[i]) * dh[i];
        for (int i = 0; i < H; i++) {
          gbh[i] += dz[i];
          gWx[i * V + x] += dz[i];
          for (int j = 0; j < H; j++) gWh[i * H + j] += dz[i] * prev[j];
        }
        memset(dhnext, 0, H * sizeof(float)); /* dhnext = Whᵀ·dz, row by row of Wh */
        for (int i = 0; i < H; i++)
          for (int j = 0; j < H; j++) dhnext[j] += dz[i] * Wh[i * H + j];
      }
      memcpy(hs, hs + L * H, H * sizeof(float)); /* carry the state */
      /* clip to global L2 norm 5 (norm in double), sgd */
      double ss = 0;
      for (long i = 0; i < n; i++) ss += (double)G[i] * G[i];
      const double norm = sqrt(ss);
      const float f = (float)(lr * (norm > 5 ? 5 / norm : 1));
      for (long i = 0; i < n; i++) P[i] -= f * G[i];
    }
    printf("epoch %d bpc %.9f ms %.4f\n", e, epochLoss / Pn / M_LN2, now_ms() - t0);
  }
  return 0;
}
