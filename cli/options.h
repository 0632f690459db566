/* The option tables of the commands (options.c), for the command table. */
#ifndef CLI_OPTIONS_H
#define CLI_OPTIONS_H

#include "cli.h"

extern const cli_opt opts_bundle_push[];
extern const cli_opt opts_download[];
extern const cli_opt opts_channel[];
extern const cli_opt opts_ring_create[];
extern const cli_opt opts_ring_update[];
extern const cli_opt opts_if_version[];
extern const cli_opt opts_ring_preview[];
extern const cli_opt opts_pin[];
extern const cli_opt opts_unpin[];
extern const cli_opt opts_pin_list[];
extern const cli_opt opts_exclude[];
extern const cli_opt opts_rollout_create[];
extern const cli_opt opts_plan_set[];
extern const cli_opt opts_rollout_list[];
extern const cli_opt opts_reason[];
extern const cli_opt opts_approve[];
extern const cli_opt opts_events[];

#endif
