/* cnnc_pool.c: the fast C's step arguments, thread pool, profile hooks and softmax.
 * Compiled into Codegen by SwiftPM and cut into sections by EmbeddedC.swift: each
 * section runs from its `cnnc-embed: NAME` marker line to the next; the text above the
 * first marker is not embedded and only lets clang check this file alone. */
#include "fast_prelude.h"
/* Placeholders the emitter fills in (FastCSupport.swift): the program's scratch-size macro
 * and its number of steps. */
#define CNNC_TEMPLATE_SCRATCH_MACRO 0
#define CNNC_TEMPLATE_PROFILE_STEPS 1
#if defined(CNNC_PROFILE)
static double cnnc_profile_start;   /* a local of the emitted entry point */
#endif

/* cnnc-embed: threads */
/* ---- one step's arguments; a step runs as tasks [0, count) split over threads ---- */
typedef struct {
    float *out;
    const float *in;
    const float *res;            /* a fused residual input */
    const float *const *ins;     /* add and concat inputs */
    const float *w, *bias;
    int batch;
} cnnc_args;

typedef void (*cnnc_task)(const cnnc_args *a, int begin, int end, float *scratch);

#ifndef CNNC_MAX_THREADS
#define CNNC_MAX_THREADS 64
#endif

#if !defined(CNNC_NO_THREADS)
/* A persistent pool, created the first time a run asks for more than one thread and
 * kept for the life of the process; one run uses it at a time (another run that finds
 * it busy runs on its own thread). Workers own their scratch memory.
 *
 * Every job is acknowledged by every worker (`pending` counts them all), so the job's
 * fields are never rewritten while a worker may read them. With GCC or clang the hand-off
 * is lock-free: the caller publishes the job and bumps `generation`; workers spin on it
 * (with a pause) for CNNC_SPIN rounds before sleeping on the condition variable, and the
 * caller spins until `pending` is zero. A step follows the last within microseconds,
 * and a futex wake-up costs tens of them. Other compilers use the mutex throughout. */
#if defined(__GNUC__)
#define CNNC_ATOMIC 1
#define CNNC_LOAD(x) __atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#ifndef CNNC_SPIN
#define CNNC_SPIN 20000
#endif
#if defined(__x86_64__) || defined(__i386__)
#define cnnc_pause() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cnnc_pause() __asm__ __volatile__("yield")
#else
#define cnnc_pause() ((void)0)
#endif
#endif

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    pthread_mutex_t owner;       /* held by the run using the pool */
    int started;                 /* worker threads running */
    unsigned generation;         /* one per job */
    int pending;                 /* workers yet to acknowledge the job */
    int sleepers;                /* workers asleep on `wake` */
    int active, count;
    int next, grain;             /* the first task not yet taken; tasks taken at a time */
    cnnc_task fn;
    const cnnc_args *args;
    float *scratch[CNNC_MAX_THREADS];
    unsigned born[CNNC_MAX_THREADS];   /* the generation when each worker was started */
} cnnc_pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
                PTHREAD_MUTEX_INITIALIZER, 0, 0u, 0, 0, 0, 0, 0, 0, NULL, NULL, { NULL }, { 0u } };

/* Thread `id`'s part of the job. With atomics the threads take `grain` tasks at a time
 * until none are left, so a thread slowed by other work on its core (a shared machine)
 * leaves its tasks to the others; otherwise thread t takes [count·t/T, count·(t+1)/T). */
static void cnnc_run_share(int id)
{
    const long long count = cnnc_pool.count, active = cnnc_pool.active;
    if (id >= active) return;
#if defined(CNNC_ATOMIC)
    for (;;) {
        const int begin = __atomic_fetch_add(&cnnc_pool.next, cnnc_pool.grain, __ATOMIC_RELAXED);
        const int end = begin + cnnc_pool.grain < count ? begin + cnnc_pool.grain : (int)count;
        if (begin >= count) break;
        cnnc_pool.fn(cnnc_pool.args, begin, end, cnnc_pool.scratch[id]);
    }
#else
    {
        const int begin = (int)(count * id / active), end = (int)(count * (id + 1) / active);
        if (begin < end) cnnc_pool.fn(cnnc_pool.args, begin, end, cnnc_pool.scratch[id]);
    }
#endif
}

static void *cnnc_worker(void *arg)
{
    const int id = (int)(size_t)arg;
    unsigned seen;
    pthread_mutex_lock(&cnnc_pool.lock);
    seen = cnnc_pool.born[id];
    pthread_mutex_unlock(&cnnc_pool.lock);
    for (;;) {
#if defined(CNNC_ATOMIC)
        int spin;
        for (spin = 0; spin < CNNC_SPIN && CNNC_LOAD(cnnc_pool.generation) == seen; spin++) cnnc_pause();
        if (CNNC_LOAD(cnnc_pool.generation) == seen) {
            pthread_mutex_lock(&cnnc_pool.lock);
            __atomic_add_fetch(&cnnc_pool.sleepers, 1, __ATOMIC_SEQ_CST);
            while (CNNC_LOAD(cnnc_pool.generation) == seen) pthread_cond_wait(&cnnc_pool.wake, &cnnc_pool.lock);
            __atomic_sub_fetch(&cnnc_pool.sleepers, 1, __ATOMIC_SEQ_CST);
            pthread_mutex_unlock(&cnnc_pool.lock);
        }
        seen = CNNC_LOAD(cnnc_pool.generation);
        cnnc_run_share(id);
        __atomic_sub_fetch(&cnnc_pool.pending, 1, __ATOMIC_SEQ_CST);
#else
        pthread_mutex_lock(&cnnc_pool.lock);
        while (cnnc_pool.generation == seen) pthread_cond_wait(&cnnc_pool.wake, &cnnc_pool.lock);
        seen = cnnc_pool.generation;
        pthread_mutex_unlock(&cnnc_pool.lock);
        cnnc_run_share(id);
        pthread_mutex_lock(&cnnc_pool.lock);
        if (--cnnc_pool.pending == 0) pthread_cond_signal(&cnnc_pool.done);
        pthread_mutex_unlock(&cnnc_pool.lock);
#endif
    }
    return NULL;
}

