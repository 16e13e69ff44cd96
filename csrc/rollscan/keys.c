/* The keys the rules ask for at each level of a line, and where their values go. */
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

static const jkeys *const TOP_CHILDREN[N_TOP] = {[T_PAYLOAD] = &PAY_KEYS};
static const jkeys *const PAY_CHILDREN[N_PAY] = {
    [P_INFO] = &INFO_KEYS,       [P_LIMITS] = &LIMIT_KEYS, [P_SETTINGS] = &SETTINGS_KEYS,
    [P_SOURCE] = &SOURCE_KEYS,   [P_USAGE] = &RECORD_USAGE_KEYS};
static const jkeys *const INFO_CHILDREN[N_INFO] = {[I_TOTAL] = &TOTAL_USAGE_KEYS,
                                                   [I_LAST] = &LAST_USAGE_KEYS};
static const jkeys *const LIMIT_CHILDREN[N_LIMIT] = {[L_PRIMARY] = &PRIMARY_KEYS,
                                                     [L_SECONDARY] = &SECONDARY_KEYS};

#define KEYS(names, base, children) {names, (int)(sizeof names / sizeof names[0]), base, children, {0}}
jkeys TOP_KEYS = KEYS(TOP_NAMES, B_TOP, TOP_CHILDREN);
jkeys PAY_KEYS = KEYS(PAY_NAMES, B_PAY, PAY_CHILDREN);
jkeys INFO_KEYS = KEYS(INFO_NAMES, B_INFO, INFO_CHILDREN);
jkeys TOTAL_USAGE_KEYS = KEYS(USAGE_NAMES, B_TOTAL, NULL);
jkeys LAST_USAGE_KEYS = KEYS(USAGE_NAMES, B_LAST, NULL);
jkeys RECORD_USAGE_KEYS = KEYS(USAGE_NAMES, B_RECORD, NULL);
jkeys LIMIT_KEYS = KEYS(LIMIT_NAMES, B_LIMITS, LIMIT_CHILDREN);
jkeys PRIMARY_KEYS = KEYS(WINDOW_NAMES, B_PRIMARY, NULL);
jkeys SECONDARY_KEYS = KEYS(WINDOW_NAMES, B_SECONDARY, NULL);
jkeys SETTINGS_KEYS = KEYS(TIER_NAMES, B_SETTINGS, NULL);
jkeys SOURCE_KEYS = KEYS(SUBAGENT_NAMES, B_SOURCE, NULL);

void roll_init(void) {
    jscan_init();
    jkeys *all[] = {&TOP_KEYS,          &PAY_KEYS,       &INFO_KEYS,      &TOTAL_USAGE_KEYS,
                    &LAST_USAGE_KEYS,   &RECORD_USAGE_KEYS, &LIMIT_KEYS,  &PRIMARY_KEYS,
                    &SECONDARY_KEYS,    &SETTINGS_KEYS,  &SOURCE_KEYS};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) jkeys_init(all[i]);
}
