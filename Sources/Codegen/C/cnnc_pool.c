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
    float *arena;                /* an image-by-image run's workspace */
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
 * With GCC or clang the hand-off is lock-free: a job is cut into chunks of `grain` tasks
 * and published as one 64-bit `ticket` (job number, threads allowed, the chunks left as
 * [front, back)); every thread, the caller too, claims chunks by compare-and-swap, even ids
 * from the front and odd ones from the back, and the caller waits until `finished` counts
 * them all. With two threads each keeps to its end of the task range from step to step, so
 * a step mostly reads the channel blocks its own core wrote (when both claimed from the
 * front, which chunks a core got changed from step to step): shufflenet_v2_x1_0 on two
 * threads 2.02 -> 1.93 ms, the others within this machine's noise. Nobody waits for a
 * thread that claimed nothing: on a busy machine a worker the scheduler has put aside
 * costs its claimed chunk at most, not a time slice per step (the earlier hand-off, where
 * every worker acknowledged every job, made mobilenet_v2 on 2 threads 10x slower than on 1
 * under a load of 9). The job's fields are read only after a claim succeeds, when the job
 * cannot end under the reader. Workers spin (with a pause) for CNNC_SPIN rounds before
 * sleeping on the condition variable: a step follows the last within microseconds, and a
 * futex wake-up costs tens of them.
 * Other compilers use the mutex throughout, every worker acknowledging every job. */
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
    int pending;                 /* without atomics: workers yet to acknowledge the job */
    unsigned long long ticket;   /* with atomics: job << 40 | threads << 32 | front << 16 | back */
    int finished;                /* with atomics: chunks of the current job done */
    int sleepers;                /* workers asleep on `wake` */
    int active, count;
    int grain;                   /* with atomics: tasks per chunk */
    cnnc_task fn;
    const cnnc_args *args;
    float *scratch[CNNC_MAX_THREADS];
    unsigned born[CNNC_MAX_THREADS];   /* the generation when each worker was started */
    int stopping;                /* set by cnnc_pool_shutdown: workers leave at the next job */
} cnnc_pool = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
                PTHREAD_MUTEX_INITIALIZER, 0, 0u, 0, 0ull, 0, 0, 0, 0, 0, NULL, NULL, { NULL }, { 0u }, 0 };

#if defined(CNNC_ATOMIC)
#define CNNC_JOB(t) ((unsigned)((t) >> 40))
/* Thread `id` claims chunks of job `job` until none are left or a newer job is out, so a
 * thread slowed by other work on its core (a shared machine) leaves its chunks to the
 * others. */
static void cnnc_run_share(int id, unsigned job)
{
    for (;;) {
        unsigned long long t = __atomic_load_n(&cnnc_pool.ticket, __ATOMIC_ACQUIRE);
        const int threads = (int)((t >> 32) & 0xff), front = (int)((t >> 16) & 0xffff), back = (int)(t & 0xffff);
        const int from_front = id % 2 == 0, chunk = from_front ? front : back - 1;
        int begin, end;
        if (CNNC_JOB(t) != job || id >= threads || front >= back) return;
        if (!__atomic_compare_exchange_n(&cnnc_pool.ticket, &t, from_front ? t + (1ull << 16) : t - 1ull, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue;
        begin = chunk * cnnc_pool.grain;
        end = begin + cnnc_pool.grain < cnnc_pool.count ? begin + cnnc_pool.grain : cnnc_pool.count;
        cnnc_pool.fn(cnnc_pool.args, begin, end, cnnc_pool.scratch[id]);
        __atomic_add_fetch(&cnnc_pool.finished, 1, __ATOMIC_RELEASE);
    }
}
#else
/* Thread `id`'s part of the job: thread t takes [count·t/T, count·(t+1)/T). */
static void cnnc_run_share(int id)
{
    const long long count = cnnc_pool.count, active = cnnc_pool.active;
    const int begin = (int)(count * id / active), end = (int)(count * (id + 1) / active);
    if (id < active && begin < end) cnnc_pool.fn(cnnc_pool.args, begin, end, cnnc_pool.scratch[id]);
}
#endif

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
        for (spin = 0; spin < CNNC_SPIN && CNNC_JOB(CNNC_LOAD(cnnc_pool.ticket)) == seen; spin++) cnnc_pause();
        if (CNNC_JOB(CNNC_LOAD(cnnc_pool.ticket)) == seen) {
            pthread_mutex_lock(&cnnc_pool.lock);
            __atomic_add_fetch(&cnnc_pool.sleepers, 1, __ATOMIC_SEQ_CST);
            while (CNNC_JOB(CNNC_LOAD(cnnc_pool.ticket)) == seen) pthread_cond_wait(&cnnc_pool.wake, &cnnc_pool.lock);
            __atomic_sub_fetch(&cnnc_pool.sleepers, 1, __ATOMIC_SEQ_CST);
            pthread_mutex_unlock(&cnnc_pool.lock);
        }
        seen = CNNC_JOB(CNNC_LOAD(cnnc_pool.ticket));
        if (CNNC_LOAD(cnnc_pool.stopping)) break;
        cnnc_run_share(id, seen);
#else
        int stopping;
        pthread_mutex_lock(&cnnc_pool.lock);
        while (cnnc_pool.generation == seen) pthread_cond_wait(&cnnc_pool.wake, &cnnc_pool.lock);
        seen = cnnc_pool.generation;
        stopping = cnnc_pool.stopping;
        pthread_mutex_unlock(&cnnc_pool.lock);
        if (stopping) break;
        cnnc_run_share(id);
        pthread_mutex_lock(&cnnc_pool.lock);
        if (--cnnc_pool.pending == 0) pthread_cond_signal(&cnnc_pool.done);
        pthread_mutex_unlock(&cnnc_pool.lock);
#endif
    }
    pthread_mutex_lock(&cnnc_pool.lock);
    cnnc_pool.started--;
    pthread_cond_broadcast(&cnnc_pool.done);
    pthread_mutex_unlock(&cnnc_pool.lock);
    return NULL;
}

