/* probe.c - this machine's limits, for the roofline in docs/performance.md.
 *
 *     cc -O2 -mavx2 -mfma -pthread -o build/probe bench/probe.c
 *     build/probe fma                 peak FMA rate, GFLOP/s, 1 thread and 2
 *     build/probe read BYTES          read bandwidth, GB/s, for a working set
 *                                     of BYTES: 1 thread, then 2 threads
 *                                     each streaming half of it
 *
 * This is a benchmark, so it may use -mavx2 -mfma; the product may not.
 * Each figure is the best of several rounds of about 0.15 s.
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct job {
    const float *buf; /* read: the part this thread streams */
    size_t n;         /* floats in it */
    long reps;
    float sink;
} job;

/* 12 independent accumulators in named registers (an array would live in
 * memory at -O2): enough to cover FMA latency on both FMA pipes, so the
 * loop runs at the issue limit. */
static void *fma_run(void *arg)
{
    job *j = arg;
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    __m256 a0 = _mm256_set1_ps(0), a1 = _mm256_set1_ps(1), a2 = _mm256_set1_ps(2);
    __m256 a3 = _mm256_set1_ps(3), a4 = _mm256_set1_ps(4), a5 = _mm256_set1_ps(5);
    __m256 a6 = _mm256_set1_ps(6), a7 = _mm256_set1_ps(7), a8 = _mm256_set1_ps(8);
    __m256 a9 = _mm256_set1_ps(9), a10 = _mm256_set1_ps(10), a11 = _mm256_set1_ps(11);
    for (long r = 0; r < j->reps; r++) {
        a0 = _mm256_fmadd_ps(a0, m, c);
        a1 = _mm256_fmadd_ps(a1, m, c);
        a2 = _mm256_fmadd_ps(a2, m, c);
        a3 = _mm256_fmadd_ps(a3, m, c);
        a4 = _mm256_fmadd_ps(a4, m, c);
        a5 = _mm256_fmadd_ps(a5, m, c);
        a6 = _mm256_fmadd_ps(a6, m, c);
        a7 = _mm256_fmadd_ps(a7, m, c);
        a8 = _mm256_fmadd_ps(a8, m, c);
        a9 = _mm256_fmadd_ps(a9, m, c);
        a10 = _mm256_fmadd_ps(a10, m, c);
        a11 = _mm256_fmadd_ps(a11, m, c);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float out[8];
    _mm256_storeu_ps(out, s);
    j->sink = out[0];
    return NULL;
}

static void *read_run(void *arg)
{
    job *j = arg;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (long r = 0; r < j->reps; r++) {
        const float *p = j->buf;
        for (size_t i = 0; i + 32 <= j->n; i += 32) {
            s0 = _mm256_add_ps(s0, _mm256_load_ps(p + i));
            s1 = _mm256_add_ps(s1, _mm256_load_ps(p + i + 8));
            s2 = _mm256_add_ps(s2, _mm256_load_ps(p + i + 16));
            s3 = _mm256_add_ps(s3, _mm256_load_ps(p + i + 24));
        }
    }
    float out[8];
    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    j->sink = out[0];
    return NULL;
}

/* Run fn on `threads` jobs at once; returns the wall time. */
static double run_jobs(void *(*fn)(void *), job *jobs, int threads)
{
    pthread_t t[2];
    double t0 = now_s();
    for (int i = 1; i < threads; i++)
        if (pthread_create(&t[i], NULL, fn, &jobs[i]) != 0) {
            fprintf(stderr, "probe: cannot start a thread\n");
            exit(1);
        }
    fn(&jobs[0]);
    for (int i = 1; i < threads; i++)
        pthread_join(t[i], NULL);
    return now_s() - t0;
}

static void probe_fma(void)
{
    for (int threads = 1; threads <= 2; threads++) {
        job jobs[2] = {{.reps = 16000000}, {.reps = 16000000}};
        double best = 1e30;
        for (int round = 0; round < 5; round++) {
            double t = run_jobs(fma_run, jobs, threads);
            best = t < best ? t : best;
        }
        double flops = 2.0 * 8 * 12 * (double)jobs[0].reps * threads;
        printf("fma_gflops_%dt %.1f\n", threads, flops / best / 1e9);
    }
}

static void probe_read(size_t bytes)
{
    size_t n = (bytes / sizeof(float) + 63) & ~(size_t)63;
    float *buf = aligned_alloc(64, n * sizeof *buf);
    if (!buf) {
        fprintf(stderr, "probe: out of memory for %zu bytes\n", bytes);
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        buf[i] = (float)(i % 7);
    long reps = (long)(6e8 / (double)(n * sizeof *buf)) + 1; /* ~0.6 GB per round */
    for (int threads = 1; threads <= 2; threads++) {
        job jobs[2];
        for (int i = 0; i < 2; i++)
            jobs[i] = (job){buf + (size_t)i * (n / threads), n / threads, reps, 0};
        double best = 1e30;
        for (int round = 0; round < 5; round++) {
            double t = run_jobs(read_run, jobs, threads);
            best = t < best ? t : best;
        }
        double moved = (double)(n / threads * threads) * sizeof *buf * (double)reps;
        printf("read_gbs_%dt %.1f\n", threads, moved / best / 1e9);
    }
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "fma") == 0) {
        probe_fma();
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "read") == 0) {
        long long bytes = atoll(argv[2]);
        if (bytes < 4096) {
            fprintf(stderr, "probe: read size '%s' must be at least 4096 bytes\n", argv[2]);
            return 2;
        }
        probe_read((size_t)bytes);
        return 0;
    }
    fprintf(stderr, "usage: probe fma | probe read BYTES\n");
    return 2;
}
