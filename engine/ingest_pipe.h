/*
 * engine/ingest_pipe.h - CAP ingest on two threads: parse on a worker
 * while the caller stores.
 *
 * Messages are independent until they are stored.  A pipe owns one
 * worker thread that runs ingest_parse (parse + validate) on the
 * messages queued with ingest_pipe_put, in order, while the caller's
 * thread stores the ones parsed before with ingest_pipe_take (which
 * runs ingest_store on the pipe's struct ingest).  Every message is
 * handled exactly as ingest_cap would handle it, in the order put: the
 * same diagnostics, results, duplicates and chains.  Batches
 * (ingest_batch_begin/end on the ingest) work as with ingest_cap; the
 * worker may parse the next batch's messages during a commit.
 *
 * Ownership: the pipe borrows the struct ingest given to
 * ingest_pipe_new (free the pipe first).  Each message's src, buf and
 * diags are borrowed from ingest_pipe_put until ingest_pipe_take returns
 * that message (or ingest_pipe_free).
 *
 * Thread-safety: one caller thread per pipe (the ingest's thread) calls
 * put, take and free; the worker is internal.
 */
#ifndef ENGINE_INGEST_PIPE_H
#define ENGINE_INGEST_PIPE_H

#include <stddef.h>

#include "engine/diag.h"
#include "engine/err.h"
#include "engine/ingest.h"

struct ingest_pipe;

/* Most messages queued at once (put to take). */
#define INGEST_PIPE_MAX_DEPTH	64

/*
 * A pipe of depth messages (1 to INGEST_PIPE_MAX_DEPTH) storing through
 * ig, and its worker thread.  0 and *out, or ENG_EINVAL / ENG_ENOMEM /
 * ENG_EIO (no thread) with eb.
 */
int ingest_pipe_new(struct ingest *ig, size_t depth, struct ingest_pipe **out,
    struct eng_errbuf *eb);

/*
 * Stop the worker (it finishes the parse at hand; blocking for that
 * long), drop the messages not taken (none is stored), free the pipe.
 * NULL is a no-op.
 */
void ingest_pipe_free(struct ingest_pipe *p);

/* Messages put and not yet taken. */
size_t ingest_pipe_queued(const struct ingest_pipe *p);

/*
 * Queue one message for parsing.  tag is given back by take.  Returns
 * 0, or ENG_EBUSY when depth messages are queued (take one first).
 * Never blocks.
 */
int ingest_pipe_put(struct ingest_pipe *p, const struct ingest_source *src,
    const void *buf, size_t len, struct diag_list *diags, void *tag);

/*
 * The oldest message put: waits for its parse (blocking), then stores it
 * on this thread.  Its diagnostics are in the diags given to put; *tag
 * is the tag given to put.  Returns what ingest_cap returns for it, with
 * res and eb filled as ingest_cap fills them; ENG_ENOENT (with *tag
 * NULL) when nothing is queued.
 */
int ingest_pipe_take(struct ingest_pipe *p, struct ingest_result *res,
    void **tag, struct eng_errbuf *eb);

#endif /* ENGINE_INGEST_PIPE_H */
