// fopencookie needs _GNU_SOURCE, which a Swift module's view of stdio.h does not have: hence C.
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <zlib.h>
#include "gzip_stream.h"

static ssize_t gzip_read(void *cookie, char *buffer, size_t size) {
    unsigned int want = size > (1u << 30) ? (1u << 30) : (unsigned int)size;
    int count = gzread((gzFile)cookie, buffer, want);
    if (count < 0) {
        errno = EIO;
        return -1;
    }
    // gzread returns what it could of a truncated stream and then 0: that is damage, not an end.
    if (count == 0) {
        int code = Z_OK;
        gzerror((gzFile)cookie, &code);
        if ((code != Z_OK && code != Z_STREAM_END) || !gzeof((gzFile)cookie)) {
            errno = EIO;
            return -1;
        }
    }
    return count;
}

static int gzip_close(void *cookie) {
    return gzclose((gzFile)cookie) == Z_OK ? 0 : EOF;
}

FILE *tlsscope_gzip_stream(int descriptor) {
    gzFile gz = gzdopen(descriptor, "rb");
    if (gz == NULL) {
        close(descriptor);
        return NULL;
    }
    gzbuffer(gz, 1 << 17);
    cookie_io_functions_t functions = {gzip_read, NULL, NULL, gzip_close};
    FILE *stream = fopencookie(gz, "rb", functions);
    if (stream == NULL) gzclose(gz);
    return stream;
}
