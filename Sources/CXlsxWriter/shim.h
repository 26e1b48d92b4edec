#ifndef BALLAST_CXLSXWRITER_SHIM_H
#define BALLAST_CXLSXWRITER_SHIM_H
#include <xlsxwriter.h>
#endif
