import CDecompression

#if canImport(Glibc)
import Glibc
#endif

/// A compressed capture (a rotated `.pcap.gz` or `.pcap.zst`) as a stdio stream that libpcap reads from:
/// zlib or libzstd decompresses as libpcap reads (CDecompression: `fopencookie` over `gzread` or
/// `ZSTD_decompressStream`), with no temporary file and no external decompressor. A corrupt or truncated
/// stream is a read error, which libpcap reports as a damaged capture (exit 3, the records before it kept).
enum CompressedCapture {
    /// Takes over `file` (closing it) and returns a stream of its decompressed bytes from the start; nil
    /// when zlib cannot start.
    static func open(_ file: UnsafeMutablePointer<FILE>, zstd: Bool = false) -> UnsafeMutablePointer<FILE>? {
        let descriptor = dup(fileno(file))
        fclose(file)
        guard descriptor >= 0 else { return nil }
        _ = lseek(descriptor, 0, SEEK_SET)
        return zstd ? tlsscope_zstd_stream(descriptor) : tlsscope_gzip_stream(descriptor)
    }

    /// gzip (1f 8b) or zstd (28 b5 2f fd) by the file's first bytes; nil for anything else.
    static func compression(ofFirstBytes bytes: [UInt8]) -> Compression? {
        if bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b { return .gzip }
        if bytes.count >= 4 && bytes[0] == 0x28 && bytes[1] == 0xb5 && bytes[2] == 0x2f && bytes[3] == 0xfd { return .zstd }
        return nil
    }

    enum Compression: String {
        case gzip, zstd
    }
}
