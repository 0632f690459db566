/* agent: the real driver of the protocol state machine — it executes each
 * action with blocking calls (client.c, slots.c, hook.c, state.c,
 * boothealth.c) and feeds the result back as the next event. */
#ifndef AGENT_AGENT_H
#define AGENT_AGENT_H

#include "config.h"

/* Runs until SIGTERM or SIGINT; returns the process exit status (0 after a
 * clean shutdown, 1 when the agent cannot start). cfg must be finished. */
int agent_run(const agent_config *cfg);

#endif
