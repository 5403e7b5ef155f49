/*
 * engine/store_vfs.c - the SQLite VFS gong's connections use: the
 * system's default VFS, with the writes to write-ahead logs and to
 * databases gathered into large writes.
 *
 * SQLite writes each frame of the log as two writes (its 24-byte header,
 * then the page), and a checkpoint copies the log into the database one
 * page per write, so a commit of an alert whose message is 600 KB was
 * some 450 write calls; with this VFS it is about twenty.  The bytes and
 * their order on disk are the same; only when they reach the kernel
 * changes, and never past the points where SQLite relies on them:
 *
 *   - a write that does not continue the gathered bytes, or would not
 *     fit, writes them out first;
 *   - every read, size, truncate, sync, file control, lock, unlock,
 *     mapping and close of the file writes them out first (SQLite
 *     reading back a frame it spilled, a checkpoint, recovery, the sync
 *     of a commit or of a checkpoint before it records what it copied,
 *     the end of a rollback-journal transaction);
 *   - the commit frame of the log (the frame whose header carries the
 *     database size) is written out as soon as its page is written, with
 *     its error returned to SQLite from that write, before SQLite
 *     publishes the commit in the shared index; and every barrier on the
 *     shared index writes out whatever any file of the process gathered,
 *     so no other connection can be told of bytes not in the file.
 *
 * A crash loses only gathered bytes SQLite had not yet synced nor
 * published, as a crash during its writes would.  Only files opened as a
 * main database or a write-ahead log are gathered; journals and the rest
 * pass through.
 *
 * Thread-safety: a file's gathered bytes are under its own mutex (a
 * barrier on another thread may write them out); the list of files is
 * under a global one.
 */
#include "engine/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Bytes gathered at most: one write of the default VFS, which takes at
 * most 128 KiB - 1 at a time (unix: the length is masked with 0x1ffff). */
#define GATHER_SIZE	(64 * 1024)
#define FRAME_HDR	24		/* a WAL frame's header */

struct gfile {
	sqlite3_file base;		/* io_methods[its version - 1] */
	sqlite3_file *real;		/* the default VFS's file */
	int gather;			/* a log or a database: gathered */
	int wal;			/* a log */
	pthread_mutex_t mu;
	char *buf;			/* GATHER_SIZE bytes, if gather */
	size_t len;
	sqlite3_int64 off;		/* where buf[0] goes */
	int flush_next;			/* the commit page comes next */
	int err;			/* a write-out that failed late */
	struct gfile *next, *prev;	/* files open */
};

static sqlite3_vfs gather_vfs;
static sqlite3_vfs *base_vfs;
static pthread_mutex_t files_mu = PTHREAD_MUTEX_INITIALIZER;
static struct gfile *files;
static atomic_int pending;		/* files holding gathered bytes */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int install_rc = SQLITE_ERROR;

/* Write out what f gathered; f->mu held.  SQLITE_OK or the error. */
static int
flush_locked(struct gfile *f)
{
	int rc = SQLITE_OK;

	if (f->len > 0) {
		rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len,
		    f->off);
		f->len = 0;
		atomic_fetch_sub(&pending, 1);
		if (rc != SQLITE_OK && f->err == SQLITE_OK)
			f->err = rc;
	}
	if (rc == SQLITE_OK && f->err != SQLITE_OK)
		rc = f->err;
	return rc;
}

static int
flush(struct gfile *f)
{
	int rc;

	if (!f->gather)
		return SQLITE_OK;
	(void)pthread_mutex_lock(&f->mu);
	rc = flush_locked(f);
	(void)pthread_mutex_unlock(&f->mu);
	return rc;
}

/* Every file of the process (a barrier on the shared index). */
static void
flush_all(void)
{
	struct gfile *f;

	if (atomic_load(&pending) == 0)
		return;
	(void)pthread_mutex_lock(&files_mu);
	for (f = files; f != NULL; f = f->next)
		(void)flush(f);
	(void)pthread_mutex_unlock(&files_mu);
}

static int
g_close(sqlite3_file *pf)
{
	struct gfile *f = (struct gfile *)pf;
	int rc, rc2;

	rc = flush(f);
	if (f->gather) {
		(void)pthread_mutex_lock(&files_mu);
		if (f->prev != NULL)
			f->prev->next = f->next;
		else
			files = f->next;
		if (f->next != NULL)
			f->next->prev = f->prev;
		(void)pthread_mutex_unlock(&files_mu);
		(void)pthread_mutex_destroy(&f->mu);
		free(f->buf);
		f->buf = NULL;
	}
	rc2 = f->real->pMethods->xClose(f->real);
	return rc != SQLITE_OK ? rc : rc2;
}

