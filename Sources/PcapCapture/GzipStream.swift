import CGzipStream

#if canImport(Glibc)
import Glibc
#endif

/// A gzip-compressed capture (a rotated `.pcap.gz`) as a stdio stream that libpcap reads from: zlib
/// decompresses as libpcap reads (CGzipStream: `fopencookie` over `gzread`), with no temporary file and no
/// external decompressor. A corrupt or truncated gzip stream is a read error, which libpcap reports as a
/// damaged capture (exit 3, the records before it kept).
enum GzipStream {
    /// Takes over `file` (closing it) and returns a stream of its decompressed bytes from the start; nil
    /// when zlib cannot start.
    static func open(_ file: UnsafeMutablePointer<FILE>) -> UnsafeMutablePointer<FILE>? {
        let descriptor = dup(fileno(file))
        fclose(file)
        guard descriptor >= 0 else { return nil }
        _ = lseek(descriptor, 0, SEEK_SET)
        return tlsscope_gzip_stream(descriptor)
    }
}
