/* workers.h - a fixed team of threads sharing one job list. */
#ifndef TEMPEST_WORKERS_H
#define TEMPEST_WORKERS_H

#define TP_WORKERS_MAX 64

/* Run fn(arg) on jobs threads (clamped to 1..TP_WORKERS_MAX; fewer when a
 * thread cannot be started), the calling thread being one of them, and
 * return when every one has returned. They share arg, so fn takes its work
 * from it under a lock of its own. */
void tp_run_workers(void *(*fn)(void *), void *arg, int jobs);

#endif
