/* workers.c - a fixed team of threads (see workers.h). */
#include "tempest/workers.h"

#include <pthread.h>

void tp_run_workers(void *(*fn)(void *), void *arg, int jobs)
{
    jobs = jobs < 1 ? 1 : jobs > TP_WORKERS_MAX ? TP_WORKERS_MAX : jobs;
    pthread_t threads[TP_WORKERS_MAX];
    int started = 0;
    /* The calling thread works too; extra threads only when asked. */
    while (started < jobs - 1 && pthread_create(&threads[started], NULL, fn, arg) == 0)
        started++;
    fn(arg);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
}
