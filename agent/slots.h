/* slots: the A/B install slots of a channel in the data dir:
 *   DATA/channels/<ch>/download.tmp        the bundle being fetched
 *   DATA/channels/<ch>/slot-a|slot-b/      bundle + meta.json
 *   DATA/channels/<ch>/current -> slot-a   the active slot (absent: none)
 * The active slot is never written; the switch is a rename() of a new symlink
 * over `current`, followed by an fsync of the directory. */
#ifndef AGENT_SLOTS_H
#define AGENT_SLOTS_H

#include "proto.h"
#include "rf_err.h"

#define SLOTS_PATH_MAX 4096

rf_err slots_channel_dir(const char *data, const char *ch, char *out, size_t len);
rf_err slots_download_path(const char *data, const char *ch, char *out, size_t len);
/* DATA/channels/<ch>/slot-<x>/bundle; slot must not be NONE. */
rf_err slots_bundle_path(const char *data, const char *ch, proto_slot slot, char *out, size_t len);
/* mkdir -p of the channel dir (0700). */
rf_err slots_prepare(const char *data, const char *ch, rf_error *err);

/* SHA-256 (hex) and length of a file, reading at most cap+1 bytes. */
rf_err slots_file_sha256(const char *path, int64_t cap, char hex[65], int64_t *len, rf_error *err);
/* RF_OK when the slot's bundle file has b's length and SHA-256; RF_ERR_VERIFY
 * when it differs or is missing. */
rf_err slots_verify(const char *data, const char *ch, proto_slot slot, const proto_bundle *b,
                    rf_error *err);

/* Fills the inactive slot with b: download.tmp (checked again against b's
 * length and SHA-256; removed if it does not match) is renamed to
 * slot/bundle, or an already matching slot/bundle is kept; meta.json is
 * written; file and directories are fsynced. */
rf_err slots_install(const char *data, const char *ch, proto_slot slot, const proto_bundle *b,
                     rf_error *err);
/* Points `current` at slot (NONE: removes it), atomically and durably. */
rf_err slots_switch(const char *data, const char *ch, proto_slot slot, rf_error *err);
/* What `current` points to now (NONE when absent); RF_ERR_INVALID when it
 * points somewhere else. */
rf_err slots_current(const char *data, const char *ch, proto_slot *out, rf_error *err);

#endif
