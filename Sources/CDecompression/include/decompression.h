#ifndef TLSSCOPE_DECOMPRESSION_H
#define TLSSCOPE_DECOMPRESSION_H
#include <stdio.h>

/// A stdio stream of the decompressed bytes of the gzip data on `descriptor` (which it takes over), or NULL.
/// glibc's fopencookie with zlib's gzread behind it: libpcap reads a .pcap.gz as it reads any FILE.
/// A corrupt or truncated gzip stream is a read error (ferror), not an early end.
FILE *tlsscope_gzip_stream(int descriptor);

/// The same for zstd data (libzstd's streaming decompression).
FILE *tlsscope_zstd_stream(int descriptor);

#endif
