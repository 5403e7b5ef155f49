/*
 * tests/fuzz/fuzz_cfg.c - libFuzzer target for the config loader: the
 * YAML parser, the tree and every typed check of struct cfg.
 * Seeds: config/gong.example.yaml and the files of tests/data/cfg/.
 */
#include <stddef.h>
#include <stdint.h>

#include "config/cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touch every node, as a driver reading its section would. */
static size_t
walk(const struct cfg_node *n)
{
	size_t i, sum = (size_t)cfg_node_line(n);

	if (cfg_node_kind(n) == CFG_SCALAR)
		return sum + cfg_node_len(n);
	for (i = 0; i < cfg_node_len(n); i++) {
		if (cfg_node_kind(n) == CFG_MAP)
			sum += cfg_node_len(cfg_node_key_node_at(n, i));
		sum += walk(cfg_node_at(n, i));
	}
	return sum;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list d;
	struct cfg *c = NULL;
	volatile size_t sink;

	diag_list_init(&d);
	if (cfg_load_buf((const char *)data, size, "fuzz.yaml", "/nonexistent",
	    &c, &d) == 0)
		sink = walk(c->root);
	(void)sink;
	cfg_free(c);
	diag_list_release(&d);
	return 0;
}
