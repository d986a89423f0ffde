// fopencookie needs _GNU_SOURCE, which a Swift module's view of stdio.h does not have: hence C.
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>
#include "decompression.h"

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

// zstd: the same, over ZSTD_decompressStream (a stream may hold several frames, as `zstd` writes them).
struct zstd_cookie {
    int descriptor;
    ZSTD_DCtx *context;
    size_t position, filled;
    size_t pending;  // ZSTD_decompressStream's last hint: 0 when a frame just ended
    unsigned char input[1 << 17];
};

static ssize_t zstd_read(void *cookie, char *buffer, size_t size) {
    struct zstd_cookie *stream = cookie;
    ZSTD_outBuffer output = {buffer, size, 0};
    while (output.pos == 0 && size > 0) {
        if (stream->position == stream->filled) {
            ssize_t count = read(stream->descriptor, stream->input, sizeof stream->input);
            if (count < 0) {
                if (errno == EINTR) continue;
                return -1;
            }
            if (count == 0) {
                // The end of the file in the middle of a frame is damage, not an end.
                if (stream->pending != 0) {
                    errno = EIO;
                    return -1;
                }
                return 0;
            }
            stream->position = 0;
            stream->filled = (size_t)count;
        }
        ZSTD_inBuffer input = {stream->input, stream->filled, stream->position};
        size_t hint = ZSTD_decompressStream(stream->context, &output, &input);
        stream->position = input.pos;
        if (ZSTD_isError(hint)) {
            errno = EIO;
            return -1;
        }
        stream->pending = hint;
    }
    return (ssize_t)output.pos;
}

static int zstd_close(void *cookie) {
    struct zstd_cookie *stream = cookie;
    ZSTD_freeDCtx(stream->context);
    int result = close(stream->descriptor);
    free(stream);
    return result == 0 ? 0 : EOF;
}

FILE *tlsscope_zstd_stream(int descriptor) {
    struct zstd_cookie *stream = calloc(1, sizeof *stream);
    if (stream == NULL) {
        close(descriptor);
        return NULL;
    }
    stream->descriptor = descriptor;
    stream->context = ZSTD_createDCtx();
    stream->pending = 1;  // nothing decompressed yet: an empty stream is damage
    if (stream->context == NULL) {
        close(descriptor);
        free(stream);
        return NULL;
    }
    cookie_io_functions_t functions = {zstd_read, NULL, NULL, zstd_close};
    FILE *file = fopencookie(stream, "rb", functions);
    if (file == NULL) zstd_close(stream);
    return file;
}
