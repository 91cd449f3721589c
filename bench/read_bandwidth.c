/* How fast one and two cores read memory: the ceiling of an fc layer at batch 1, which reads
 * every weight once (a 400 MiB array from DRAM), and of a depthwise layer whose input fits the
 * core's L2 (a 256 KiB array per thread, read 400 times over). Sums with AVX2 loads, best of 5.
 *
 *   clang -O2 -march=native -pthread bench/read_bandwidth.c -o /tmp/read_bandwidth && /tmp/read_bandwidth
 *
 * Prints one line per level and thread count, for people and for bench/mobile.py:
 *   read_bandwidth level=dram threads=1 bytes=419430400 gb_per_s=12.3
 * (bytes is the whole array for dram, the array per thread for l2; GB = 1e9 bytes.)
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define DRAM_COUNT ((size_t)100 * 1024 * 1024)
#define L2_COUNT ((size_t)64 * 1024) /* 256 KiB: within a 512 KiB-1 MiB L2, four times a 64 KiB L1 */
#define L2_PASSES 400

typedef struct { const float *values; size_t count; int passes; float sum; } share;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *sum(void *argument)
{
    share *s = argument;
    /* Eight sums in flight: with four, the adds' latency, not the loads, bounds an L2 read. */
    __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a, e = a, f = a, g = a, h = a;
    float lanes[8];
    size_t i;
    int pass;
    for (pass = 0; pass < s->passes; pass++) {
        const float *v = s->values;
        for (i = 0; i < s->count; i += 64) {
            a = _mm256_add_ps(a, _mm256_load_ps(v + i));
            b = _mm256_add_ps(b, _mm256_load_ps(v + i + 8));
            c = _mm256_add_ps(c, _mm256_load_ps(v + i + 16));
            d = _mm256_add_ps(d, _mm256_load_ps(v + i + 24));
            e = _mm256_add_ps(e, _mm256_load_ps(v + i + 32));
            f = _mm256_add_ps(f, _mm256_load_ps(v + i + 40));
            g = _mm256_add_ps(g, _mm256_load_ps(v + i + 48));
            h = _mm256_add_ps(h, _mm256_load_ps(v + i + 56));
        }
    }
    a = _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d));
    e = _mm256_add_ps(_mm256_add_ps(e, f), _mm256_add_ps(g, h));
    _mm256_storeu_ps(lanes, _mm256_add_ps(a, e));
    s->sum = lanes[0];
    return NULL;
}

/* Best of 5 rounds of `threads` threads, thread t summing base[t] (count floats, passes times). */
static double measure(float *base[2], size_t count, int passes, int threads)
{
    double best = 1e9;
    int round, t;
    for (round = 0; round < 5; round++) {
        pthread_t thread[2];
        share shares[2];
        double start, elapsed;
        for (t = 0; t < threads; t++) {
            shares[t].values = base[t];
            shares[t].count = count;
            shares[t].passes = passes;
        }
        start = now();
        for (t = 0; t < threads; t++) pthread_create(&thread[t], NULL, sum, &shares[t]);
        for (t = 0; t < threads; t++) pthread_join(thread[t], NULL);
        elapsed = now() - start;
        if (elapsed < best) best = elapsed;
    }
    return (double)count * sizeof(float) * passes * threads / best / 1e9;
}

int main(void)
{
    float *dram = aligned_alloc(64, DRAM_COUNT * sizeof(float));
    float *l2[2];
    size_t i;
    int threads;
    if (!dram) return 1;
    for (i = 0; i < DRAM_COUNT; i++) dram[i] = 1.0f;
    /* Each thread's own small array, so each core reads from its own L2. */
    for (threads = 0; threads < 2; threads++) {
        l2[threads] = aligned_alloc(64, L2_COUNT * sizeof(float));
        if (!l2[threads]) return 1;
        for (i = 0; i < L2_COUNT; i++) l2[threads][i] = 1.0f;
    }
    for (threads = 1; threads <= 2; threads++) {
        float *halves[2];
        halves[0] = dram;
        halves[1] = dram + DRAM_COUNT / 2;
        printf("read_bandwidth level=dram threads=%d bytes=%zu gb_per_s=%.1f\n", threads, DRAM_COUNT * sizeof(float),
               measure(halves, DRAM_COUNT / threads, 1, threads));
        printf("read_bandwidth level=l2 threads=%d bytes=%zu gb_per_s=%.1f\n", threads, L2_COUNT * sizeof(float),
               measure(l2, L2_COUNT, L2_PASSES, threads));
    }
    return 0;
}
