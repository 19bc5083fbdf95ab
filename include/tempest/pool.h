/* pool.h - one helper thread that takes half of a matrix product, or half
 * of a large batch's step.
 *
 * Starting a thread per product costs tens of microseconds, more than a
 * whole product at batch 1, so the model keeps one helper alive. It spins
 * briefly after each job, because the next product follows within
 * microseconds while tokens flow, and then sleeps, so a paused playground
 * costs no CPU. Only one caller at a time can hand it work: a second caller
 * (a sweep thread sharing the model) is told to do its job itself.
 */
#ifndef TEMPEST_POOL_H
#define TEMPEST_POOL_H

#include "tempest/error.h"

typedef struct tp_pool tp_pool;

tp_status tp_pool_new(tp_pool **out, tp_error *err);
/* Stops and joins the helper; NULL is fine. */
void tp_pool_free(tp_pool *p);

/* Offer fn(arg) to the helper: 1 when handed over (call tp_pool_finish
 * after doing your own share), 0 when it serves another caller. */
int tp_pool_start(tp_pool *p, void (*fn)(void *), void *arg);
/* Make sure the job handed over is done: run it here if the helper has not
 * started it yet, else wait for it. Then the helper is free again. */
void tp_pool_finish(tp_pool *p);

#endif
