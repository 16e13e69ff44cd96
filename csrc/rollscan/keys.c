/* The keys the rules ask for at each level of a line. */
#include "fields.h"

static const char *const TOP_NAMES[] = {"type", "payload", "timestamp"};
static const char *const PAY_NAMES[] = {
    "type",   "info",      "rate_limits",    "model",          "cwd",
    "service_tier", "thread_settings", "id", "timestamp", "forked_from_id",
    "parent_thread_id", "thread_source", "source", "usage", "response_id"};
static const char *const INFO_NAMES[] = {"total_token_usage", "last_token_usage", "model"};
static const char *const USAGE_NAMES[] = {
    "input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens",
    "total_tokens", "cache_write_input_tokens"};
static const char *const LIMIT_NAMES[] = {"limit_id", "plan_type", "primary", "secondary",
                                          "primary_used_percent", "secondary_used_percent"};
static const char *const WINDOW_NAMES[] = {"window_minutes", "used_percent", "resets_at",
                                           "resets_in_seconds", "reset_after_seconds"};
static const char *const TIER_NAMES[] = {"service_tier"};
static const char *const SUBAGENT_NAMES[] = {"subagent"};

#define KEYS(names) {names, (int)(sizeof names / sizeof names[0]), {0}}
jkeys TOP_KEYS = KEYS(TOP_NAMES), PAY_KEYS = KEYS(PAY_NAMES),
                   INFO_KEYS = KEYS(INFO_NAMES), USAGE_KEYS = KEYS(USAGE_NAMES),
                   LIMIT_KEYS = KEYS(LIMIT_NAMES), WINDOW_KEYS = KEYS(WINDOW_NAMES),
                   TIER_KEYS = KEYS(TIER_NAMES), SUBAGENT_KEYS = KEYS(SUBAGENT_NAMES);

void roll_init(void) {
    jscan_init();
    jkeys *all[] = {&TOP_KEYS,    &PAY_KEYS,   &INFO_KEYS, &USAGE_KEYS,
                    &LIMIT_KEYS,  &WINDOW_KEYS, &TIER_KEYS, &SUBAGENT_KEYS};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) jkeys_init(all[i]);
}

