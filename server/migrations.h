/* The migrations embedded at build time (see embed_migrations.cmake). */
#ifndef RF_MIGRATIONS_H
#define RF_MIGRATIONS_H

typedef struct rf_migration {
    int version;
    const char *name;
    const char *sql;
} rf_migration;

/* Ordered by version; terminated by an entry with version 0. */
extern const rf_migration rf_migrations[];

#endif
