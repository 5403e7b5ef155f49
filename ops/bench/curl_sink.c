/*
 * ops/bench/curl_sink.c - what libcurl alone does against the dispatch
 * benchmark's sink: no outbox, no plan, no rendering.  THREADS threads,
 * each with its own multi handle and CONNS / THREADS keep-alive
 * connections (an easy handle per connection, used again for each of its
 * requests), POST the same JSON body to URL until REQUESTS responses have
 * come back in all.  For ops/bench/bench_dispatch.sh: the ceiling a
 * dispatcher built on libcurl's multi interface has on this machine,
 * measured in the same run as wrk and gongd.
 *
 * usage: curl_sink URL THREADS CONNS REQUESTS BODY
 *
 * Prints one line: "requests N ok N2xx seconds S rate R cpu_s C" (rate =
 * responses per second of wall time; C: the process's user + system CPU
 * time, all threads).  Exit 0, or 1 on a usage or setup
 * error or when a response is not a 2xx.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_THREADS	16
#define MAX_CONNS	1024

struct job {
	const char *url, *body;
	int conns;
	long long quota;	/* this thread's requests */
	long long ok, bad;
	pthread_t tid;
};

static struct curl_slist *headers;

static size_t
discard(void *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static int
setup(CURL *e, const struct job *j)
{
	return curl_easy_setopt(e, CURLOPT_URL, j->url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
}

static void *
run(void *arg)
{
	struct job *j = arg;
	CURLM *m = curl_multi_init();
	long long started = 0, done = 0;
	int i, running, left;
	CURLMsg *msg;
	long code;

	if (m == NULL) {
		j->bad = j->quota;
		return NULL;
	}
	(void)curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)j->conns);
	for (i = 0; i < j->conns && started < j->quota; i++) {
		CURL *e = curl_easy_init();

		if (e == NULL || setup(e, j) ||
		    curl_multi_add_handle(m, e) != CURLM_OK) {
			curl_easy_cleanup(e);
			j->bad = j->quota;
			goto out;
		}
		started++;
	}
	while (done < started) {
		(void)curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			CURL *e = msg->easy_handle;

			if (msg->msg != CURLMSG_DONE)
				continue;
			code = 0;
			(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE,
			    &code);
			if (msg->data.result == CURLE_OK && code >= 200 &&
			    code < 300)
				j->ok++;
			else
				j->bad++;
			done++;
			(void)curl_multi_remove_handle(m, e);
			if (started < j->quota &&
			    curl_multi_add_handle(m, e) == CURLM_OK)
				started++;
			else
				curl_easy_cleanup(e);
		}
		if (done < started)
			(void)curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
out:
	curl_multi_cleanup(m);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct job jobs[MAX_THREADS];
	struct timespec t0, t1;
	struct rusage ru;
	long long requests, ok = 0, bad = 0;
	int threads, conns, i;
	double secs;

	if (argc != 6) {
		fprintf(stderr, "usage: curl_sink URL THREADS CONNS REQUESTS "
		    "BODY\n");
		return 1;
	}
	threads = atoi(argv[2]);
	conns = atoi(argv[3]);
	requests = atoll(argv[4]);
	if (threads < 1 || threads > MAX_THREADS || conns < threads ||
	    conns > MAX_CONNS || requests < 1) {
		fprintf(stderr, "curl_sink: THREADS 1..%d, CONNS THREADS..%d, "
		    "REQUESTS > 0\n", MAX_THREADS, MAX_CONNS);
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_ALL) != 0 ||
	    (headers = curl_slist_append(NULL,
	    "Content-Type: application/json")) == NULL) {
		fprintf(stderr, "curl_sink: libcurl setup failed\n");
		return 1;
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < threads; i++) {
		memset(&jobs[i], 0, sizeof(jobs[i]));
		jobs[i].url = argv[1];
		jobs[i].body = argv[5];
		jobs[i].conns = conns / threads + (i < conns % threads);
		jobs[i].quota = requests / threads + (i < requests % threads);
		if (pthread_create(&jobs[i].tid, NULL, run, &jobs[i]) != 0) {
			fprintf(stderr, "curl_sink: cannot start a thread\n");
			return 1;
		}
	}
	for (i = 0; i < threads; i++) {
		(void)pthread_join(jobs[i].tid, NULL);
		ok += jobs[i].ok;
		bad += jobs[i].bad;
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		memset(&ru, 0, sizeof(ru));
	printf("requests %lld ok %lld seconds %.3f rate %.0f cpu_s %.3f\n",
	    ok + bad, ok, secs, (double)(ok + bad) / secs,
	    (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	curl_slist_free_all(headers);
	curl_global_cleanup();
	return bad == 0 ? 0 : 1;
}
