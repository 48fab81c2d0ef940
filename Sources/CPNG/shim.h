// Thin shim over libpng 1.6 (Debian: libpng-dev, pkg-config libpng). TTADModel uses only the
// simplified read API (png_image_begin_read_from_memory / png_image_finish_read / png_image_free):
// it reports errors through png_image.message instead of longjmp, which Swift cannot unwind through.
#include <png.h>
