// The system zlib (Debian: zlib1g-dev), for SPDY/3.1's compressed header blocks.
#include <zlib.h>
