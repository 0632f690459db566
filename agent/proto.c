/* placeholder */
#include "rf_err.h"
