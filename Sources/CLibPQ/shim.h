#ifndef BALLAST_CLIBPQ_SHIM_H
#define BALLAST_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
