// Thin shim over libjpeg-turbo's TurboJPEG API (Debian: libturbojpeg0-dev, pkg-config libturbojpeg).
// TTADModel uses tjInitDecompress / tjDecompressHeader3 / tjDecompress2 / tjGetErrorStr2 /
// tjGetErrorCode, all present since libjpeg-turbo 2.0.
#include <turbojpeg.h>
