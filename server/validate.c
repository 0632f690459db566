/* The input rules of docs/api.md, as plain functions over strings and JSON
 * values. They never allocate and never trust a length they did not check;
 * messages quote field names, never values that could be large. */
#include "validate.h"
#include "rf_util.h"

#include <string.h>

static int is_slug_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static int is_version_char(unsigned char c)
{
    return is_slug_char(c) || (c >= 'A' && c <= 'Z') || c == '+';
}

static int is_token_name_char(unsigned char c)
{
    return is_slug_char(c) || (c >= 'A' && c <= 'Z') || c == '@';
}

static int all_of(const char *s, size_t max, int (*ok)(unsigned char))
{
    size_t n = 0;

    if (!s)
        return 0;
    for (; s[n]; n++)
        if (n >= max || !ok((unsigned char)s[n]))
            return 0;
    return n >= 1;
}

rf_err validate_slug(const char *field, const char *value, rf_error *err)
{
    if (all_of(value, 64, is_slug_char))
        return RF_OK;
    return rf_error_set(err, RF_ERR_INVALID,
                        "field '%s': must be a string of 1-64 characters [a-z0-9._-]", field);
}

rf_err validate_version(const char *field, const char *value, rf_error *err)
{
    if (all_of(value, 64, is_version_char))
        return RF_OK;
    return rf_error_set(err, RF_ERR_INVALID,
                        "field '%s': must be a string of 1-64 characters [A-Za-z0-9._+-]", field);
}

rf_err validate_token_name(const char *field, const char *value, rf_error *err)
{
    if (all_of(value, 64, is_token_name_char))
        return RF_OK;
    return rf_error_set(err, RF_ERR_INVALID,
                        "field '%s': must be a string of 1-64 characters [A-Za-z0-9._@-]", field);
}

static int printable(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

rf_err validate_labels(const char *field, const json_t *labels, rf_error *err)
{
    const char *key;
    json_t *v;

    if (!json_is_object(labels))
        return rf_error_set(err, RF_ERR_INVALID, "field '%s': must be an object of string labels",
                            field);
    if (json_object_size(labels) > VALIDATE_MAX_LABELS)
        return rf_error_set(err, RF_ERR_INVALID, "field '%s': at most %d labels", field,
                            VALIDATE_MAX_LABELS);
    json_object_foreach((json_t *)labels, key, v)
    {
        if (!all_of(key, 64, is_slug_char))
            return rf_error_set(err, RF_ERR_INVALID,
                                "field '%s': label keys must be 1-64 characters [a-z0-9._-]",
                                field);
        if (!json_is_string(v) || !printable(json_string_value(v), VALIDATE_LABEL_VALUE_MAX) ||
            strlen(json_string_value(v)) != json_string_length(v))
            return rf_error_set(err, RF_ERR_INVALID,
                                "field '%s.%s': must be a string of at most 128 printable "
                                "characters",
                                field, key);
    }
    return RF_OK;
}

rf_err validate_device_id(const char *field, const char *value, rf_error *err)
{
    size_t n = 0;

    for (; value && value[n]; n++) {
        char c = value[n];
        if (n >= 32 || !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            break;
    }
    if (value && n == 32 && value[32] == '\0')
        return RF_OK;
    return rf_error_set(err, RF_ERR_INVALID, "field '%s': must be 32 lower-case hex digits", field);
}

rf_err validate_known_fields(const json_t *obj, const char *const *allowed, rf_error *err)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)obj, key, v)
    {
        int known = 0;
        (void)v;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(key, allowed[i]) == 0)
                known = 1;
        if (!known) {
            char shown[65];
            size_t n = strlen(key);
            if (n >= sizeof(shown))
                n = sizeof(shown) - 1;
            memcpy(shown, key, n);
            shown[n] = '\0';
            return rf_error_set(err, RF_ERR_INVALID, "field '%s': unknown field", shown);
        }
    }
    return RF_OK;
}

rf_err validate_int(const char *field, const json_t *v, long long min, long long max,
                    long long *out, rf_error *err)
{
    long long x;

    if (!json_is_integer(v))
        return rf_error_set(err, RF_ERR_INVALID, "field '%s': must be an integer", field);
    x = (long long)json_integer_value(v);
    if (x < min || x > max)
        return rf_error_set(err, RF_ERR_INVALID, "field '%s': must be between %lld and %lld", field,
                            min, max);
    *out = x;
    return RF_OK;
}

int validate_path_id(const char *s, long long *out)
{
    return s && rf_parse_ll(s, 1, 9007199254740992LL, out) == RF_OK;
}