/* Stops the workers and frees their scratch, after the run that holds the pool (if any)
 * ends; the next run that asks for threads starts them again. The job it publishes has no
 * chunks: it only wakes every worker to see `stopping`. */
static void cnnc_pool_shutdown(void)
{
    int id;
    pthread_mutex_lock(&cnnc_pool.owner);
    pthread_mutex_lock(&cnnc_pool.lock);
    if (cnnc_pool.started > 0) {
#if defined(CNNC_ATOMIC)
        const unsigned job = (CNNC_JOB(CNNC_LOAD(cnnc_pool.ticket)) + 1u) & 0xffffffu;
        __atomic_store_n(&cnnc_pool.stopping, 1, __ATOMIC_SEQ_CST);
        __atomic_store_n(&cnnc_pool.ticket, (unsigned long long)job << 40, __ATOMIC_SEQ_CST);
#else
        cnnc_pool.stopping = 1;
        cnnc_pool.generation++;
#endif
        pthread_cond_broadcast(&cnnc_pool.wake);
        while (cnnc_pool.started > 0) pthread_cond_wait(&cnnc_pool.done, &cnnc_pool.lock);
#if defined(CNNC_ATOMIC)
        __atomic_store_n(&cnnc_pool.stopping, 0, __ATOMIC_SEQ_CST);
#else
        cnnc_pool.stopping = 0;
#endif
    }
    for (id = 1; id < CNNC_MAX_THREADS; id++) {
        free(cnnc_pool.scratch[id]);
        cnnc_pool.scratch[id] = NULL;
    }
    pthread_mutex_unlock(&cnnc_pool.lock);
    pthread_mutex_unlock(&cnnc_pool.owner);
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
#if defined(CNNC_ATOMIC)
        cnnc_pool.born[id] = CNNC_JOB(CNNC_LOAD(cnnc_pool.ticket));
#else
        cnnc_pool.born[id] = cnnc_pool.generation;
#endif
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
#if defined(CNNC_ATOMIC)
    {
        /* The last job is finished (every chunk counted), so no thread reads these fields
         * now; a thread that claims a chunk of this job reads them after the ticket. */
        const int grain = count / (threads * 8) > 1 ? count / (threads * 8) : 1;
        const int chunks = (count + grain - 1) / grain;       /* at most 16·threads */
        const unsigned job = (CNNC_JOB(CNNC_LOAD(cnnc_pool.ticket)) + 1u) & 0xffffffu;
        int spin = 0;
        cnnc_pool.fn = fn;
        cnnc_pool.args = args;
        cnnc_pool.count = count;
        cnnc_pool.active = threads;
        cnnc_pool.grain = grain;
        cnnc_pool.scratch[0] = scratch0;
        __atomic_store_n(&cnnc_pool.finished, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&cnnc_pool.ticket, (unsigned long long)job << 40 | (unsigned long long)threads << 32
                         | (unsigned long long)chunks, __ATOMIC_SEQ_CST);
        if (CNNC_LOAD(cnnc_pool.sleepers) > 0) {
            pthread_mutex_lock(&cnnc_pool.lock);
            pthread_cond_broadcast(&cnnc_pool.wake);
            pthread_mutex_unlock(&cnnc_pool.lock);
        }
        cnnc_run_share(0, job);
        while (__atomic_load_n(&cnnc_pool.finished, __ATOMIC_ACQUIRE) < chunks) {
            if (++spin < CNNC_SPIN) cnnc_pause(); else sched_yield();
        }
    }
#else
    cnnc_pool.fn = fn;
    cnnc_pool.args = args;
    cnnc_pool.count = count;
    cnnc_pool.active = threads;
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
static void cnnc_pool_shutdown(void) {}
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
