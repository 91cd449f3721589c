/* fast_prelude.h: the first lines of every fast C file: feature macros, then the headers.
 * Compiled into Codegen by SwiftPM and cut into sections by EmbeddedC.swift: each
 * section runs from its `cnnc-embed: NAME` marker line to the next; the text above the
 * first marker is not embedded and only lets clang check this file alone. */

/* cnnc-embed: prologue */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L    /* pthreads, clock_gettime, posix_memalign */
#endif

/* cnnc-embed: includes */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#if !defined(CNNC_NO_THREADS)
#include <pthread.h>
#include <sched.h>
#endif
#if defined(CNNC_PROFILE)
#include <time.h>
#endif
