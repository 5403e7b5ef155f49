
# The CLI's tests (tests/unit/test_cli_*.c) link the objects of
# engine/cli/ but its main(), since bin/gong's files are not in libgong.a.
CLI_TEST_OBJ := $(filter-out %/engine/cli/gong.o,$(CLI_OBJ))
CLI_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/%, \
	     $(wildcard tests/unit/test_cli_*.c))
$(CLI_TESTS): $(CLI_TEST_OBJ)
$(CLI_TESTS): LDFLAGS += $(CLI_TEST_OBJ)
WRAP_test_feeds := ingest_cap ingest_new ingest_free ingest_batch_begin \
	ingest_batch_end ingest_pipe_new
WRAP_test_dispatch := chan_find
WRAP_test_plan := plan_alert
