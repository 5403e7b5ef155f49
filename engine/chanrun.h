/*
 * engine/chanrun.h - one channel driven by a thread of its own.
 *
 * The dispatcher decides what goes out (claims, renders, rate limits)
 * and offers each message to its channel's runner; the runner's thread
 * is then the only one that calls the driver's send, poll, health and
 * offline (channels/channel.h: one thread per channel), so a driver's
 * network work overlaps the dispatcher's store work instead of taking
 * turns with it.  Reports come from the runner's thread through the
 * channel's env->report, which must therefore be thread-safe.
 *
 * Ownership: the runner borrows the channel (initialised, not yet shut
 * down) until chanrun_stop, which shuts the driver down.  Offered
 * messages are copied.
 */
#ifndef ENGINE_CHANRUN_H
#define ENGINE_CHANRUN_H

#include <stddef.h>

#include "channels/channel.h"

struct chanrun;

/*
 * Start ch's thread; its inbox holds at most inbox_max messages not yet
 * taken by the driver.  0, ENG_ENOMEM or ENG_EIO (no thread).
 */
int chanrun_start(struct channel *ch, size_t inbox_max,
    struct chanrun **out);

/*
 * Stage a copy of m for the driver (one message; the driver batches
 * same-text messages itself): the driver sees it after the next
 * chanrun_publish, so that a round of messages reaches it together.
 * 0, ENG_ETEMP when the inbox is full or the driver refused what it
 * holds (its own queue is full: the caller offers it again later,
 * nothing was counted), or ENG_ENOMEM.  Thread-safe; never blocks long.
 */
int chanrun_offer(struct chanrun *r, const struct chan_msg *m);

/*
 * Take back the messages the driver has not been given yet for which
 * want(arg, delivery_id) says so (their alert was withdrawn, say); gone
 * is called for each, under the runner's lock (it must not call
 * chanrun_*).  Returns how many.  For the thread that offers.
 */
size_t chanrun_withdraw(struct chanrun *r, int (*want)(void *, int64_t),
    void (*gone)(void *, int64_t), void *arg);

/* How many more messages chanrun_offer would take now: 0 while the
 * driver refuses what the inbox holds.  Thread-safe. */
size_t chanrun_room(struct chanrun *r);

/* Hand what was staged to the runner's thread (and wake it). */
void chanrun_publish(struct chanrun *r);

/* Offline devices a runner keeps from the driver's last answer. */
#define CHANRUN_OFFLINE	64

/*
 * The driver's health and offline devices (at most CHANRUN_OFFLINE) as
 * last read by the runner, every 100 ms or so; off may be NULL.
 * Thread-safe.
 */
void chanrun_status(struct chanrun *r, struct chan_health *h,
    char (*off)[CHAN_OFFLINE_ADDR], size_t max, size_t *noff);

/*
 * Stop the thread.  Messages the driver never took are reported as
 * CHAN_R_RETRY (from the caller's thread), then the driver is shut
 * down (which reports what it still held).  r is freed; NULL is fine.
 */
void chanrun_stop(struct chanrun *r);

#endif /* ENGINE_CHANRUN_H */
