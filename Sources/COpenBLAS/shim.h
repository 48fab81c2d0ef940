// Thin shim over OpenBLAS's CBLAS interface (Debian: libopenblas-dev). The cblas.h that
// Debian installs is an alternatives link; OpenBLAS's own header also declares
// openblas_set_num_threads / openblas_get_corename, which the engine uses.
#include <cblas.h>
