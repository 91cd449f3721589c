/* How fast one and two cores stream memory: the ceiling of an fc layer at batch 1, which
 * reads every weight once. Sums a 400 MiB array with AVX2 loads, best of 5.
 *
 *   clang -O2 -march=native -pthread bench/read_bandwidth.c -o /tmp/read_bandwidth && /tmp/read_bandwidth
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define COUNT ((size_t)100 * 1024 * 1024)

static float *values;

typedef struct { size_t begin, end; float sum; } share;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *sum(void *argument)
{
    share *s = argument;
    __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a;
    float lanes[8];
    size_t i;
    for (i = s->begin; i < s->end; i += 32) {
        a = _mm256_add_ps(a, _mm256_loadu_ps(values + i));
        b = _mm256_add_ps(b, _mm256_loadu_ps(values + i + 8));
        c = _mm256_add_ps(c, _mm256_loadu_ps(values + i + 16));
        d = _mm256_add_ps(d, _mm256_loadu_ps(values + i + 24));
    }
    _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d)));
    s->sum = lanes[0];
    return NULL;
}

int main(void)
{
    size_t i;
    int threads, round, t;
    values = aligned_alloc(64, COUNT * sizeof(float));
    if (!values) return 1;
    for (i = 0; i < COUNT; i++) values[i] = 1.0f;
    for (threads = 1; threads <= 2; threads++) {
        double best = 1e9;
        for (round = 0; round < 5; round++) {
            pthread_t thread[2];
            share shares[2];
            const double start = now();
            for (t = 0; t < threads; t++) {
                shares[t].begin = COUNT / threads * t;
                shares[t].end = COUNT / threads * (t + 1);
                pthread_create(&thread[t], NULL, sum, &shares[t]);
            }
            for (t = 0; t < threads; t++) pthread_join(thread[t], NULL);
            if (now() - start < best) best = now() - start;
        }
        printf("%d thread(s): %.1f GB/s\n", threads, (double)COUNT * sizeof(float) / best / 1e9);
    }
    return 0;
}
