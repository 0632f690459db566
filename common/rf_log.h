/* JSON log lines on stderr: {"ts":"…","level":"info","msg":"…", …}.
 * Thread-safe; one write(2) per line. Never logs secrets (tokens, keys). */
#ifndef RF_LOG_H
#define RF_LOG_H

typedef enum rf_log_level { RF_LOG_DEBUG, RF_LOG_INFO, RF_LOG_WARN, RF_LOG_ERROR } rf_log_level;

void rf_log_set_level(rf_log_level min);
void rf_log_set_component(const char *name); /* "server", "agent", … (borrowed, static) */
/* kv: NULL-terminated list of key, value string pairs added to the line. */
void rf_log(rf_log_level lvl, const char *msg, ...) __attribute__((sentinel));
/* Printf-style message without extra fields. */
void rf_logf(rf_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
