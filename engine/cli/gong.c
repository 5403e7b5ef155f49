/*
 * engine/cli/gong.c - `gong`, the command-line client of gongd: main and
 * the table of subcommands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "engine/cli/cli.h"
#include "engine/cli/client.h"

#ifndef GONG_VERSION
#define GONG_VERSION "0"
#endif

static const struct command {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} commands[] = {
	{ "status", cli_status, "gongd's version, uptime, store and counts" },
	{ "regions", cli_regions, "a region, its parents and its subtree" },
	{ "responders", cli_responders, "the responders of a region" },
	{ "devices", cli_devices, "the devices of a region" },
	{ "import", cli_import, "import a roster CSV (regions, responders, "
	    "devices)" },
	{ "backup", cli_backup, "download a consistent copy of the store" },
	{ "roster", cli_roster, "generate demo rosters (roster generate)" },
	{ "cap", cli_cap, "check CAP documents (cap check)" },
	{ "send", cli_send, "send CAP documents to gongd" },
	{ "alerts", cli_alerts, "list the stored alerts, newest first" },
	{ "show", cli_show, "one alert: summary, regions, references "
	    "(--cap: its XML)" },
	{ "plan", cli_plan, "dry run of a CAP file: who would be reached, "
	    "and the texts" },
	{ "issue", cli_issue, "issue a warning from its fields (--dry-run: "
	    "who and what first)" },
	{ "update", cli_update, "update a warning: the fields that change" },
	{ "cancel", cli_cancel, "cancel a warning" },
	{ "pending", cli_pending, "warnings waiting for a second officer's "
	    "approval" },
	{ "approve", cli_approve, "approve a pending warning (second "
	    "officer)" },
	{ "reject", cli_reject, "reject a pending warning" },
	{ "chain", cli_chain, "an alert's chain (Alert, Update, Cancel)" },
	{ "report", cli_report, "an alert's answers (叫应率) per level and "
	    "region" },
	{ "unanswered", cli_unanswered, "who has not answered an alert, "
	    "and the last attempt" },
	{ "answer", cli_answer, "record a responder's answer on their behalf "
	    "(officer)" },
	{ "login", cli_login, "log in as a user; keeps an API token for "
	    "the next commands" },
	{ "logout", cli_logout, "revoke the token gong login kept" },
	{ "users", cli_users, "accounts: list, add, set, disable (admin)" },
	{ "tokens", cli_tokens, "API tokens: list, create, revoke" },
	{ "audit", cli_audit, "the audit trail: who did what, when, from "
	    "where" },
	{ "passwd", cli_passwd, "change your own password" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
	size_t i;

	fputs("usage: gong [options] COMMAND [args]\n\n"
	    "gong talks to gongd, the gong warning engine.\n\nCommands:\n",
	    f);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-11s %s\n", commands[i].name,
		    commands[i].summary);
	fputs("\n'gong COMMAND --help' tells more about a command.\n\n", f);
	fputs(cli_global_help, f);
	fputs("\nExit status: 0 ok, 1 invalid input, 2 usage, 3 gongd "
	    "unreachable,\n4 server error, 5 not authorised, 6 not found, "
	    "7 local failure.\n", f);
}

static const struct command *
find(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	const struct command *cmd;
	char **av, *hv[3];
	int ac, help, rv;

	if ((av = calloc((size_t)argc + 2, sizeof(*av))) == NULL) {
		fputs("gong: error: out of memory\n", stderr);
		return CLI_LOCAL;
	}
	ac = cli_args_reorder(argc, argv, av, &help);
	if (ac == 0) {
		free(av);
		if (argc == 2 && strcmp(argv[1], "--version") == 0) {
			printf("gong %s\n", GONG_VERSION);
			return CLI_OK;
		}
		usage(help ? stdout : stderr);
		return help ? CLI_OK : CLI_USAGE;
	}
	if (strcmp(av[0], "help") == 0) {
		if (ac < 2 || (cmd = find(av[1])) == NULL) {
			usage(stdout);
			free(av);
			return ac < 2 ? CLI_OK : CLI_USAGE;
		}
		hv[0] = av[1];
		hv[1] = (char *)"--help";
		hv[2] = NULL;
		free(av);
		return cmd->fn(2, hv);
	}
	if (strcmp(av[0], "version") == 0) {
		printf("gong %s\n", GONG_VERSION);
		free(av);
		return CLI_OK;
	}
	if ((cmd = find(av[0])) == NULL) {
		fprintf(stderr, "gong: unknown command '%s'\n"
		    "Try 'gong --help'.\n", av[0]);
		free(av);
		return CLI_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(av);
		fputs("gong: error: cannot initialise libcurl\n", stderr);
		return CLI_LOCAL;
	}
	rv = cmd->fn(ac, av);
	curl_global_cleanup();
	free(av);
	return rv;
}
