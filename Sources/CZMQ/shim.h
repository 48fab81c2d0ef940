// Thin shim over libzmq (Debian: libzmq3-dev). Only the C header; the Swift wrapper is TTADZMQ.
#include <zmq.h>
