// Nothing here: the target exists for its header (libFuzzer itself is linked by -sanitize=fuzzer).
#include "CFuzzDriver.h"
