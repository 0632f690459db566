/* agent: the real driver of the protocol state machine — it executes each
 * action with blocking calls (client.c, slots.c, hook.c, state.c,
 * boothealth.c) and feeds the result back as the next event. */
#ifndef AGENT_AGENT_H
#define AGENT_AGENT_H

#include "config.h"

/* Runs until SIGTERM or SIGINT; returns the process exit status (0 after a
 * clean shutdown, 1 when the agent cannot start). cfg must be finished. */
int agent_run(const agent_config *cfg);

/* `ringfence-agent bootguard` (bootguard_run.c): one pass at early boot; 0
 * when it ran (rolled back or not) or nothing is installed yet, 1 when the
 * state could not be read or a rollback could not be done. cfg must be finished. */
int bootguard_run(const agent_config *cfg);

#endif
