/*
 * ops/bench/anslink_tokens.c - answer-link tokens (/a/{token}) for the
 * answer benchmark (ops/bench/bench_answers.sh), made by the engine's
 * own anslink_make under the deployment's key, as gongd makes them for
 * the links it sends.
 *
 * usage: anslink_tokens KEY_FILE ALERT_ID EXPIRES_UNIX_SECONDS
 *   reads responder ids from stdin, one a line; writes one token a line.
 *   KEY_FILE is DATA_DIR/answer.key (its first line, as gongd reads it).
 * Exit 0, or 1 with a message on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/anslink.h"

int
main(int argc, char **argv)
{
	char key[256], line[ANSLINK_ID_MAX + 2], tok[ANSLINK_TOKEN_MAX];
	long long alert, exp;
	FILE *f;
	char *end;
	size_t n;
	int rv = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: anslink_tokens KEY_FILE ALERT_ID "
		    "EXPIRES_UNIX_SECONDS <ids\n");
		return 1;
	}
	errno = 0;
	alert = strtoll(argv[2], &end, 10);
	if (errno != 0 || *end != '\0' || alert <= 0) {
		fprintf(stderr, "anslink_tokens: bad alert id\n");
		return 1;
	}
	exp = strtoll(argv[3], &end, 10);
	if (errno != 0 || *end != '\0' || exp <= 0) {
		fprintf(stderr, "anslink_tokens: bad expiry\n");
		return 1;
	}
	if ((f = fopen(argv[1], "r")) == NULL ||
	    fgets(key, sizeof(key), f) == NULL) {
		fprintf(stderr, "anslink_tokens: cannot read %s\n", argv[1]);
		if (f != NULL)
			(void)fclose(f);
		return 1;
	}
	(void)fclose(f);
	key[strcspn(key, "\r\n \t")] = '\0';
	while (fgets(line, sizeof(line), stdin) != NULL) {
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (n == 0)
			continue;
		if (anslink_make(key, strlen(key), line, alert, exp * 1000,
		    tok, sizeof(tok)) != 0) {
			fprintf(stderr, "anslink_tokens: cannot make a token "
			    "for '%s'\n", line);
			goto out;
		}
		if (printf("%s\n", tok) < 0)
			goto out;
	}
	rv = 0;
out:
	return rv;
}