/* Threads this run may use (1 when the pool is busy or cannot start). */
static int cnnc_pool_acquire(int threads)
{
    int available;
    if (threads > CNNC_MAX_THREADS) threads = CNNC_MAX_THREADS;
    if (threads <= 1) return 1;
    if (pthread_mutex_trylock(&cnnc_pool.owner) != 0) return 1;
    pthread_mutex_lock(&cnnc_pool.lock);
    while (cnnc_pool.started < threads - 1) {
        const int id = cnnc_pool.started + 1;
        pthread_t thread;
        pthread_attr_t attributes;
        int failed;
        if (CNNC_TEMPLATE_SCRATCH_MACRO > 0 && cnnc_pool.scratch[id] == NULL) {
            void *memory = NULL;
            if (posix_memalign(&memory, 64, (size_t)CNNC_TEMPLATE_SCRATCH_MACRO * sizeof(float)) != 0) break;
            cnnc_pool.scratch[id] = (float *)memory;
        }
        cnnc_pool.born[id] = cnnc_pool.generation;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        failed = pthread_create(&thread, &attributes, cnnc_worker, (void *)(size_t)id);
        pthread_attr_destroy(&attributes);
        if (failed) break;
        cnnc_pool.started++;
    }
    available = cnnc_pool.started + 1;
    pthread_mutex_unlock(&cnnc_pool.lock);
    if (available < 2) {
        pthread_mutex_unlock(&cnnc_pool.owner);
        return 1;
    }
    return available < threads ? available : threads;
}

static void cnnc_pool_release(int threads)
{
    if (threads > 1) pthread_mutex_unlock(&cnnc_pool.owner);
}

/* Runs fn on tasks [0, count) over `threads` threads (the caller is thread 0). */
static void cnnc_parallel(cnnc_task fn, const cnnc_args *args, int count, int threads, float *scratch0)
{
    if (threads > count) threads = count;
    if (threads <= 1) {
        if (count > 0) fn(args, 0, count, scratch0);
        return;
    }
    cnnc_pool.fn = fn;
    cnnc_pool.args = args;
    cnnc_pool.count = count;
    cnnc_pool.active = threads;
#if defined(CNNC_ATOMIC)
    {
        int spin = 0;
        cnnc_pool.grain = count / (threads * 8) > 1 ? count / (threads * 8) : 1;
        cnnc_pool.scratch[0] = scratch0;
        __atomic_store_n(&cnnc_pool.next, 0, __ATOMIC_SEQ_CST);
        __atomic_store_n(&cnnc_pool.pending, cnnc_pool.started, __ATOMIC_SEQ_CST);
        __atomic_add_fetch(&cnnc_pool.generation, 1u, __ATOMIC_SEQ_CST);
        if (CNNC_LOAD(cnnc_pool.sleepers) > 0) {
            pthread_mutex_lock(&cnnc_pool.lock);
            pthread_cond_broadcast(&cnnc_pool.wake);
            pthread_mutex_unlock(&cnnc_pool.lock);
        }
        cnnc_run_share(0);
        while (CNNC_LOAD(cnnc_pool.pending) > 0) {
            if (++spin < CNNC_SPIN) cnnc_pause(); else sched_yield();
        }
    }
#else
    pthread_mutex_lock(&cnnc_pool.lock);
    cnnc_pool.pending = cnnc_pool.started;
    cnnc_pool.generation++;
    pthread_cond_broadcast(&cnnc_pool.wake);
    pthread_mutex_unlock(&cnnc_pool.lock);
    fn(args, 0, (int)((long long)count / threads), scratch0);
    pthread_mutex_lock(&cnnc_pool.lock);
    while (cnnc_pool.pending > 0) pthread_cond_wait(&cnnc_pool.done, &cnnc_pool.lock);
    pthread_mutex_unlock(&cnnc_pool.lock);
#endif
}
#else
static int cnnc_pool_acquire(int threads) { (void)threads; return 1; }
static void cnnc_pool_release(int threads) { (void)threads; }
static void cnnc_parallel(cnnc_task fn, const cnnc_args *args, int count, int threads, float *scratch0)
{
    (void)threads;
    if (count > 0) fn(args, 0, count, scratch0);
}
#endif

/* cnnc-embed: profile */
/* ---- -DCNNC_PROFILE: each step's time of the last run ---- */
#if defined(CNNC_PROFILE)
static double cnnc_profile_seconds[CNNC_TEMPLATE_PROFILE_STEPS];
static double cnnc_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
#define CNNC_PROFILE_BEGIN cnnc_profile_start = cnnc_now();
#define CNNC_PROFILE_END(i) cnnc_profile_seconds[i] = cnnc_now() - cnnc_profile_start;
#else
#define CNNC_PROFILE_BEGIN
#define CNNC_PROFILE_END(i)
#endif

/* cnnc-embed: softmax */
/* y = softmax(y) over n values. */
static void cnnc_softmax(float *y, int n)
{
    float max = y[0], sum = 0.0f;
    int i;
    for (i = 1; i < n; i++) if (y[i] > max) max = y[i];
    for (i = 0; i < n; i++) {
        y[i] = expf(y[i] - max);
        sum += y[i];
    }
    for (i = 0; i < n; i++) y[i] /= sum;
}