static int
g_read(sqlite3_file *pf, void *b, int n, sqlite3_int64 off)
{
	struct gfile *f = (struct gfile *)pf;
	int rc;

	if ((rc = flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xRead(f->real, b, n, off);
}

static int
g_write(sqlite3_file *pf, const void *b, int n, sqlite3_int64 off)
{
	struct gfile *f = (struct gfile *)pf;
	const unsigned char *h = b;
	int rc = SQLITE_OK, commit_page;

	if (!f->gather || n <= 0)
		return f->real->pMethods->xWrite(f->real, b, n, off);
	(void)pthread_mutex_lock(&f->mu);
	commit_page = f->flush_next;
	f->flush_next = 0;
	if (f->len > 0 && (off != f->off + (sqlite3_int64)f->len ||
	    f->len + (size_t)n > GATHER_SIZE))
		rc = flush_locked(f);
	if (rc == SQLITE_OK && f->err != SQLITE_OK)
		rc = f->err;
	if (rc == SQLITE_OK) {
		if ((size_t)n > GATHER_SIZE)
			rc = f->real->pMethods->xWrite(f->real, b, n, off);
		else {
			if (f->len == 0) {
				f->off = off;
				atomic_fetch_add(&pending, 1);
			}
			memcpy(f->buf + f->len, b, (size_t)n);
			f->len += (size_t)n;
			/* A frame header with a database size: the commit
			 * frame; its page comes next. */
			if (f->wal && n == FRAME_HDR &&
			    (h[4] | h[5] | h[6] | h[7]) != 0)
				f->flush_next = 1;
			if (commit_page)
				rc = flush_locked(f);
		}
	}
	(void)pthread_mutex_unlock(&f->mu);
	return rc;
}

static int
g_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
	struct gfile *f = (struct gfile *)pf;
	int rc;

	if ((rc = flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xTruncate(f->real, size);
}

static int
g_sync(sqlite3_file *pf, int flags)
{
	struct gfile *f = (struct gfile *)pf;
	int rc;

	if ((rc = flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xSync(f->real, flags);
}

static int
g_size(sqlite3_file *pf, sqlite3_int64 *size)
{
	struct gfile *f = (struct gfile *)pf;
	int rc;

	if ((rc = flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xFileSize(f->real, size);
}

static int
g_lock(sqlite3_file *pf, int lock)
{
	struct gfile *f = (struct gfile *)pf;
	int rc;

	if ((rc = flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xLock(f->real, lock);
}

static int
g_unlock(sqlite3_file *pf, int lock)
{
	struct gfile *f = (struct gfile *)pf;
	int rc;

	if ((rc = flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xUnlock(f->real, lock);
}

static int
g_reserved(sqlite3_file *pf, int *out)
{
	struct gfile *f = (struct gfile *)pf;

	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int
g_fcntl(sqlite3_file *pf, int op, void *arg)
{
	struct gfile *f = (struct gfile *)pf;
	int rc;

	if ((rc = flush(f)) != SQLITE_OK)
		return rc;
	if (op == SQLITE_FCNTL_VFSNAME) {
		/* The VFS's name, as SQLite's own shims report theirs. */
		char *base = *(char **)arg;

		rc = f->real->pMethods->xFileControl(f->real, op, arg);
		if (rc == SQLITE_OK && *(char **)arg != base) {
			char *n = sqlite3_mprintf("gong-gather/%z",
			    *(char **)arg);

			*(char **)arg = n;
		}
		return rc;
	}
	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int
g_sector(sqlite3_file *pf)
{
	struct gfile *f = (struct gfile *)pf;

	return f->real->pMethods->xSectorSize(f->real);
}

static int
g_devchar(sqlite3_file *pf)
{
	struct gfile *f = (struct gfile *)pf;

	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int
g_shm_map(sqlite3_file *pf, int pg, int pgsz, int extend,
    void volatile **pp)
{
	struct gfile *f = (struct gfile *)pf;

	return f->real->pMethods->xShmMap(f->real, pg, pgsz, extend, pp);
}

static int
g_shm_lock(sqlite3_file *pf, int offset, int n, int flags)
{
	struct gfile *f = (struct gfile *)pf;

	return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void
g_shm_barrier(sqlite3_file *pf)
{
	struct gfile *f = (struct gfile *)pf;

	/* Nothing gathered may be unwritten when a commit is published. */
	flush_all();
	f->real->pMethods->xShmBarrier(f->real);
}

static int
g_shm_unmap(sqlite3_file *pf, int del)
{
	struct gfile *f = (struct gfile *)pf;

	return f->real->pMethods->xShmUnmap(f->real, del);
}

static int
g_fetch(sqlite3_file *pf, sqlite3_int64 off, int n, void **pp)
{
	struct gfile *f = (struct gfile *)pf;
	int rc;

	if ((rc = flush(f)) != SQLITE_OK)
		return rc;
	return f->real->pMethods->xFetch(f->real, off, n, pp);
}

static int
g_unfetch(sqlite3_file *pf, sqlite3_int64 off, void *p)
{
	struct gfile *f = (struct gfile *)pf;

	return f->real->pMethods->xUnfetch(f->real, off, p);
}

/* The methods for the underlying file's version (1 to 3). */
static sqlite3_io_methods io_methods[3];

static int
g_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *pf, int flags,
    int *out_flags)
{
	struct gfile *f = (struct gfile *)pf;
	int rc, v;

	(void)vfs;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)((char *)f + ((sizeof(*f) + 15) & ~15u));
	rc = base_vfs->xOpen(base_vfs, name, f->real, flags, out_flags);
	if (f->real->pMethods == NULL) {
		pf->pMethods = NULL;	/* nothing to close */
		return rc;
	}
	v = f->real->pMethods->iVersion;
	pf->pMethods = &io_methods[(v < 1 ? 1 : v > 3 ? 3 : v) - 1];
	if (rc != SQLITE_OK)
		return rc;
	if ((flags & (SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_DB)) &&
	    (f->buf = malloc(GATHER_SIZE)) != NULL &&
	    pthread_mutex_init(&f->mu, NULL) == 0) {
		f->gather = 1;
		f->wal = (flags & SQLITE_OPEN_WAL) != 0;
		(void)pthread_mutex_lock(&files_mu);
		f->next = files;
		if (files != NULL)
			files->prev = f;
		files = f;
		(void)pthread_mutex_unlock(&files_mu);
	} else {
		free(f->buf);
		f->buf = NULL;
	}
	return SQLITE_OK;
}

/* The rest of the VFS is the default one's. */
static int
g_delete(sqlite3_vfs *v, const char *n, int sync)
{
	(void)v;
	return base_vfs->xDelete(base_vfs, n, sync);
}

static int
g_access(sqlite3_vfs *v, const char *n, int flags, int *out)
{
	(void)v;
	return base_vfs->xAccess(base_vfs, n, flags, out);
}

static int
g_fullpath(sqlite3_vfs *v, const char *n, int size, char *out)
{
	(void)v;
	return base_vfs->xFullPathname(base_vfs, n, size, out);
}

static void *
g_dlopen(sqlite3_vfs *v, const char *n)
{
	(void)v;
	return base_vfs->xDlOpen(base_vfs, n);
}

static void
g_dlerror(sqlite3_vfs *v, int n, char *msg)
{
	(void)v;
	base_vfs->xDlError(base_vfs, n, msg);
}

static void
(*g_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
	(void)v;
	return base_vfs->xDlSym(base_vfs, h, sym);
}

static void
g_dlclose(sqlite3_vfs *v, void *h)
{
	(void)v;
	base_vfs->xDlClose(base_vfs, h);
}

static int
g_random(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return base_vfs->xRandomness(base_vfs, n, out);
}

static int
g_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return base_vfs->xSleep(base_vfs, us);
}

static int
g_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return base_vfs->xCurrentTime(base_vfs, out);
}

static int
g_lasterr(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return base_vfs->xGetLastError != NULL ?
	    base_vfs->xGetLastError(base_vfs, n, out) : 0;
}

static int
g_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return base_vfs->xCurrentTimeInt64(base_vfs, out);
}

static void
install(void)
{
	static const sqlite3_io_methods m = {
		3, g_close, g_read, g_write, g_truncate, g_sync, g_size,
		g_lock, g_unlock, g_reserved, g_fcntl, g_sector, g_devchar,
		g_shm_map, g_shm_lock, g_shm_barrier, g_shm_unmap, g_fetch,
		g_unfetch,
	};
	int i;

	if ((base_vfs = sqlite3_vfs_find(NULL)) == NULL ||
	    base_vfs->iVersion < 2 || base_vfs->xCurrentTimeInt64 == NULL)
		return;
	for (i = 0; i < 3; i++) {
		io_methods[i] = m;
		io_methods[i].iVersion = i + 1;
	}
	gather_vfs.iVersion = 2;
	gather_vfs.szOsFile = (int)(((sizeof(struct gfile) + 15) & ~15u) +
	    (size_t)base_vfs->szOsFile);
	gather_vfs.mxPathname = base_vfs->mxPathname;
	gather_vfs.zName = "gong-gather";
	gather_vfs.xOpen = g_open;
	gather_vfs.xDelete = g_delete;
	gather_vfs.xAccess = g_access;
	gather_vfs.xFullPathname = g_fullpath;
	gather_vfs.xDlOpen = g_dlopen;
	gather_vfs.xDlError = g_dlerror;
	gather_vfs.xDlSym = g_dlsym;
	gather_vfs.xDlClose = g_dlclose;
	gather_vfs.xRandomness = g_random;
	gather_vfs.xSleep = g_sleep;
	gather_vfs.xCurrentTime = g_time;
	gather_vfs.xGetLastError = g_lasterr;
	gather_vfs.xCurrentTimeInt64 = g_time64;
	install_rc = sqlite3_vfs_register(&gather_vfs, 1);
}

int
store_vfs_install(void)
{
	(void)pthread_once(&once, install);
	return install_rc == SQLITE_OK ? 0 : ENG_EIO;
}
