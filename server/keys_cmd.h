/* The `ringfenced keys …` commands: the offline-root ceremony and the
 * rotations (keys_cmd.c: init, show-root and the helpers they share;
 * keys_rotate.c: rotate-root, rotate). Each returns the process exit code
 * (0 done, 1 refused or failed) and prints what it did; none prints a private
 * key. Root keys are loaded only for as long as one signature takes. */
#ifndef RF_KEYS_CMD_H
#define RF_KEYS_CMD_H

#include "config.h"
#include "store.h"
#include "tuf_repo.h"

int keys_cmd_init(const config_cli *cli);
int keys_cmd_show_root(const config_cli *cli);
int keys_cmd_rotate_root(const config_cli *cli);
int keys_cmd_rotate(const config_cli *cli);

/* ---- shared by keys_cmd.c and keys_rotate.c ---- */

/* A set of loaded root keys (private). */
typedef struct keys_set {
    int n;
    rf_key *key[TUF_MAX_ROLE_KEYS];
    tuf_pubkey pub[TUF_MAX_ROLE_KEYS];
} keys_set;

void keys_set_cleanup(keys_set *s); /* frees (wipes) every key */

/* Prints "ringfenced: what: message" on stderr. */
void keys_fail(const char *what, const rf_error *e);
/* Opens the database at this binary's schema; 1 (after printing why) on failure. */
int keys_open_db(const rf_config *cfg, rf_store **store, rf_db **db);
void keys_close_db(rf_store *store, rf_db *db);
/* Loads every DIR/root-N.pem (at most TUF_MAX_ROLE_KEYS); none is not an error. */
rf_err keys_load_root_dir(const char *dir, keys_set *out, rf_error *err);
/* Generates n keys and saves them as DIR/root-1.pem … (0600; DIR made 0700);
 * on failure removes the files it saved. */
rf_err keys_generate_root_dir(const char *dir, int n, keys_set *out, rf_error *err);
/* Removes DIR/root-1.pem … DIR/root-n.pem. */
void keys_remove_root_dir(const char *dir, int n);
/* Keeps in *out only the keys of s that root names as root keys; returns how
 * many (the keys stay owned by s). */
int keys_valid_for_root(const keys_set *s, const tuf_root *root, const rf_key **out);
/* Writes DIR/<version>.root.json (0644). */
rf_err keys_write_root_file(const char *dir, long long version, const rf_buf *body, rf_error *err);
/* Signs root's body with keys[0..n) into out. */
rf_err keys_sign_root(const tuf_root *root, const rf_key *const *keys, size_t n, rf_buf *out,
                      rf_error *err);
/* An integer flag value, or dflt when empty (config_check validated it). */
int keys_count(const char *s, int dflt);

#endif
